/**
 * Captures `console.*` from user code: while a bundle runs (inside
 * `runWithLogger`), console output becomes structured log records of that
 * bundle's logger (worker and instruction ids), so it reaches stderr as JSON
 * and the runner's logging service like every other record. Outside bundles
 * it goes to the default logger. Installed once per thread.
 *
 * Which bundle is running: while only one runs in the thread (always in a
 * pool thread, and for sequential bundles inline) it is simply "the" bundle,
 * with no async context at all. An AsyncLocalStorage context is used only for
 * bundles that start while another one runs, and it is switched off again
 * when no bundle runs: an enabled AsyncLocalStorage makes every promise of
 * the process pay async_hooks bookkeeping.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { Logger } from "pino";

/** A bundle's logger, or a function that makes it on first use (most bundles never log). */
export type LoggerSource = Logger | (() => Logger);

const storage = new AsyncLocalStorage<LoggerSource>();
let installed = false;
/** Bundles running in this thread (inside runWithLogger). */
let running = 0;
/** The logger of the bundle that started while no other ran (no async context). */
let solo: LoggerSource | undefined;

/** Runs a bundle's `fn` with `logger` as the target of console output from its code. */
export async function runWithLogger<T>(logger: LoggerSource, fn: () => Promise<T>): Promise<T> {
  if (!installed) return fn();
  const isSolo = running === 0;
  running++;
  try {
    if (isSolo) {
      solo = logger;
      return await fn();
    }
    return await storage.run(logger, fn);
  } finally {
    running--;
    if (isSolo) solo = undefined;
    if (running === 0) storage.disable();
  }
}

/** The logger console output goes to from the current code. */
function currentLogger(fallback: Logger): Logger {
  const source = storage.getStore() ?? solo;
  if (source === undefined) return fallback;
  return typeof source === "function" ? source() : source;
}

type Level = "trace" | "debug" | "info" | "warn" | "error";

const METHODS: [keyof Console, Level][] = [
  ["log", "info"],
  ["info", "info"],
  ["debug", "debug"],
  ["trace", "trace"],
  ["warn", "warn"],
  ["error", "error"],
];

/** Installs the capture once; `fallback` is built only on the first call. */
export function installConsoleCapture(fallback: Logger | (() => Logger)): void {
  if (installed) return;
  installed = true;
  const logger = typeof fallback === "function" ? fallback() : fallback;
  for (const [method, level] of METHODS) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      currentLogger(logger)[level]({ source: "console" }, format(...args));
    };
  }
}
