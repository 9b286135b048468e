/**
 * Builds the operation graph of a ProcessBundleDescriptor through the URN
 * registry. Consumers are built before their producers (each producer gets
 * its receivers at construction); the resulting list is in topological order,
 * producers first. Unknown URNs, dangling PCollection ids and cycles are
 * `ProtocolError`s naming the transform.
 */
import { coderFromProto, type Coder } from "../../coders/index.js";
import type { BundleServices } from "../../operations/bundle-services.js";
import { CELLS_PER_PCOLLECTION, CountingReceiver } from "../../operations/counting-receiver.js";
import { SamplingReceiver } from "../../operations/sampling/element-sampler.js";
import { TrackedReceiver, stateCode } from "../../operations/execution-state.js";
import { receiverOf, type Operation, type Receiver } from "../../operations/operation.js";
import {
  DEFAULT_LIMITS,
  operationFactory,
  type OperationContext,
  type OperationLimits,
} from "../../operations/registry.js";
import type { fnApi } from "../../proto/index.js";
import { ProtocolError } from "../errors.js";

export interface OperationGraph {
  /** Topological order: producers before consumers. */
  operations: Operation[];
  /** Element counters per PCollection id. */
  counters: CountingReceiver[];
  /** The counters' shared cells (index = position in `counters`). */
  counts: SharedArrayBuffer;
  /** The execution-state cell (see operations/execution-state.ts). */
  executionState: SharedArrayBuffer;
  /** Transform ids by operation index of the execution-state codes. */
  stateTransformIds: string[];
  /** The operation index of each operation (for start/finish state codes). */
  operationIndex: Map<Operation, number>;
}

export function buildGraph(
  descriptor: fnApi.ProcessBundleDescriptor,
  currentBundle: () => BundleServices,
  limits: OperationLimits = DEFAULT_LIMITS,
): OperationGraph {
  const consumers = new Map<string, string[]>();
  for (const [transformId, transform] of descriptor.transforms) {
    for (const pcollectionId of transform.inputs.values()) {
      let list = consumers.get(pcollectionId);
      if (!list) consumers.set(pcollectionId, (list = []));
      if (!list.includes(transformId)) list.push(transformId);
    }
  }

  const built = new Map<string, Operation>();
  const building = new Set<string>();
  const postOrder: Operation[] = [];
  const counters = new Map<string, CountingReceiver>();
  const operationIndex = new Map<Operation, number>();
  const executionState = new SharedArrayBuffer(4);
  const stateCell = new Int32Array(executionState);
  const counts = new SharedArrayBuffer(
    Math.max(1, descriptor.pcollections.size) * CELLS_PER_PCOLLECTION * 8,
  );
  const cells = new Float64Array(counts);
  const coders = new Map<string, Coder<unknown>>();

  const coder = (coderId: string): Coder<unknown> => {
    let c = coders.get(coderId);
    if (!c) {
      c = coderFromProto(coderId, descriptor);
      coders.set(coderId, c);
    }
    return c;
  };

  const receiverForPCollection = (pcollectionId: string): Receiver => {
    let counter = counters.get(pcollectionId);
    if (!counter) {
      const receivers = (consumers.get(pcollectionId) ?? []).map((id) => {
        const op = build(id);
        return new TrackedReceiver(
          op,
          stateCell,
          stateCode(operationIndex.get(op) as number, "process"),
        );
      });
      const pcollection = descriptor.pcollections.get(pcollectionId);
      if (!pcollection) {
        throw new ProtocolError(
          `transform outputs name PCollection ${JSON.stringify(pcollectionId)}, which descriptor ${descriptor.id} does not declare`,
        );
      }
      const elementCoder = () => coder(pcollection.coder_id);
      const inner = receiverOf(receivers);
      counter = limits.dataSampling
        ? new SamplingReceiver(
            pcollectionId,
            inner,
            cells,
            counters.size,
            elementCoder,
            limits.dataSampling,
            () => currentBundle().instructionId,
          )
        : new CountingReceiver(pcollectionId, inner, cells, counters.size, elementCoder);
      counters.set(pcollectionId, counter);
    }
    return counter;
  };

  function build(transformId: string): Operation {
    const existing = built.get(transformId);
    if (existing) return existing;
    if (building.has(transformId)) {
      throw new ProtocolError(
        `descriptor ${descriptor.id} has a cycle through transform ${JSON.stringify(transformId)}`,
      );
    }
    const transform = descriptor.transforms.get(transformId);
    if (!transform)
      throw new ProtocolError(
        `descriptor ${descriptor.id} has no transform ${JSON.stringify(transformId)}`,
      );
    const urn = transform.spec?.urn ?? "";
    const factory = operationFactory(urn);
    if (!factory) {
      throw new ProtocolError(
        `transform ${JSON.stringify(transformId)} has URN ${JSON.stringify(urn)}, which Firefly does not implement`,
      );
    }
    building.add(transformId);
    const outputNames = [...transform.outputs.keys()];
    const ctx: OperationContext = {
      transformId,
      transform,
      descriptor,
      outputNames,
      output(localName: string): Receiver {
        const pcollectionId = transform.outputs.get(localName);
        if (pcollectionId === undefined) {
          throw new ProtocolError(
            `transform ${JSON.stringify(transformId)} has no output ${JSON.stringify(localName)}`,
          );
        }
        return receiverForPCollection(pcollectionId);
      },
      coder,
      pcollectionCoder(pcollectionId: string): Coder<unknown> {
        const pcollection = descriptor.pcollections.get(pcollectionId);
        if (!pcollection) {
          throw new ProtocolError(
            `transform ${JSON.stringify(transformId)} refers to unknown PCollection ${JSON.stringify(pcollectionId)}`,
          );
        }
        return coder(pcollection.coder_id);
      },
      bundle: currentBundle,
      limits,
    };
    let operation: Operation;
    try {
      operation = factory(ctx);
    } catch (err) {
      if (err instanceof ProtocolError || (err instanceof Error && err.name === "OperationError"))
        throw err;
      throw new ProtocolError(
        `cannot build transform ${JSON.stringify(transformId)} (${urn}): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    building.delete(transformId);
    built.set(transformId, operation);
    operationIndex.set(operation, postOrder.length);
    postOrder.push(operation);
    return operation;
  }

  for (const transformId of [...descriptor.transforms.keys()].sort()) build(transformId);
  const stateTransformIds = postOrder.map((op) => op.transformId);
  return {
    operations: postOrder.reverse(),
    counters: [...counters.values()],
    counts,
    executionState,
    stateTransformIds,
    operationIndex,
  };
}
