/**
 * The runner registry: `Pipeline.run()` hands the pipeline proto and its
 * options to the runner named by `--runner`. Runners register themselves on
 * import (`registerRunner`); the built-in ones are imported on first use.
 */
import type { pipelineApi } from "../../proto/index.js";
import type { PipelineOptions } from "./options.js";

/** What a runner reports when a pipeline ends. */
export interface PipelineResult {
  /** The terminal state. */
  readonly state: "DONE" | "FAILED" | "CANCELLED";
  /** Anything else the runner reports (metrics, timings, ...). */
  readonly [detail: string]: unknown;
}

export type Runner = (
  pipeline: pipelineApi.Pipeline,
  options: PipelineOptions,
) => Promise<PipelineResult>;

const runners = new Map<string, Runner>();

/** Sees the result of every `Pipeline.run()`, whichever runner ran it. */
export type RunListener = (runner: string, result: PipelineResult) => void;
const listeners = new Set<RunListener>();

/** Adds a run listener (the `firefly run` command's summary); returns its removal. */
export function onPipelineRun(listener: RunListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Built-in runners: name → module (relative to this file) that registers it on import. */
const BUILTIN_RUNNER_MODULES: Record<string, string> = {
  local: "../runner/index.js",
  portable: "../jobs/portable-runner.js",
};

export function registerRunner(name: string, runner: Runner): void {
  if (typeof runner !== "function")
    throw new TypeError(`registerRunner(${JSON.stringify(name)}): the runner must be a function`);
  runners.set(name, runner);
}

export function registeredRunners(): string[] {
  return [...runners.keys()].sort();
}

export class UnknownRunnerError extends Error {
  constructor(name: string, cause?: unknown) {
    super(
      `unknown runner ${JSON.stringify(name)} (registered runners: ${registeredRunners().join(", ") || "none"})`,
      { cause },
    );
    this.name = "UnknownRunnerError";
  }
}

/** The runner of this name, importing a built-in one on first use. */
export async function findRunner(name: string): Promise<Runner> {
  let runner = runners.get(name);
  const builtin = BUILTIN_RUNNER_MODULES[name];
  let cause: unknown;
  if (!runner && builtin) {
    try {
      await import(builtin);
    } catch (err) {
      cause = err;
    }
    runner = runners.get(name);
  }
  if (!runner) throw new UnknownRunnerError(name, cause);
  const run = runner;
  return async (pipeline, options) => {
    const result = await run(pipeline, options);
    for (const listener of listeners) listener(name, result);
    return result;
  };
}
