/**
 * gRPC channel settings shared by every client the harness opens.
 *
 * Message sizes: Beam's harnesses lift gRPC's 4 MB default (Python passes -1,
 * unlimited; Java's ManagedChannelFactory and the runner's ServerFactory use
 * Integer.MAX_VALUE); elements can span several Data messages anyway, but
 * state responses, descriptors and one large element's output can be large.
 *
 * Keepalive: a gRPC server enforces a minimum ping interval (grpc-java's
 * default `permitKeepAliveTime` is 5 minutes, grpc-core's
 * `min_recv_ping_interval_without_data` also 5 minutes) and answers a client
 * that pings more often with GOAWAY `too_many_pings`, which kills every
 * stream. Beam's runner-side ServerFactory permits pings every 20 s, but an
 * engine embedding the Fn API may keep the defaults, so Firefly pings every
 * 6 minutes (above every default policy) and only while streams are open
 * (the control stream always is): enough to keep idle streams through NATs
 * and load balancers for hours, never enough to be disconnected.
 *
 * Each value can be overridden by a pipeline option (see
 * `GRPC_SETTING_OPTIONS`), e.g. `--firefly_grpc_keepalive_time_ms=60000`
 * for a runner known to permit more frequent pings.
 */
import * as grpc from "@grpc/grpc-js";

export interface GrpcSettings {
  /** @default 2147483647 (2 GiB - 1) */
  maxMessageBytes: number;
  /** @default 360000 */
  keepaliveTimeMs: number;
  /** @default 20000 */
  keepaliveTimeoutMs: number;
}

export const DEFAULT_GRPC_SETTINGS: GrpcSettings = {
  maxMessageBytes: 2 ** 31 - 1,
  keepaliveTimeMs: 360_000,
  keepaliveTimeoutMs: 20_000,
};

/** The pipeline options that override each setting. */
export const GRPC_SETTING_OPTIONS: Readonly<Record<keyof GrpcSettings, string>> = {
  maxMessageBytes: "firefly_grpc_max_message_bytes",
  keepaliveTimeMs: "firefly_grpc_keepalive_time_ms",
  keepaliveTimeoutMs: "firefly_grpc_keepalive_timeout_ms",
};

/** The smallest message size accepted: gRPC's own default (4 MiB). */
export const MIN_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Settings from pipeline options (numbers or numeric strings), on top of
 * `base`. A wrong value is a TypeError naming the option.
 */
export function grpcSettingsFromOptions(
  options: Readonly<Record<string, unknown>>,
  base: GrpcSettings = DEFAULT_GRPC_SETTINGS,
): GrpcSettings {
  const out = { ...base };
  for (const key of Object.keys(GRPC_SETTING_OPTIONS) as (keyof GrpcSettings)[]) {
    const name = GRPC_SETTING_OPTIONS[key];
    const raw = options[name];
    if (raw === undefined || raw === null || raw === "") continue;
    const value = typeof raw === "string" ? Number(raw) : raw;
    const min = key === "maxMessageBytes" ? MIN_MESSAGE_BYTES : 1;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
      throw new TypeError(
        `pipeline option ${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`,
      );
    out[key] = Math.min(value, 2 ** 31 - 1);
  }
  return out;
}

export function channelOptions(
  settings: GrpcSettings = DEFAULT_GRPC_SETTINGS,
): grpc.ChannelOptions {
  return {
    "grpc.max_receive_message_length": settings.maxMessageBytes,
    "grpc.max_send_message_length": settings.maxMessageBytes,
    "grpc.keepalive_time_ms": settings.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": settings.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 0,
  };
}

/** The `worker_id` metadata every stream to the runner carries. */
export function workerMetadata(workerId: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("worker_id", workerId);
  return metadata;
}

/**
 * Turns an `ApiServiceDescriptor.url` into a grpc-js target. Runners send
 * `host:port`, sometimes with a scheme; an empty url is an error.
 */
export function grpcTarget(url: string): string {
  const trimmed = url.trim();
  if (trimmed === "") throw new Error("empty ApiServiceDescriptor url");
  return trimmed.replace(/^(https?|grpc):\/\//, "");
}
