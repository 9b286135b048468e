/**
 * MonitoringInfo construction (Beam's metrics.proto): URNs, types, labels and
 * payload encodings, and the short-id table runners use to receive metrics as
 * `monitoring_data` (short id → payload) and resolve them with
 * `monitoring_infos` metadata requests.
 */
import { ByteWriter } from "../../coders/index.js";
import { metricsApi } from "../../proto/index.js";

export const URNS = {
  elementCount: "beam:metric:element_count:v1",
  sampledByteSize: "beam:metric:sampled_byte_size:v1",
  startBundleMsecs: "beam:metric:pardo_execution_time:start_bundle_msecs:v1",
  processBundleMsecs: "beam:metric:pardo_execution_time:process_bundle_msecs:v1",
  finishBundleMsecs: "beam:metric:pardo_execution_time:finish_bundle_msecs:v1",
  totalMsecs: "beam:metric:ptransform_execution_time:total_msecs:v1",
  readIndex: "beam:metric:data_channel:read_index:v1",
  userSumInt64: "beam:metric:user:sum_int64:v1",
  userSumDouble: "beam:metric:user:sum_double:v1",
  userDistributionInt64: "beam:metric:user:distribution_int64:v1",
  userDistributionDouble: "beam:metric:user:distribution_double:v1",
  userLatestInt64: "beam:metric:user:latest_int64:v1",
  userLatestDouble: "beam:metric:user:latest_double:v1",
} as const;

export const TYPES = {
  sumInt64: "beam:metrics:sum_int64:v1",
  sumDouble: "beam:metrics:sum_double:v1",
  distributionInt64: "beam:metrics:distribution_int64:v1",
  distributionDouble: "beam:metrics:distribution_double:v1",
  latestInt64: "beam:metrics:latest_int64:v1",
  latestDouble: "beam:metrics:latest_double:v1",
} as const;

export const LABELS = {
  transform: "PTRANSFORM",
  pcollection: "PCOLLECTION",
  namespace: "NAMESPACE",
  name: "NAME",
} as const;

const scratch = new ByteWriter(64);

function encoded(write: (w: ByteWriter) => void): Uint8Array {
  scratch.reset();
  write(scratch);
  return scratch.finish();
}

/** Payload of a sum_int64 (a varint). */
export function int64Payload(value: number | bigint): Uint8Array {
  return encoded((w) => w.writeVarInt(value));
}

/** Payload of a sum_double (big-endian IEEE double). */
export function doublePayload(value: number): Uint8Array {
  return encoded((w) => w.writeDouble(value));
}

/** Payload of a distribution_int64: count, sum, min, max as varints. */
export function distributionInt64Payload(d: {
  count: number;
  sum: number | bigint;
  min: number | bigint;
  max: number | bigint;
}): Uint8Array {
  return encoded((w) => {
    w.writeVarInt(d.count);
    w.writeVarInt(d.sum);
    w.writeVarInt(d.min);
    w.writeVarInt(d.max);
  });
}

/** Payload of a distribution_double: count as varint, then sum, min, max as doubles. */
export function distributionDoublePayload(d: {
  count: number;
  sum: number;
  min: number;
  max: number;
}): Uint8Array {
  return encoded((w) => {
    w.writeVarInt(d.count);
    w.writeDouble(d.sum);
    w.writeDouble(d.min);
    w.writeDouble(d.max);
  });
}

/** Payload of a latest_* metric: timestamp millis as varint, then the value. */
export function latestPayload(
  timestampMillis: number,
  value: number,
  isDouble: boolean,
): Uint8Array {
  return encoded((w) => {
    w.writeVarInt(timestampMillis);
    if (isDouble) w.writeDouble(value);
    else w.writeVarInt(value);
  });
}

export function monitoringInfo(
  urn: string,
  type: string,
  labels: Record<string, string>,
  payload: Uint8Array,
): metricsApi.MonitoringInfo {
  return new metricsApi.MonitoringInfo({
    urn,
    type,
    labels: new Map(Object.entries(labels)),
    payload,
  });
}

/**
 * Stable short ids for MonitoringInfos (by urn, type and labels). Process-wide:
 * a runner may ask for the metadata of an id it saw in any earlier response.
 */
export class ShortIdTable {
  private readonly ids = new Map<string, string>();
  private readonly infos = new Map<string, metricsApi.MonitoringInfo>();

  shortIdOf(info: metricsApi.MonitoringInfo): string {
    const labels = [...info.labels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([info.urn, info.type, labels]);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = `m${(this.ids.size + 1).toString(36)}`;
      this.ids.set(key, id);
      this.infos.set(
        id,
        new metricsApi.MonitoringInfo({
          urn: info.urn,
          type: info.type,
          labels: new Map(info.labels),
        }),
      );
    }
    return id;
  }

  /** The metadata (a MonitoringInfo without payload) of a short id. */
  metadata(shortId: string): metricsApi.MonitoringInfo | undefined {
    return this.infos.get(shortId);
  }

  /** `monitoring_data` for a response: short id → payload. */
  toMonitoringData(infos: readonly metricsApi.MonitoringInfo[]): Map<string, Uint8Array> {
    const data = new Map<string, Uint8Array>();
    for (const info of infos) data.set(this.shortIdOf(info), info.payload);
    return data;
  }
}
