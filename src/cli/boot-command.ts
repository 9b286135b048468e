/**
 * `firefly boot`: start one SDK harness worker (PROCESS mode, and the Docker
 * image's entrypoint). Flags follow Beam's boot convention, in both
 * `--flag=value` and `--flag value` forms. Endpoints that are not flags come
 * from `GetProvisionInfo` when `--provision_endpoint` is given.
 */
import { parseArgs } from "node:util";
import {
  addUserCodeRoot,
  allowModulesFromAnywhere,
} from "../../operations/user-code/load-user-code.js";
import type { pipelineApi } from "../../proto/index.js";
import { privateScratchDir, retrieveArtifacts, type ScratchDir } from "../boot/artifacts.js";
import { FnHarness } from "../../harness/fn-harness.js";
import { LogForwarder } from "../../harness/logging/log-forwarder.js";
import { createHarnessLogger } from "../../harness/logging/logger.js";
import { DEFAULT_GRPC_SETTINGS } from "../../harness/grpc-settings.js";
import {
  normalizePipelineOptions,
  redactedOptions,
  type PipelineOptions,
} from "../boot/pipeline-options.js";
import { fetchProvisionInfo } from "../boot/provision.js";
import { structToJson } from "../boot/struct-json.js";
import type { Command } from "./main.js";

const FLAGS = {
  id: { type: "string" },
  worker_id: { type: "string" },
  control_endpoint: { type: "string" },
  logging_endpoint: { type: "string" },
  provision_endpoint: { type: "string" },
  artifact_endpoint: { type: "string" },
  status_endpoint: { type: "string" },
  semi_persist_dir: { type: "string" },
  threads: { type: "string" },
  connect_timeout_ms: { type: "string" },
  log_level: { type: "string" },
  metrics_port: { type: "string" },
  metrics_host: { type: "string" },
  thread_heap_mb: { type: "string" },
  orphan_data_timeout_ms: { type: "string" },
  max_element_bytes: { type: "string" },
  max_inbound_buffered_bytes: { type: "string" },
  data_sampling: { type: "boolean" },
} as const;

export interface BootSettings {
  workerId: string;
  controlUrl: string | undefined;
  loggingUrl: string | undefined;
  provisionUrl: string | undefined;
  artifactUrl: string | undefined;
  statusUrl: string | undefined;
  semiPersistDir: string | undefined;
  connectTimeoutMs: number;
  logLevel: string | undefined;
  /** From --threads; undefined = pipeline option firefly_threads, else one per core. */
  threads: number | undefined;
  metricsPort: number | undefined;
  metricsHost: string | undefined;
  threadHeapMb: number | undefined;
  orphanDataTimeoutMs: number | undefined;
  maxElementBytes: number | undefined;
  /** Inbound bytes held before the data stream is paused (memory bound). */
  maxInboundBufferedBytes: number | undefined;
  /** --data_sampling; else the pipeline's `experiments` decide (enable_data_sampling). */
  dataSampling: boolean | undefined;
}

function portFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(
      `firefly boot: --${name} must be a port (0..65535), got ${JSON.stringify(value)}`,
    );
  return n;
}

function positiveFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(
      `firefly boot: --${name} must be a positive integer, got ${JSON.stringify(value)}`,
    );
  return n;
}

function threadsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(
      `firefly boot: --threads must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  return n;
}

/**
 * Beam's environment-variable form (what Python's `sdk_worker_main` reads when a
 * runner starts the SDK directly): an `ApiServiceDescriptor` in protobuf text
 * format, e.g. `url: "localhost:12345"`; a bare `host:port` is accepted too.
 */
function descriptorUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const url = /\burl\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? (/^[^\s:"]+:\d+$/.test(text) ? text : "");
  if (!url) {
    throw new Error(
      `firefly boot: ${name} must be an ApiServiceDescriptor in text format (url: "host:port"), got ${JSON.stringify(text)}`,
    );
  }
  return url;
}

export function parseBootFlags(args: string[], env: NodeJS.ProcessEnv = process.env): BootSettings {
  const { values } = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false });
  const workerId = values.id ?? values.worker_id ?? env.WORKER_ID;
  if (!workerId)
    throw new Error("firefly boot: --id is required (the worker id the runner assigned)");
  const timeout = Number(values.connect_timeout_ms ?? 60_000);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new Error(
      `firefly boot: --connect_timeout_ms must be a positive number, got ${values.connect_timeout_ms}`,
    );
  }
  return {
    workerId,
    controlUrl: values.control_endpoint ?? descriptorUrl(env, "CONTROL_API_SERVICE_DESCRIPTOR"),
    loggingUrl: values.logging_endpoint ?? descriptorUrl(env, "LOGGING_API_SERVICE_DESCRIPTOR"),
    provisionUrl:
      values.provision_endpoint ?? descriptorUrl(env, "PROVISION_API_SERVICE_DESCRIPTOR"),
    artifactUrl: values.artifact_endpoint ?? descriptorUrl(env, "ARTIFACT_API_SERVICE_DESCRIPTOR"),
    statusUrl: values.status_endpoint ?? descriptorUrl(env, "STATUS_API_SERVICE_DESCRIPTOR"),
    semiPersistDir: values.semi_persist_dir ?? env.SEMI_PERSISTENT_DIRECTORY,
    connectTimeoutMs: timeout,
    logLevel: values.log_level,
    threads: threadsFlag(values.threads),
    metricsPort: portFlag("metrics_port", values.metrics_port),
    metricsHost: values.metrics_host,
    threadHeapMb: positiveFlag("thread_heap_mb", values.thread_heap_mb),
    orphanDataTimeoutMs: positiveFlag("orphan_data_timeout_ms", values.orphan_data_timeout_ms),
    maxElementBytes: positiveFlag("max_element_bytes", values.max_element_bytes),
    maxInboundBufferedBytes: positiveFlag(
      "max_inbound_buffered_bytes",
      values.max_inbound_buffered_bytes,
    ),
    dataSampling: values.data_sampling,
  };
}

export async function boot(settings: BootSettings): Promise<number> {
  const log = createHarnessLogger({ level: settings.logLevel });
  const logger = log.logger.child({ worker_id: settings.workerId });
  let controlUrl = settings.controlUrl;
  let loggingUrl = settings.loggingUrl;
  let statusUrl = settings.statusUrl;
  let options: PipelineOptions = {};
  let artifactUrl = settings.artifactUrl;
  let dependencies: pipelineApi.ArtifactInformation[] = [];
  if (settings.provisionUrl) {
    const info = await fetchProvisionInfo(
      settings.provisionUrl,
      settings.workerId,
      settings.connectTimeoutMs,
    );
    controlUrl ||= info.control_endpoint?.url || undefined;
    loggingUrl ||= info.logging_endpoint?.url || undefined;
    statusUrl ||= info.status_endpoint?.url || undefined;
    artifactUrl ||= info.artifact_endpoint?.url || undefined;
    dependencies = info.dependencies;
    if (info.has_pipeline_options)
      options = normalizePipelineOptions(structToJson(info.pipeline_options));
    logger.info(
      {
        options: redactedOptions(options),
        runnerCapabilities: info.runner_capabilities,
        dependencies: info.dependencies.length,
      },
      "provisioned",
    );
  }
  if (!controlUrl) {
    throw new Error(
      "firefly boot: no control endpoint: pass --control_endpoint or a --provision_endpoint that provides one",
    );
  }
  if (options.firefly_allow_any_module === true) allowModulesFromAnywhere(true);
  // Artifacts go to a private directory: a given --semi_persist_dir is checked,
  // else a fresh one (a predictable /tmp path could be planted by another user).
  let scratch: ScratchDir | undefined;
  if (dependencies.length > 0) {
    if (!artifactUrl)
      throw new Error(
        "firefly boot: the pipeline has dependencies but no artifact endpoint was given",
      );
    scratch = privateScratchDir(settings.semiPersistDir);
    try {
      const { dir, installed } = await retrieveArtifacts({
        url: artifactUrl,
        workerId: settings.workerId,
        dependencies,
        semiPersistDir: scratch.dir,
      });
      addUserCodeRoot(dir);
      logger.info(
        { dir, artifacts: installed.map((a) => ({ name: a.name, reused: a.reused })) },
        "staged artifacts installed",
      );
    } catch (err) {
      scratch.remove();
      throw err;
    }
  }
  if (loggingUrl) {
    log.attachForwarder(
      new LogForwarder(loggingUrl, { workerId: settings.workerId, grpc: DEFAULT_GRPC_SETTINGS }),
    );
  }
  const optionThreads = options.firefly_threads;
  const harness = new FnHarness({
    workerId: settings.workerId,
    controlUrl,
    loggingUrl,
    statusUrl,
    threads:
      settings.threads ??
      (optionThreads === undefined ? undefined : threadsFlag(String(optionThreads))),
    logLevel: settings.logLevel,
    captureConsole: true,
    handleStrayErrors: true,
    pipelineOptions: options,
    maxThreadHeapMb: settings.threadHeapMb,
    orphanDataTimeoutMs: settings.orphanDataTimeoutMs,
    maxElementBytes: settings.maxElementBytes,
    maxInboundBufferedBytes: settings.maxInboundBufferedBytes,
    dataSampling: settings.dataSampling,
    metricsPort:
      settings.metricsPort ??
      (options.firefly_metrics_port === undefined
        ? undefined
        : portFlag("firefly_metrics_port", String(options.firefly_metrics_port))),
    metricsHost:
      settings.metricsHost ??
      (typeof options.firefly_metrics_host === "string" ? options.firefly_metrics_host : undefined),
    logger: log.logger,
  });
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "stopping on signal");
    void harness.stop();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await harness.waitForRunner(settings.connectTimeoutMs);
    await harness.run();
    return 0;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    scratch?.remove();
    await log.close();
  }
}

export const bootCommand: Command = {
  name: "boot",
  summary: "start an SDK harness worker (PROCESS mode; the Docker entrypoint)",
  usage: `usage: firefly boot --id=ID --control_endpoint=H:P [options]
       firefly boot --id=ID --provision_endpoint=H:P [options]

Starts one SDK harness worker, as a runner does in PROCESS mode (also the Docker
image's entrypoint, /opt/apache/beam/boot). Flags take --flag=value or --flag value.
Endpoints not given as flags come from GetProvisionInfo when a provision endpoint
is given, or from Beam's environment variables (WORKER_ID, SEMI_PERSISTENT_DIRECTORY,
CONTROL_API_SERVICE_DESCRIPTOR, LOGGING_/PROVISION_/ARTIFACT_/STATUS_API_SERVICE_DESCRIPTOR).
The worker serves until the runner ends the control stream, or SIGTERM/SIGINT.

options:
  --id=ID, --worker_id=ID      the worker id the runner assigned (required)
  --control_endpoint=H:P       BeamFnControl (and Data, State) of the runner
  --logging_endpoint=H:P       BeamFnLogging
  --provision_endpoint=H:P     ProvisionService (endpoints and pipeline options)
  --artifact_endpoint=H:P      ArtifactRetrievalService (staged modules)
  --status_endpoint=H:P        BeamFnWorkerStatus
  --semi_persist_dir=DIR       where artifacts are installed: owned by this user,
                               not group/world-writable   default a fresh private dir
  --threads=N                  bundle threads; 0 = inline        default one per core
  --connect_timeout_ms=MS      wait for the runner's endpoints   default 60000
  --log_level=LEVEL            pino level                        default info
  --metrics_port=P             Prometheus endpoint (/metrics)    default off
  --metrics_host=H             its address                       default 127.0.0.1
  --thread_heap_mb=M           heap limit of each pool thread    default 4096
  --orphan_data_timeout_ms=MS  drop data of bundles never asked for   default 300000
  --max_element_bytes=B        largest element a data source accepts  default 512 MiB
  --max_inbound_buffered_bytes=B  inbound data held before the data stream
                               is paused (all bundles)           default 64 MiB
  --data_sampling              sample elements for sample_data   default off
  --help, -h                   print this help`,
  async run(args) {
    return boot(parseBootFlags(args));
  },
};
