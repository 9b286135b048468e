/**
 * Captures `console.*` from user code: while a bundle runs, console output
 * becomes structured log records of that bundle's logger (worker and
 * instruction ids; see running-bundle.ts for how the running bundle is
 * known), so it reaches stderr as JSON and the runner's logging service like
 * every other record. Outside bundles it goes to the default logger.
 * Installed once per thread.
 */
import { format } from "node:util";
import type { Logger } from "pino";
import { currentBundle } from "../bundle/running-bundle.js";

let installed = false;

/** The logger console output goes to from the current code. */
function currentLogger(fallback: Logger): Logger {
  const source = currentBundle()?.logger;
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
