/**
 * gRPC channel settings shared by every client the harness opens.
 *
 * Message sizes: Beam's harnesses lift gRPC's 4 MB default (Python uses
 * unlimited, Java Integer.MAX_VALUE); elements can be larger than one Data
 * message anyway, but state responses and descriptors can be large.
 * Keepalive: Java gRPC servers reject pings more often than every 5 minutes
 * (GOAWAY too_many_pings), so the default pings every 6 minutes and only while
 * streams are open: enough to keep idle streams alive through NATs for hours.
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
