/**
 * Harness configuration: the public options (every field documented, with its
 * default), and `compileHarnessConfig`, which fills the defaults and validates
 * (a wrong value is a TypeError naming the option).
 */
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { DEFAULT_FLUSH_POLICY, type FlushPolicy } from "./data/element-sink.js";
import { grpcSettingsFromOptions, type GrpcSettings } from "./grpc-settings.js";
import { DEFAULT_MAX_STATE_READ_BYTES } from "./state/state-channel.js";

export interface HarnessOptions {
  /** The worker id the runner assigned (sent as `worker_id` metadata). */
  workerId: string;
  /** The runner's control endpoint (`host:port`). */
  controlUrl: string;
  /** The runner's logging endpoint; logs go to stderr only when absent. */
  loggingUrl?: string;
  /** The runner's worker-status endpoint, if it has one. */
  statusUrl?: string;
  /** Flush an outbound data stream at this many bytes. @default 1000000 */
  dataBufferSizeLimit?: number;
  /** Flush an outbound data stream this long after its first unflushed element; 0 = only by size. @default 100 */
  dataBufferTimeLimitMs?: number;
  /** Inbound bytes buffered over all bundles before the data stream is paused. @default 67108864 */
  maxInboundBufferedBytes?: number;
  /** Data for an instruction that never starts is dropped after this long. @default 300000 */
  orphanDataTimeoutMs?: number;
  /** State cache capacity in bytes. @default 104857600 */
  stateCacheBytes?: number;
  /** Bundle threads: 0 runs bundles inline on the main thread. @default os.availableParallelism() */
  threads?: number;
  /** Log level of pool threads. @default "info" */
  logLevel?: string;
  /** Serve Prometheus metrics on this port (0 = any free port); off when absent. */
  metricsPort?: number;
  /** Host of the metrics endpoint. @default "127.0.0.1" */
  metricsHost?: string;
  /** Also export user counters to Prometheus (labels: transform, namespace, name). @default false */
  prometheusUserCounters?: boolean;
  /** Turn `console.*` into structured log records (worker and instruction ids); `firefly boot` turns it on. @default false */
  captureConsole?: boolean;
  /**
   * Tie errors that escape user code (throwing timer callbacks, unhandled
   * rejections, `process.exit()` in a DoFn) to their bundle and fail it; log
   * the others (installs process-wide handlers; `firefly boot` turns it on).
   * Pool threads always do this. @default false
   */
  handleStrayErrors?: boolean;
  /**
   * With pool threads, run a bundle on the conductor when its descriptor's
   * recent bundles were all quick (small-bundle-policy.ts); pipeline option
   * `firefly_inline_small_bundles`. @default handleStrayErrors (on under `firefly boot`)
   */
  inlineSmallBundles?: boolean;
  /**
   * A bundle in a pool thread counts as quick (for inlineSmallBundles) when it
   * took at most this many ms; on the conductor, 2/5 of it. Pipeline option
   * `firefly_small_bundle_ms`. @default 5
   */
  smallBundleMs?: number;
  /** Heap limit of each pool thread in MiB: a runaway bundle kills only its thread. @default 4096 */
  maxThreadHeapMb?: number;
  /** Largest single element a data source accepts, in bytes. @default 536870912 */
  maxElementBytes?: number;
  /**
   * Largest state value one read gathers over its pages, in bytes (a runner whose
   * continuation tokens never end); pipeline option `firefly_max_state_read_bytes`.
   * @default 1073741824
   */
  maxStateReadBytes?: number;
  /** The pipeline's options (from provisioning), visible to DoFns as `ctx.options`. @default {} */
  pipelineOptions?: Record<string, unknown>;
  /**
   * Sample elements of every PCollection for `sample_data` requests. @default
   * true when the pipeline option `experiments` has `enable_data_sampling`
   * (Beam's switch), else false.
   */
  dataSampling?: boolean;
  /** After the first 10 elements of a PCollection, sample one per this period. @default 30000 */
  dataSamplingPeriodMs?: number;
  /** gRPC message size limit. @default 2147483647 */
  maxMessageBytes?: number;
  /** The logger (pino); a child with `worker_id` is made from it. */
  logger: Logger;
}

export interface HarnessConfig {
  workerId: string;
  controlUrl: string;
  loggingUrl: string | undefined;
  statusUrl: string | undefined;
  flushPolicy: FlushPolicy;
  maxInboundBufferedBytes: number;
  orphanDataTimeoutMs: number;
  stateCacheBytes: number;
  threads: number;
  logLevel: string;
  metricsPort: number | undefined;
  metricsHost: string;
  prometheusUserCounters: boolean;
  captureConsole: boolean;
  handleStrayErrors: boolean;
  inlineSmallBundles: boolean;
  smallBundleMs: number;
  maxElementBytes: number;
  maxStateReadBytes: number;
  maxThreadHeapMb: number;
  pipelineOptions: Record<string, unknown>;
  /** Data sampling settings; undefined when sampling is off. */
  dataSampling: { firstN: number; everyMs: number; maxSamples: number } | undefined;
  grpc: GrpcSettings;
  logger: Logger;
}

function positiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(
      `options.${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${value}`,
    );
  }
  return value;
}

/** A pipeline option given as a number or a numeric string (undefined when absent). */
function integerOption(
  options: Record<string, unknown> | undefined,
  name: string,
): number | undefined {
  const value = options?.[name];
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new TypeError(
      `pipeline option ${name} must be a positive integer, got ${JSON.stringify(value)}`,
    );
  return n;
}

/** A boolean pipeline option (true/false or "true"/"false"; undefined when absent). */
function booleanOption(
  options: Record<string, unknown> | undefined,
  name: string,
): boolean | undefined {
  const value = options?.[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new TypeError(
    `pipeline option ${name} must be true or false, got ${JSON.stringify(value)}`,
  );
}

/** Whether Beam's `experiments` option (a list or a comma-separated string) names `name`. */
function hasExperiment(options: Record<string, unknown> | undefined, name: string): boolean {
  const experiments = options?.experiments;
  const list = Array.isArray(experiments)
    ? experiments
    : typeof experiments === "string"
      ? experiments.split(",")
      : [];
  return list.some((e) => typeof e === "string" && e.trim() === name);
}

export function compileHarnessConfig(options: HarnessOptions): HarnessConfig {
  if (!options.workerId) throw new TypeError("options.workerId is required");
  if (!options.controlUrl) throw new TypeError("options.controlUrl is required");
  return {
    workerId: options.workerId,
    controlUrl: options.controlUrl,
    loggingUrl: options.loggingUrl || undefined,
    statusUrl: options.statusUrl || undefined,
    flushPolicy: {
      flushBytes: positiveInteger(
        "dataBufferSizeLimit",
        options.dataBufferSizeLimit,
        DEFAULT_FLUSH_POLICY.flushBytes,
      ),
      flushMs: positiveInteger(
        "dataBufferTimeLimitMs",
        options.dataBufferTimeLimitMs,
        DEFAULT_FLUSH_POLICY.flushMs,
        true,
      ),
    },
    maxInboundBufferedBytes: positiveInteger(
      "maxInboundBufferedBytes",
      options.maxInboundBufferedBytes,
      64 * 1024 * 1024,
    ),
    orphanDataTimeoutMs: positiveInteger(
      "orphanDataTimeoutMs",
      options.orphanDataTimeoutMs,
      300_000,
    ),
    stateCacheBytes: positiveInteger(
      "stateCacheBytes",
      options.stateCacheBytes,
      100 * 1024 * 1024,
      true,
    ),
    threads: positiveInteger("threads", options.threads, availableParallelism(), true),
    logLevel: options.logLevel ?? "info",
    metricsPort:
      options.metricsPort === undefined
        ? undefined
        : positiveInteger("metricsPort", options.metricsPort, 0, true),
    metricsHost: options.metricsHost ?? "127.0.0.1",
    prometheusUserCounters: options.prometheusUserCounters ?? false,
    captureConsole: options.captureConsole ?? false,
    handleStrayErrors: options.handleStrayErrors ?? false,
    inlineSmallBundles:
      options.inlineSmallBundles ??
      booleanOption(options.pipelineOptions, "firefly_inline_small_bundles") ??
      options.handleStrayErrors ??
      false,
    smallBundleMs: positiveInteger(
      "smallBundleMs",
      options.smallBundleMs ?? integerOption(options.pipelineOptions, "firefly_small_bundle_ms"),
      5,
    ),
    maxElementBytes: positiveInteger("maxElementBytes", options.maxElementBytes, 512 * 1024 * 1024),
    maxStateReadBytes: positiveInteger(
      "maxStateReadBytes",
      options.maxStateReadBytes ??
        integerOption(options.pipelineOptions, "firefly_max_state_read_bytes"),
      DEFAULT_MAX_STATE_READ_BYTES,
    ),
    maxThreadHeapMb: positiveInteger("maxThreadHeapMb", options.maxThreadHeapMb, 4096),
    pipelineOptions: { ...(options.pipelineOptions ?? {}) },
    dataSampling:
      (options.dataSampling ?? hasExperiment(options.pipelineOptions, "enable_data_sampling"))
        ? {
            firstN: 10,
            maxSamples: 10,
            everyMs: positiveInteger("dataSamplingPeriodMs", options.dataSamplingPeriodMs, 30_000),
          }
        : undefined,
    grpc: {
      ...grpcSettingsFromOptions(options.pipelineOptions ?? {}),
      maxMessageBytes: positiveInteger(
        "maxMessageBytes",
        options.maxMessageBytes,
        grpcSettingsFromOptions(options.pipelineOptions ?? {}).maxMessageBytes,
      ),
    },
    logger: options.logger.child({ worker_id: options.workerId }),
  };
}
