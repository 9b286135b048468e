/**
 * Aggregates the MonitoringInfos of bundle responses over a pipeline run:
 * element counts per PCollection and user metrics (counters summed,
 * distributions combined, gauges keeping the latest value) per transform.
 */
import { ByteReader } from "../../../coders/index.js";
import type { metricsApi } from "../../../proto/index.js";

export interface UserMetric {
  transform: string;
  namespace: string;
  name: string;
  kind: "counter" | "distribution" | "gauge";
  /** Counter total or gauge value. */
  value?: number;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** When the gauge was set (millis). */
  timestamp?: number;
}

const ELEMENT_COUNT = "beam:metric:element_count:v1";
const USER = "beam:metric:user:";

type Reader = (r: ByteReader, m: UserMetric) => void;

const num = (v: number | bigint): number => Number(v);

/** How each user metric URN's payload is read and merged into its total. */
const userMetricReaders: Record<string, { kind: UserMetric["kind"]; read: Reader }> = {
  "beam:metric:user:sum_int64:v1": {
    kind: "counter",
    read: (r, m) => void (m.value = (m.value ?? 0) + num(r.readVarInt())),
  },
  "beam:metric:user:sum_double:v1": {
    kind: "counter",
    read: (r, m) => void (m.value = (m.value ?? 0) + r.readDouble()),
  },
  "beam:metric:user:distribution_int64:v1": {
    kind: "distribution",
    read: (r, m) =>
      mergeDistribution(
        m,
        num(r.readVarInt()),
        num(r.readVarInt()),
        num(r.readVarInt()),
        num(r.readVarInt()),
      ),
  },
  "beam:metric:user:distribution_double:v1": {
    kind: "distribution",
    read: (r, m) =>
      mergeDistribution(m, num(r.readVarInt()), r.readDouble(), r.readDouble(), r.readDouble()),
  },
  "beam:metric:user:latest_int64:v1": {
    kind: "gauge",
    read: (r, m) => latest(m, num(r.readVarInt()), num(r.readVarInt())),
  },
  "beam:metric:user:latest_double:v1": {
    kind: "gauge",
    read: (r, m) => latest(m, num(r.readVarInt()), r.readDouble()),
  },
};

function mergeDistribution(
  m: UserMetric,
  count: number,
  sum: number,
  min: number,
  max: number,
): void {
  if (count === 0) return;
  m.count = (m.count ?? 0) + count;
  m.sum = (m.sum ?? 0) + sum;
  m.min = m.min === undefined ? min : Math.min(m.min, min);
  m.max = m.max === undefined ? max : Math.max(m.max, max);
}

function latest(m: UserMetric, timestamp: number, value: number): void {
  if (m.timestamp !== undefined && m.timestamp > timestamp) return;
  m.timestamp = timestamp;
  m.value = value;
}

export class MetricsAggregator {
  readonly elementCounts = new Map<string, number>();
  private readonly user = new Map<string, UserMetric>();

  add(infos: readonly metricsApi.MonitoringInfo[]): void {
    for (const info of infos) {
      if (info.urn === ELEMENT_COUNT) {
        const pc = info.labels.get("PCOLLECTION");
        if (pc === undefined) continue;
        const n = num(new ByteReader(info.payload).readVarInt());
        this.elementCounts.set(pc, (this.elementCounts.get(pc) ?? 0) + n);
      } else if (info.urn.startsWith(USER)) {
        const reader = userMetricReaders[info.urn];
        if (!reader) continue;
        const transform = info.labels.get("PTRANSFORM") ?? "";
        const namespace = info.labels.get("NAMESPACE") ?? "";
        const name = info.labels.get("NAME") ?? "";
        const key = JSON.stringify([transform, namespace, name, reader.kind]);
        let metric = this.user.get(key);
        if (!metric)
          this.user.set(key, (metric = { transform, namespace, name, kind: reader.kind }));
        reader.read(new ByteReader(info.payload), metric);
      }
    }
  }

  userMetrics(): UserMetric[] {
    return [...this.user.values()].map(({ timestamp: _t, ...m }) => m);
  }
}
