/**
 * Captures `console.*` from user code: while a bundle runs (inside
 * `runWithLogger`), console output becomes structured log records of that
 * bundle's logger (worker and instruction ids), so it reaches stderr as JSON
 * and the runner's logging service like every other record. Outside bundles
 * it goes to the default logger. Installed once per thread.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { Logger } from "pino";

const storage = new AsyncLocalStorage<Logger>();
let installed = false;

export function runWithLogger<T>(logger: Logger, fn: () => T): T {
  return storage.run(logger, fn);
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

export function installConsoleCapture(fallback: Logger): void {
  if (installed) return;
  installed = true;
  for (const [method, level] of METHODS) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const logger = storage.getStore() ?? fallback;
      logger[level]({ source: "console" }, format(...args));
    };
  }
}
