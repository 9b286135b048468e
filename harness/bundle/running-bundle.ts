/**
 * The bundle that runs now in this thread, for what must be attributed to it
 * from outside its call chain: console output from user code (its logger) and
 * errors that escape it (a throwing timer callback, a rejected promise nobody
 * awaited).
 *
 * While only one bundle runs in the thread (always in a pool thread, and for
 * sequential bundles inline) it is simply "the" bundle, with no async context
 * at all. An AsyncLocalStorage context is used only for bundles that start
 * while another one runs, and it is switched off again when no bundle runs:
 * an enabled AsyncLocalStorage makes every promise of the process pay
 * async_hooks bookkeeping.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";

/** A bundle's logger, or a function that makes it on first use (most bundles never log). */
export type LoggerSource = Logger | (() => Logger);

export interface RunningBundle {
  readonly instructionId: string;
  readonly logger: LoggerSource;
  /** True once the bundle's run ended (an error now can no longer fail it). */
  readonly ended: boolean;
  /** Fails the bundle with an error raised outside its call chain (the first one wins). */
  fail(error: unknown): void;
}

const storage = new AsyncLocalStorage<RunningBundle>();
/** Bundles running in this thread. */
let running = 0;
/** The bundle that started while no other ran (no async context). */
let solo: RunningBundle | undefined;

class Bundle implements RunningBundle {
  ended = false;
  readonly failed: Promise<never>;
  private rejectFailed!: (error: unknown) => void;

  constructor(
    readonly instructionId: string,
    readonly logger: LoggerSource,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
  }

  fail(error: unknown): void {
    if (!this.ended) this.rejectFailed(error);
  }
}

/**
 * Runs a bundle's `fn` as the current bundle: console output of its code goes
 * to `logger`, and `fail()` (stray errors) rejects the run with that error
 * even while `fn` is still pending.
 */
export async function runBundle<T>(
  instructionId: string,
  logger: LoggerSource,
  fn: () => Promise<T>,
): Promise<T> {
  const bundle = new Bundle(instructionId, logger);
  const isSolo = running === 0;
  running++;
  try {
    const work = (isSolo ? ((solo = bundle), fn()) : storage.run(bundle, fn)).then(
      afterRejectionsReported,
    );
    work.catch(() => undefined); // a stray failure may win the race; work's own error is then moot
    return await Promise.race([work, bundle.failed]);
  } finally {
    bundle.ended = true;
    running--;
    if (isSolo) solo = undefined;
    if (running === 0) storage.disable();
  }
}

/**
 * Resolves with `value` one event-loop turn later: Node reports unhandled
 * rejections after the task that made them, so a promise a bundle's code
 * rejected and dropped is reported while the bundle still counts as running.
 */
function afterRejectionsReported<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value));
}

/** The bundle whose code runs now: the async context's, else the only running one. */
export function currentBundle(): RunningBundle | undefined {
  return storage.getStore() ?? solo;
}

/** The bundle of the async context only (undefined in the solo case). */
export function contextBundle(): RunningBundle | undefined {
  return storage.getStore();
}
