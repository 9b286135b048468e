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
  workCompleted: "beam:metric:ptransform_progress:completed:v1",
  workRemaining: "beam:metric:ptransform_progress:remaining:v1",
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
  progress: "beam:metrics:progress:v1",
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
  // A copy: payloads are a few bytes, and finish() would allocate a new buffer each time.
  return scratch.toBytes();
}

/** Payload of a progress value: an iterable of one double (int32 count, then the big-endian double). */
export function progressPayload(value: number): Uint8Array {
  return encoded((w) => {
    w.writeInt32BE(1);
    w.writeDouble(value);
  });
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

/** Labels as the MonitoringInfo map (a shared, never-mutated Map is used as is). */
export type Labels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

export function monitoringInfo(
  urn: string,
  type: string,
  labels: Labels,
  payload: Uint8Array,
): metricsApi.MonitoringInfo {
  return new metricsApi.MonitoringInfo({
    urn,
    type,
    labels: labels instanceof Map ? labels : new Map(Object.entries(labels)),
    payload,
  });
}

/** Interned label maps beyond this many are built afresh (bounds memory on odd metric names). */
const MAX_INTERNED_LABELS = 10_000;
const internedLabels = new Map<string, ReadonlyMap<string, string>>();
/** Every map internLabels handed out (read-only by contract, so ids can be cached by identity). */
const readOnlyLabels = new WeakSet<ReadonlyMap<string, string>>();

/**
 * One shared, read-only label map per distinct set of labels: MonitoringInfos
 * of every bundle reuse it (no per-bundle Map), and ShortIdTable resolves it
 * by identity. Never mutate the returned map.
 */
export function internLabels(...pairs: string[]): ReadonlyMap<string, string> {
  const key = pairs.join("\u0000");
  let labels = internedLabels.get(key);
  if (labels === undefined) {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) map.set(pairs[i]!, pairs[i + 1]!);
    labels = map;
    readOnlyLabels.add(labels);
    if (internedLabels.size < MAX_INTERNED_LABELS) internedLabels.set(key, labels);
  }
  return labels;
}

/** A MonitoringInfo as plain data (structured-clone friendly: pool threads post these). */
export interface PlainMonitoringInfo {
  urn: string;
  type: string;
  /** Label names and values, alternating. */
  labels: string[];
  payload: Uint8Array;
}

export function toPlain(info: metricsApi.MonitoringInfo): PlainMonitoringInfo {
  const labels: string[] = [];
  for (const [name, value] of info.labels) labels.push(name, value);
  return { urn: info.urn, type: info.type, labels, payload: info.payload };
}

/** The MonitoringInfo of plain data, with interned labels. */
export function fromPlain(plain: PlainMonitoringInfo): metricsApi.MonitoringInfo {
  return monitoringInfo(plain.urn, plain.type, internLabels(...plain.labels), plain.payload);
}

/**
 * Stable short ids for MonitoringInfos (by urn, type and labels). Process-wide:
 * a runner may ask for the metadata of an id it saw in any earlier response.
 */
export class ShortIdTable {
  private readonly ids = new Map<string, string>();
  private readonly infos = new Map<string, metricsApi.MonitoringInfo>();
  /** Ids of interned label maps by identity, then urn and type (no key to build). */
  private readonly byLabels = new WeakMap<ReadonlyMap<string, string>, Map<string, string>>();

  shortIdOf(info: metricsApi.MonitoringInfo): string {
    const labels = info.labels;
    const urn = info.urn;
    const type = info.type;
    if (!readOnlyLabels.has(labels)) return this.idOf(urn, type, labels);
    const urnType = `${urn}\u0000${type}`;
    let known = this.byLabels.get(labels);
    const cached = known?.get(urnType);
    if (cached !== undefined) return cached;
    const id = this.idOf(urn, type, labels);
    if (!known) this.byLabels.set(labels, (known = new Map()));
    known.set(urnType, id);
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

  private idOf(urn: string, type: string, labels: ReadonlyMap<string, string>): string {
    const sorted = [...labels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([urn, type, sorted]);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = `m${(this.ids.size + 1).toString(36)}`;
      this.ids.set(key, id);
      this.infos.set(id, new metricsApi.MonitoringInfo({ urn, type, labels: new Map(labels) }));
    }
    return id;
  }
}
