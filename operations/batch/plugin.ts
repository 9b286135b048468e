/**
 * Loads the batch operations (index.ts, which bring Apache Arrow: about
 * 20 MB per process and per pool thread) only for descriptors with a batch
 * DoFn; other workers never import them.
 */
import { pipelineApi, type fnApi } from "../../proto/index.js";
import { FIREFLY_DOFN_URN, PARDO_URN } from "../pardo/pardo-operation.js";
import { registerOperationPlugin } from "../registry.js";
import { parseBatchOptions } from "./batch-options.js";

/** Whether a transform is a ParDo of a batch DoFn (a malformed one is left to the ParDo's own errors). */
function isBatchParDo(transform: { spec?: { urn: string; payload: Uint8Array } }): boolean {
  if (transform.spec?.urn !== PARDO_URN) return false;
  try {
    const payload = pipelineApi.ParDoPayload.deserializeBinary(transform.spec.payload);
    return (
      payload.do_fn?.urn === FIREFLY_DOFN_URN &&
      parseBatchOptions(payload.do_fn.payload) !== undefined
    );
  } catch {
    return false;
  }
}

registerOperationPlugin({
  name: "batch DoFns",
  needed: (descriptor: fnApi.ProcessBundleDescriptor) =>
    [...descriptor.transforms.values()].some(isBatchParDo),
  load: () => import("./index.js"),
});
