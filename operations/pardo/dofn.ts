/**
 * The DoFn contract (README "Writing DoFns"): the export a `firefly:dofn:v1`
 * payload names is a function (taken as `process`), a DoFn object, or a
 * class whose instances are DoFn objects. Every method is optional except
 * `process`, and each may be async. `lazyIterables: true` asks for
 * state-backed iterables as they are (see state-backed-iterables.ts).
 */
import type { MaybePromise } from "../operation.js";
import { UserCodeSpecError } from "../user-code/user-code-spec.js";

export type ProcessResult = Iterable<unknown> | AsyncIterable<unknown> | undefined | null | void;

export interface DoFn {
  setup?(config: unknown): MaybePromise;
  startBundle?(ctx: unknown): MaybePromise;
  process(element: unknown, ctx: unknown): ProcessResult | Promise<ProcessResult>;
  finishBundle?(ctx: unknown): MaybePromise;
  teardown?(): MaybePromise;
  /** Receive large groups as `StateBackedIterable`s (`for await`) instead of arrays. */
  lazyIterables?: boolean;
  onTimer?: Record<
    string,
    (timer: unknown, ctx: unknown) => ProcessResult | Promise<ProcessResult>
  >;
}

function isClass(fn: (...args: unknown[]) => unknown): boolean {
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) return true;
  const proto = (fn as { prototype?: Record<string, unknown> }).prototype;
  return proto !== undefined && typeof proto.process === "function";
}

/** A fresh DoFn instance for one processor (a class is constructed; an object gets its own instance). */
export function instantiateDoFn(exported: unknown, what: string): DoFn {
  if (typeof exported === "function") {
    if (isClass(exported as (...args: unknown[]) => unknown)) {
      const instance = new (exported as new () => DoFn)();
      return validate(instance, what);
    }
    return { process: exported as DoFn["process"] };
  }
  if (exported !== null && typeof exported === "object") {
    return validate(Object.create(exported) as DoFn, what);
  }
  throw new UserCodeSpecError(
    `${what} is ${exported === null ? "null" : typeof exported}, not a function, DoFn object or class`,
  );
}

function validate(dofn: DoFn, what: string): DoFn {
  if (typeof dofn.process !== "function")
    throw new UserCodeSpecError(`${what} has no process method`);
  for (const method of ["setup", "startBundle", "finishBundle", "teardown"] as const) {
    const m = (dofn as unknown as Record<string, unknown>)[method];
    if (m !== undefined && typeof m !== "function")
      throw new UserCodeSpecError(`${what}.${method} is not a function`);
  }
  if (dofn.lazyIterables !== undefined && typeof dofn.lazyIterables !== "boolean") {
    throw new UserCodeSpecError(`${what}.lazyIterables must be true or false`);
  }
  if (dofn.onTimer !== undefined && (typeof dofn.onTimer !== "object" || dofn.onTimer === null)) {
    throw new UserCodeSpecError(`${what}.onTimer must be an object of timer callbacks by family`);
  }
  return dofn;
}
