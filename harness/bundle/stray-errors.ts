/**
 * Errors that escape user code outside a bundle's call chain: a timer
 * callback that throws, a promise rejected with nobody awaiting it, a DoFn
 * that calls `process.exit()`. One rule in both modes (inline and pool
 * threads): an error that can be tied to a bundle still running fails that
 * bundle; one that cannot is logged with what is known and fails nothing else.
 *
 * Tying: timer and microtask callbacks scheduled while a bundle runs remember
 * it (the global `setTimeout`, `setInterval`, `setImmediate` and
 * `queueMicrotask` are wrapped, at no cost for callbacks scheduled outside
 * bundles); an unhandled rejection belongs to the bundle running when it is
 * reported (the end of the task that made it); another uncaught exception
 * belongs to the bundle of its async context, if any. `process.exit()` called
 * while a bundle runs throws instead, failing that bundle.
 */
import { promisify } from "node:util";
import type { Logger } from "pino";
import { contextBundle, currentBundle, type RunningBundle } from "./running-bundle.js";

/** An error from user code that escaped its bundle's call chain. */
export class StrayUserError extends Error {
  constructor(
    readonly instructionId: string,
    how: string,
    cause: unknown,
  ) {
    super(
      `${how} in user code of bundle ${instructionId}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = "StrayUserError";
  }
}

/** `process.exit()` called by user code while a bundle ran. */
export class UserExitError extends Error {
  constructor(code: unknown) {
    super(
      `user code called process.exit(${code === undefined ? "" : String(code)}) in a bundle: the worker does not exit; return or throw instead`,
    );
    this.name = "UserExitError";
  }
}

let installed = false;

/** Installs the handlers and wrappers in this thread, once. */
export function installStrayErrorHandling(logger: Logger | (() => Logger)): void {
  if (installed) return;
  installed = true;
  let resolved: Logger | undefined;
  const log = (): Logger => (resolved ??= typeof logger === "function" ? logger() : logger);

  const stray = (error: unknown, how: string, owner: RunningBundle | undefined): void => {
    if (owner && !owner.ended) {
      owner.fail(new StrayUserError(owner.instructionId, how, error));
      return;
    }
    log().error(
      { err: error, instructionId: owner?.instructionId },
      owner
        ? `${how} in user code of bundle ${owner.instructionId} after it ended (ignored)`
        : `${how} outside any bundle (ignored)`,
    );
  };

  process.on("uncaughtException", (error) => stray(error, "uncaught error", contextBundle()));
  process.on("unhandledRejection", (reason) =>
    stray(reason, "unhandled promise rejection", currentBundle()),
  );

  const guard = <A extends unknown[]>(
    callback: (...args: A) => unknown,
    owner: RunningBundle,
    how: string,
  ) =>
    function (this: unknown, ...args: A): unknown {
      try {
        return callback.apply(this, args);
      } catch (error) {
        stray(error, how, owner);
        return undefined;
      }
    };

  const wrapScheduler = <F extends (callback: never, ...rest: never[]) => unknown>(
    name: "setTimeout" | "setInterval" | "setImmediate" | "queueMicrotask",
  ): void => {
    const original = globalThis[name] as unknown as F;
    const how = `uncaught error in a ${name} callback`;
    const wrapped = function (this: unknown, callback: unknown, ...rest: unknown[]): unknown {
      const owner = currentBundle();
      const fn =
        owner !== undefined && typeof callback === "function"
          ? guard(callback as (...a: unknown[]) => unknown, owner, how)
          : callback;
      return (original as unknown as (...a: unknown[]) => unknown).call(this, fn, ...rest);
    };
    const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
    if (custom !== undefined) Object.defineProperty(wrapped, promisify.custom, { value: custom });
    (globalThis as unknown as Record<string, unknown>)[name] = wrapped;
  };
  wrapScheduler("setTimeout");
  wrapScheduler("setInterval");
  wrapScheduler("setImmediate");
  wrapScheduler("queueMicrotask");

  originalExit = process.exit;
  process.exit = ((code?: number | string | null) => {
    if (currentBundle() !== undefined) throw new UserExitError(code);
    return originalExit!.call(process, code);
  }) as typeof process.exit;
}

let originalExit: typeof process.exit | undefined;

/**
 * Gives `process.exit` back its own behaviour (the worker is stopping: a bundle
 * stuck in user code must not keep the process from exiting).
 */
export function restoreProcessExit(): void {
  if (originalExit !== undefined) process.exit = originalExit;
}
