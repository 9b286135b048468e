/**
 * The local runner (`--runner=local`, the default): `runPipeline(pipelineProto,
 * options)`, registered as "local" in the pipeline builder's runner registry
 * on import. `firefly run` observes the runs through `setRunObserver`.
 */
import type { pipelineApi } from "../../proto/index.js";
import { registerRunner, type PipelineOptions } from "../pipeline/index.js";
import {
  runPipeline,
  type LocalRunnerOptions,
  type PipelineResult,
  type Progress,
} from "./local-runner.js";

export {
  combinerLiftingAvailable,
  runPipeline,
  type LocalRunnerOptions,
  type PipelineError,
  type PipelineResult,
  type Progress,
  type StageSummary,
} from "./local-runner.js";
export type { UserMetric } from "./exec/metrics.js";

/** Sees every run of the "local" runner (the `firefly run` command's progress line and summary). */
export interface RunObserver {
  onProgress?(progress: Progress): void;
  onResult?(result: PipelineResult): void;
}

let observer: RunObserver | undefined;

export function setRunObserver(next: RunObserver | undefined): void {
  observer = next;
}

function integerOption(options: PipelineOptions, name: string): number | undefined {
  const raw = options.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Pipeline option: GroupByKey groups above this many encoded bytes go as state-backed iterables (0: never). */
export const STATE_BACKED_ITERABLE_THRESHOLD_OPTION = "firefly_state_backed_iterable_threshold";

/** Local-runner settings from pipeline options (`--threads`, `--workers`, `--gbk_memory_mb`, ...). */
export function localRunnerOptions(options: PipelineOptions): LocalRunnerOptions {
  const memoryMb = integerOption(options, "gbk_memory_mb");
  const bundleKb = integerOption(options, "max_bundle_kb");
  const stateBackedThreshold = integerOption(options, STATE_BACKED_ITERABLE_THRESHOLD_OPTION);
  const lift = options.get("lift_combiners");
  const spillDir = options.get("spill_dir");
  const logLevel = options.get("log_level");
  const dynamicSplits = options.get("dynamic_splits");
  return {
    threads: options.threads,
    workers: options.workers,
    ...(memoryMb === undefined ? {} : { memoryBudgetBytes: memoryMb * 1024 * 1024 }),
    ...(bundleKb === undefined ? {} : { maxBundleBytes: Math.max(1, bundleKb) * 1024 }),
    ...(stateBackedThreshold === undefined
      ? {}
      : { stateBackedIterableThreshold: stateBackedThreshold }),
    ...(lift === undefined ? {} : { liftCombiners: lift === true || lift === "true" }),
    ...(typeof spillDir === "string" ? { spillDir } : {}),
    ...(typeof logLevel === "string" ? { logLevel } : {}),
    ...(dynamicSplits === undefined
      ? {}
      : { dynamicSplits: dynamicSplits !== false && dynamicSplits !== "false" }),
    verbose: options.get("verbose") === true,
    pipelineOptions: { ...options.values },
  };
}

registerRunner("local", async (pipeline: pipelineApi.Pipeline, options: PipelineOptions) => {
  const watching = observer;
  const result = await runPipeline(pipeline, {
    ...localRunnerOptions(options),
    ...(watching?.onProgress ? { onProgress: (p: Progress) => watching.onProgress?.(p) } : {}),
  });
  watching?.onResult?.(result);
  return result;
});
