/**
 * The handlers of every InstructionRequest kind of Beam 2.50's Fn API.
 * Importing this module registers them.
 */
import { fnApi } from "../../proto/index.js";
import { ProtocolError } from "../errors.js";
import type { HarnessServices } from "../harness-services.js";
import { registerInstructionHandler } from "./instruction-registry.js";

/** How long finalization callbacks wait for `finalize_bundle` before they are dropped. */
const FINALIZATION_TTL_MS = 10 * 60_000;

registerInstructionHandler("register", async (request, h) => {
  for (const descriptor of request.register.process_bundle_descriptor)
    h.descriptors.register(descriptor);
  return { register: new fnApi.RegisterResponse() };
});

registerInstructionHandler("process_bundle", async (request, h) => {
  if (
    h.executor.isActive(request.instruction_id) ||
    h.startingBundles.has(request.instruction_id)
  ) {
    throw new ProtocolError(
      `instruction id ${JSON.stringify(request.instruction_id)} is already running a bundle`,
    );
  }
  h.startingBundles.add(request.instruction_id);
  try {
    return await processBundle(request, h);
  } finally {
    h.startingBundles.delete(request.instruction_id);
  }
});

async function processBundle(request: fnApi.InstructionRequest, h: HarnessServices) {
  const body = request.process_bundle;
  const started = performance.now();
  h.metrics.bundleStarted();
  let outcome;
  try {
    const descriptor = await h.descriptors.get(body.process_bundle_descriptor_id);
    outcome = await h.executor.process(request.instruction_id, body, descriptor);
  } catch (err) {
    h.metrics.bundleFailed((performance.now() - started) / 1000);
    // Input that arrived before the request (or with it) must not wait for the
    // orphan timeout when the bundle never started (e.g. the descriptor fetch failed).
    h.releaseInbound(request.instruction_id);
    throw err;
  }
  h.metrics.bundleFinished((performance.now() - started) / 1000, outcome.monitoringInfos);
  const requiresFinalization = outcome.finalizations.length > 0;
  if (requiresFinalization) {
    dropExpiredFinalizations(h.pendingFinalizations);
    h.pendingFinalizations.set(request.instruction_id, {
      callbacks: outcome.finalizations,
      expiresAt: Date.now() + FINALIZATION_TTL_MS,
    });
  }
  return {
    process_bundle: new fnApi.ProcessBundleResponse({
      monitoring_infos: outcome.monitoringInfos,
      monitoring_data: h.shortIds.toMonitoringData(outcome.monitoringInfos),
      requires_finalization: requiresFinalization,
      residual_roots: outcome.residuals,
    }),
  };
}

/*
 * Progress and splits of a bundle that is not running (not started, finished,
 * or unknown) are answered empty, as Beam's Python harness answers them
 * (sdk_worker.py: "Return an empty response if we aren't running"): a split
 * that races with a bundle's end is normal, and Beam Python's runner fails the
 * pipeline on any split error it does not expect.
 */
registerInstructionHandler("process_bundle_progress", async (request, h) => {
  const id = request.process_bundle_progress.instruction_id;
  const infos = h.executor.progress(id) ?? [];
  return {
    process_bundle_progress: new fnApi.ProcessBundleProgressResponse({
      monitoring_infos: infos,
      monitoring_data: h.shortIds.toMonitoringData(infos),
    }),
  };
});

registerInstructionHandler("process_bundle_split", async (request, h) => {
  const body = request.process_bundle_split;
  if (!h.executor.isActive(body.instruction_id))
    return { process_bundle_split: new fnApi.ProcessBundleSplitResponse() };
  const channelSplits: fnApi.ProcessBundleSplitResponse.ChannelSplit[] = [];
  const primaryRoots: fnApi.BundleApplication[] = [];
  const residualRoots: fnApi.DelayedBundleApplication[] = [];
  for (const [transformId, desired] of body.desired_splits) {
    const split = h.executor.split(body.instruction_id, transformId, {
      fractionOfRemainder: desired.fraction_of_remainder,
      estimatedInputElements: Number(desired.estimated_input_elements),
      allowedSplitPoints: desired.allowed_split_points.map(Number),
    });
    if (split?.elementSplit) {
      const {
        transformId: transform_id,
        inputId: input_id,
        primary,
        residual,
        residualWatermarks,
      } = split.elementSplit;
      primaryRoots.push(new fnApi.BundleApplication({ transform_id, input_id, element: primary }));
      residualRoots.push(
        new fnApi.DelayedBundleApplication({
          application: new fnApi.BundleApplication({
            transform_id,
            input_id,
            element: residual,
            output_watermarks: residualWatermarks,
          }),
        }),
      );
    }
    if (split) {
      channelSplits.push(
        new fnApi.ProcessBundleSplitResponse.ChannelSplit({
          transform_id: transformId,
          last_primary_element: split.lastPrimaryElement,
          first_residual_element: split.firstResidualElement,
        }),
      );
    }
  }
  return {
    process_bundle_split: new fnApi.ProcessBundleSplitResponse({
      channel_splits: channelSplits,
      primary_roots: primaryRoots,
      residual_roots: residualRoots,
    }),
  };
});

registerInstructionHandler("finalize_bundle", async (request, h) => {
  const id = request.finalize_bundle.instruction_id;
  const pending = h.pendingFinalizations.get(id);
  if (!pending)
    throw new ProtocolError(
      `no bundle awaiting finalization with instruction id ${JSON.stringify(id)}`,
    );
  h.pendingFinalizations.delete(id);
  for (const callback of pending.callbacks) await callback();
  return { finalize_bundle: new fnApi.FinalizeBundleResponse() };
});

registerInstructionHandler("monitoring_infos", async (request, h) => {
  const infos = new Map<
    string,
    InstanceType<typeof fnApi.MonitoringInfosMetadataResponse>["monitoring_info"] extends Map<
      string,
      infer V
    >
      ? V
      : never
  >();
  for (const id of request.monitoring_infos.monitoring_info_id) {
    const info = h.shortIds.metadata(id);
    if (info) infos.set(id, info);
  }
  return {
    monitoring_infos: new fnApi.MonitoringInfosMetadataResponse({ monitoring_info: infos }),
  };
});

// Every Firefly metric belongs to a bundle (user code runs only inside bundles), so
// there are no process-wide MonitoringInfos: the answer is an empty map. Worker-wide
// figures (state cache, pool, data plane) are on the Prometheus endpoint.
registerInstructionHandler("harness_monitoring_infos", async () => {
  return {
    harness_monitoring_infos: new fnApi.HarnessMonitoringInfosResponse({
      monitoring_data: new Map(),
    }),
  };
});

registerInstructionHandler("sample_data", async (request, h) => {
  // With sampling off there is nothing to return: an empty response, as Beam's harnesses answer.
  const ids = request.sample_data.pcollection_ids;
  return { sample_data: h.dataSampler?.take(ids) ?? new fnApi.SampleDataResponse() };
});

function dropExpiredFinalizations(pending: Map<string, { expiresAt: number }>): void {
  const now = Date.now();
  for (const [id, entry] of pending) if (entry.expiresAt < now) pending.delete(id);
}
