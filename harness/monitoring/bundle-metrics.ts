/**
 * The MonitoringInfos of a bundle. Progress answers read the shared-memory
 * progress view (element counts per PCollection, data source read indexes);
 * the final response adds the user metrics of every operation.
 */
import { PHASES, decodeStateCode, type Phase } from "../../operations/execution-state.js";
import { readPCollectionStats } from "../../operations/counting-receiver.js";
import type { MetricsContainer } from "../../operations/metrics/metrics-container.js";
import type { Operation } from "../../operations/operation.js";
import type { metricsApi } from "../../proto/index.js";
import type { ProgressView } from "../bundle/progress-view.js";
import {
  LABELS,
  TYPES,
  URNS,
  distributionDoublePayload,
  distributionInt64Payload,
  doublePayload,
  int64Payload,
  internLabels,
  latestPayload,
  monitoringInfo,
  progressPayload,
} from "./monitoring-infos.js";

/** Label maps of a processor's PCollections, by its counts buffer (one per processor). */
const pcollectionLabels = new WeakMap<SharedArrayBuffer, ReadonlyMap<string, string>[]>();

function pcollectionLabelsOf(view: ProgressView): ReadonlyMap<string, string>[] {
  let labels = pcollectionLabels.get(view.layout.counts);
  if (!labels) {
    labels = view.layout.pcollectionIds.map((id) => internLabels(LABELS.pcollection, id));
    pcollectionLabels.set(view.layout.counts, labels);
  }
  return labels;
}

export function progressMonitoringInfos(view: ProgressView): metricsApi.MonitoringInfo[] {
  const infos: metricsApi.MonitoringInfo[] = [];
  const labelsOf = pcollectionLabelsOf(view);
  for (let i = 0; i < labelsOf.length; i++) {
    const stats = readPCollectionStats(view.counts, i);
    const labels = labelsOf[i]!;
    infos.push(
      monitoringInfo(URNS.elementCount, TYPES.sumInt64, labels, int64Payload(stats.count)),
    );
    if (stats.sizes) {
      infos.push(
        monitoringInfo(
          URNS.sampledByteSize,
          TYPES.distributionInt64,
          labels,
          distributionInt64Payload(stats.sizes),
        ),
      );
    }
  }
  for (const [transformId, gate] of view.sources) {
    infos.push(
      monitoringInfo(
        URNS.readIndex,
        TYPES.sumInt64,
        internLabels(LABELS.transform, transformId),
        int64Payload(gate.claimed - 1),
      ),
    );
  }
  for (const [transformId, cell] of view.work) {
    const progress = cell.read() ?? view.sharedRangeOf(transformId)?.activeProgress();
    if (!progress) continue;
    const labels = internLabels(LABELS.transform, transformId);
    infos.push(
      monitoringInfo(
        URNS.workCompleted,
        TYPES.progress,
        labels,
        progressPayload(progress.completed),
      ),
      monitoringInfo(
        URNS.workRemaining,
        TYPES.progress,
        labels,
        progressPayload(progress.remaining),
      ),
    );
  }
  return infos;
}

const PHASE_URNS = {
  start: URNS.startBundleMsecs,
  process: URNS.processBundleMsecs,
  finish: URNS.finishBundleMsecs,
} as const;

/**
 * Estimated execution times from the sampler: start/process/finish msecs per
 * transform that was seen running, and the total per transform.
 */
export function executionTimeInfos(
  view: ProgressView,
  periodMs: number,
): metricsApi.MonitoringInfo[] {
  const perTransform = new Map<string, Record<Phase, number>>();
  for (const [code, samples] of view.samples) {
    const { operationIndex, phase } = decodeStateCode(code);
    const transformId = view.layout.stateTransformIds[operationIndex];
    if (transformId === undefined) continue;
    let phases = perTransform.get(transformId);
    if (!phases) perTransform.set(transformId, (phases = { start: 0, process: 0, finish: 0 }));
    phases[phase] += samples * periodMs;
  }
  const infos: metricsApi.MonitoringInfo[] = [];
  for (const [transformId, phases] of perTransform) {
    const labels = internLabels(LABELS.transform, transformId);
    for (const phase of PHASES) {
      infos.push(
        monitoringInfo(
          PHASE_URNS[phase],
          TYPES.sumInt64,
          labels,
          int64Payload(Math.round(phases[phase])),
        ),
      );
    }
    const total = Math.round(phases.start + phases.process + phases.finish);
    infos.push(monitoringInfo(URNS.totalMsecs, TYPES.sumInt64, labels, int64Payload(total)));
  }
  return infos;
}

/** `beam:metric:user:*` MonitoringInfos of one operation's metrics container. */
export function userMonitoringInfos(
  transformId: string,
  metrics: MetricsContainer,
): metricsApi.MonitoringInfo[] {
  const infos: metricsApi.MonitoringInfo[] = [];
  const labels = (namespace: string, name: string) =>
    internLabels(LABELS.transform, transformId, LABELS.namespace, namespace, LABELS.name, name);
  for (const c of metrics.counters.values()) {
    infos.push(
      c.isDouble
        ? monitoringInfo(
            URNS.userSumDouble,
            TYPES.sumDouble,
            labels(c.namespace, c.name),
            doublePayload(c.value),
          )
        : monitoringInfo(
            URNS.userSumInt64,
            TYPES.sumInt64,
            labels(c.namespace, c.name),
            int64Payload(c.value),
          ),
    );
  }
  for (const d of metrics.distributions.values()) {
    infos.push(
      d.isDouble
        ? monitoringInfo(
            URNS.userDistributionDouble,
            TYPES.distributionDouble,
            labels(d.namespace, d.name),
            distributionDoublePayload(d),
          )
        : monitoringInfo(
            URNS.userDistributionInt64,
            TYPES.distributionInt64,
            labels(d.namespace, d.name),
            distributionInt64Payload(d),
          ),
    );
  }
  for (const g of metrics.gauges.values()) {
    infos.push(
      monitoringInfo(
        g.isDouble ? URNS.userLatestDouble : URNS.userLatestInt64,
        g.isDouble ? TYPES.latestDouble : TYPES.latestInt64,
        labels(g.namespace, g.name),
        latestPayload(g.timestampMillis, g.value, g.isDouble),
      ),
    );
  }
  return infos;
}

export function operationsMonitoringInfos(
  operations: readonly Operation[],
): metricsApi.MonitoringInfo[] {
  const infos: metricsApi.MonitoringInfo[] = [];
  for (const op of operations) {
    const metrics = (op as { metrics?: MetricsContainer }).metrics;
    if (metrics && !metrics.isEmpty) infos.push(...userMonitoringInfos(op.transformId, metrics));
  }
  return infos;
}
