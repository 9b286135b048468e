/**
 * The conductor's side of splitting the element a splittable DoFn is
 * processing (in this thread or in a pool thread): the DoFn's restriction is
 * cut in shared memory (SharedOffsetRangeCell), and the element's encoding,
 * which the processing side left there, is decoded with the descriptor's
 * coder and encoded again with the primary and with the residual range
 * (sized by default: stop - start).
 */
import {
  coderFromProto,
  WindowedValueCoder,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import { pcollectionCoders } from "../../operations/pardo/coder-components.js";
import { rangeProgress, type OffsetRange } from "../../operations/sdf/offset-range.js";
import type { SharedOffsetRangeCell } from "../../operations/sdf/shared-offset-range.js";
import { sizedElement } from "../../operations/sdf/restriction-steps.js";
import {
  builtInState,
  encodeEstimatorState,
  outputWatermarks,
} from "../../operations/sdf/watermark-estimators.js";
import type {
  CurrentElementSplitter,
  ElementSplit,
  SplitPoint,
  SplitRequest,
} from "../../operations/split-gate.js";
import type { fnApi } from "../../proto/index.js";
import type { ElementSplitLayout, ProgressView } from "./progress-view.js";

interface KV {
  key: unknown;
  value: unknown;
}

const coders = new WeakMap<
  fnApi.ProcessBundleDescriptor,
  Map<string, Coder<WindowedValue<unknown>>>
>();

/** The windowed coder of a PCollection of the descriptor (cached). */
function windowedCoder(
  descriptor: fnApi.ProcessBundleDescriptor,
  pcollectionId: string,
): Coder<WindowedValue<unknown>> {
  let byPc = coders.get(descriptor);
  if (!byPc) coders.set(descriptor, (byPc = new Map()));
  let coder = byPc.get(pcollectionId);
  if (!coder) {
    const { valueCoderId, windowCoderId } = pcollectionCoders(descriptor, pcollectionId);
    coder = new WindowedValueCoder(
      coderFromProto(valueCoderId, descriptor),
      coderFromProto(windowCoderId, descriptor) as never,
    );
    byPc.set(pcollectionId, coder);
  }
  return coder;
}

/** The splitter a data source's SplitGate uses for the splittable DoFn it feeds. */
export function elementSplitter(
  descriptor: fnApi.ProcessBundleDescriptor,
  target: ElementSplitLayout & { shared: SharedOffsetRangeCell },
): CurrentElementSplitter {
  const cell = target.shared;
  return {
    fractionDone(index: number): number | undefined {
      cell.lock();
      try {
        if (cell.current()?.index !== index) return undefined;
        const { completed, remaining } = rangeProgress(cell.range(), cell.lastAttempted());
        return completed + remaining > 0 ? completed / (completed + remaining) : undefined;
      } finally {
        cell.unlock();
      }
    },
    split(index: number, fraction: number): ElementSplit | undefined {
      let encoded: Uint8Array;
      let parts: { primary: OffsetRange; residual: OffsetRange } | undefined;
      let watermark: bigint | undefined;
      cell.lock();
      try {
        const current = cell.current();
        if (current?.index !== index) return undefined;
        encoded = current.encoded;
        parts = cell.splitLocked(fraction);
        watermark = cell.watermark();
      } finally {
        cell.unlock();
      }
      if (!parts) return undefined;
      const coder = windowedCoder(descriptor, target.pcollectionId);
      const element = coder.decode(encoded, "nested");
      const paired = (element.value as KV).key as KV;
      const initialState = (paired.value as KV).value;
      // A built-in estimator's residual goes on from its watermark now; the primary from where it started.
      const residualState =
        watermark === undefined ? initialState : encodeEstimatorState(builtInState(watermark));
      const withRange = (range: OffsetRange, state: unknown): Uint8Array =>
        coder.encode(
          {
            ...element,
            value: sizedElement(paired.key, range, state, Number(range.stop - range.start)),
          },
          "nested",
        );
      return {
        transformId: target.transformId,
        inputId: target.inputId,
        primary: withRange(parts.primary, initialState),
        residual: withRange(parts.residual, residualState),
        residualWatermarks: outputWatermarks(
          [...(descriptor.transforms.get(target.transformId)?.outputs.keys() ?? [])],
          watermark,
        ),
      };
    },
  };
}

/** The first splitter that can answer, then the second. */
function eitherSplitter(
  first: CurrentElementSplitter,
  second: CurrentElementSplitter,
): CurrentElementSplitter {
  return {
    fractionDone: (index) => first.fractionDone(index) ?? second.fractionDone(index),
    split: (index, fraction) => first.split(index, fraction) ?? second.split(index, fraction),
  };
}

/**
 * A runner's split of a running bundle's data source: between elements, or
 * inside the element a splittable DoFn processes — from the shared cell, else
 * (bundles on this thread) with the DoFn's own tracker (`inThread`).
 */
export function splitSource(
  view: ProgressView,
  descriptor: fnApi.ProcessBundleDescriptor,
  sourceId: string,
  request: SplitRequest,
  inThread?: CurrentElementSplitter,
): SplitPoint | undefined {
  const target = view.elementSplits.get(sourceId);
  const shared = target && elementSplitter(descriptor, target);
  const element = shared && inThread ? eitherSplitter(shared, inThread) : (shared ?? inThread);
  return view.sources.get(sourceId)?.trySplit(request, element);
}
