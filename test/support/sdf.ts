/**
 * Descriptors and elements of splittable DoFns as a runner expands them
 * (pair with restriction → split and size → truncate → process sized
 * elements), for the integration tests: string elements, offset-range
 * restrictions paired with the watermark-estimator state (nullable bytes).
 */
import {
  GLOBAL_WINDOW,
  NO_FIRING,
  type OffsetRangeValue,
  type WindowedValue,
} from "../../coders/index.js";
import { fnApi } from "../../proto/index.js";
import {
  addCoder,
  coderOf,
  dofnPayload,
  kv,
  linearDescriptor,
  STR,
  windowed,
  type CoderSpec,
} from "./descriptors.js";

export const OFFSET: CoderSpec = { urn: "firefly:coder:offset_range:v1" };
export const RESTRICTION = kv(OFFSET, {
  urn: "beam:coder:nullable:v1",
  components: [{ urn: "beam:coder:bytes:v1" }],
});
export const PAIRED = kv(STR, RESTRICTION);
export const SIZED = kv(PAIRED, { urn: "beam:coder:double:v1" });
export const RESTRICTION_CODER_ID = addCoder(new Map(), RESTRICTION);

export const PAIR_URN = "beam:transform:sdf_pair_with_restriction:v1";
export const SPLIT_URN = "beam:transform:sdf_split_and_size_restrictions:v1";
export const TRUNCATE_URN = "beam:transform:sdf_truncate_sized_restrictions:v1";
export const PROCESS_URN = "beam:transform:sdf_process_sized_element_and_restrictions:v1";

/** One SDF step running the DoFn module `source`. */
export const sdfStep = (id: string, urn: string, output: CoderSpec, source: string) => ({
  id,
  urn,
  output,
  payload: dofnPayload({ source }, { restriction_coder_id: RESTRICTION_CODER_ID }),
});

/** The whole expansion, from string elements to the DoFn's string outputs. */
export function expandedDescriptor(
  id: string,
  url: string,
  source: string,
): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id,
    url,
    input: STR,
    steps: [
      sdfStep("pair", PAIR_URN, PAIRED, source),
      sdfStep("split", SPLIT_URN, SIZED, source),
      sdfStep("truncate", TRUNCATE_URN, SIZED, source),
      sdfStep("process", PROCESS_URN, STR, source),
    ],
  });
}

/** What a runner schedules for residuals: sized elements straight into process. */
export function resumeDescriptor(
  id: string,
  url: string,
  source: string,
): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id,
    url,
    input: SIZED,
    steps: [sdfStep("process", PROCESS_URN, STR, source)],
  });
}

export interface SizedValue {
  key: { key: string; value: { key: OffsetRangeValue; value: Uint8Array | null } };
  value: number;
}

export const sizedCoder = () => coderOf<WindowedValue<unknown>>(windowed(SIZED));

/** A sized element in the global window, encoded as the runner sends it. */
export function sizedElement(
  word: string,
  range: OffsetRangeValue,
  state: Uint8Array | null = null,
): Uint8Array {
  return sizedCoder().encode(
    {
      value: {
        key: { key: word, value: { key: range, value: state } },
        value: Number(range.stop - range.start),
      },
      timestamp: 0n,
      windows: [GLOBAL_WINDOW],
      pane: NO_FIRING,
    },
    "nested",
  );
}

export function decodeSized(bytes: Uint8Array): SizedValue {
  return sizedCoder().decode(bytes, "nested").value as SizedValue;
}

/** A runner's ProcessBundleSplit of the data source "source" of a running bundle. */
export const splitRequest = (
  instructionId: string,
  fractionOfRemainder: number,
  estimatedInputElements: number,
): fnApi.InstructionRequest =>
  new fnApi.InstructionRequest({
    process_bundle_split: new fnApi.ProcessBundleSplitRequest({
      instruction_id: instructionId,
      desired_splits: new Map([
        [
          "source",
          new fnApi.ProcessBundleSplitRequest.DesiredSplit({
            fraction_of_remainder: fractionOfRemainder,
            estimated_input_elements: estimatedInputElements,
          }),
        ],
      ]),
    }),
  });
