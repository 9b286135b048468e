/**
 * The pipeline as the runner executes it: a copy of the components with
 * composites expanded to their leaves (runner primitives stay whole, combine
 * composites are lifted when lifting is on, splittable ParDos are expanded
 * into their SDF steps), the leaves in topological order, and who produces
 * and consumes each PCollection.
 */
import { pipelineApi } from "../../../proto/index.js";
import { URNS } from "./urns.js";
import { isRunnerPrimitive } from "./runner-primitives.js";

export interface Consumer {
  transformId: string;
  /** The local input name. */
  local: string;
  /** True when the transform reads the PCollection as a side input. */
  side: boolean;
}

export interface ModelOptions {
  /** Lift `combine_per_key` composites into precombine → GBK → merge → extract. */
  liftCombiners: boolean;
}

export class PipelineModel {
  readonly components: pipelineApi.Components;
  /** Leaf transform ids in topological order. */
  readonly leaves: string[] = [];
  readonly producer = new Map<string, string>();
  readonly consumers = new Map<string, Consumer[]>();
  /** Ids of combine composites that were lifted. */
  readonly lifted: string[] = [];
  /** Ids of splittable ParDos expanded into their SDF steps (the id stays on the process step). */
  readonly splittable: string[] = [];

  constructor(pipeline: pipelineApi.Pipeline, options: ModelOptions) {
    this.components = pipelineApi.Components.deserializeBinary(
      (pipeline.components ?? new pipelineApi.Components()).serializeBinary(),
    );
    const transforms = this.components.transforms;
    let roots = pipeline.root_transform_ids;
    if (roots.length === 0) {
      const children = new Set([...transforms.values()].flatMap((t) => t.subtransforms));
      roots = [...transforms.keys()].filter((id) => !children.has(id));
    }
    const leaves: string[] = [];
    const expand = (id: string) => {
      const t = transforms.get(id);
      if (!t)
        throw new Error(
          `the pipeline names transform ${JSON.stringify(id)}, which it does not define`,
        );
      const urn = t.spec?.urn ?? "";
      if (urn === URNS.combinePerKey && options.liftCombiners && this.liftable(t)) {
        leaves.push(...this.lift(id, t));
        this.lifted.push(id);
      } else if (urn === URNS.pardo && isSplittablePardo(t)) {
        leaves.push(...this.expandSplittable(id, t));
        this.splittable.push(id);
      } else if (isRunnerPrimitive(urn) || t.subtransforms.length === 0) {
        if (urn || t.inputs.size > 0 || t.outputs.size > 0) leaves.push(id);
      } else {
        for (const child of t.subtransforms) expand(child);
      }
    };
    for (const id of roots) expand(id);
    for (const id of leaves) {
      const t = transforms.get(id) as pipelineApi.PTransform;
      for (const pc of t.outputs.values()) this.producer.set(pc, id);
      const sides = this.sideInputNames(t);
      for (const [local, pc] of t.inputs) {
        const list = this.consumers.get(pc) ?? [];
        list.push({ transformId: id, local, side: sides.has(local) });
        this.consumers.set(pc, list);
      }
    }
    this.leaves = this.topologicalOrder(leaves);
  }

  transform(id: string): pipelineApi.PTransform {
    const t = this.components.transforms.get(id);
    if (!t) throw new Error(`no transform ${JSON.stringify(id)}`);
    return t;
  }

  urnOf(id: string): string {
    return this.transform(id).spec?.urn ?? "";
  }

  /** A transform's name for people: its unique name, else its id. */
  nameOf(id: string): string {
    return this.components.transforms.get(id)?.unique_name || id;
  }

  pcollection(id: string): pipelineApi.PCollection {
    const pc = this.components.pcollections.get(id);
    if (!pc) throw new Error(`no PCollection ${JSON.stringify(id)}`);
    return pc;
  }

  windowingOf(pcollectionId: string): pipelineApi.WindowingStrategy {
    const id = this.pcollection(pcollectionId).windowing_strategy_id;
    const ws = this.components.windowing_strategies.get(id);
    if (!ws)
      throw new Error(`PCollection ${pcollectionId}: no windowing strategy ${JSON.stringify(id)}`);
    return ws;
  }

  /** Side input local names of a transform (ParDo side inputs, also of a splittable ParDo's process step). */
  sideInputNames(t: pipelineApi.PTransform): Set<string> {
    if (t.spec?.urn !== URNS.pardo && t.spec?.urn !== URNS.sdfProcessSized) return new Set();
    return new Set(pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload).side_inputs.keys());
  }

  /** The main (non-side) input PCollections of a transform. */
  mainInputs(id: string): string[] {
    const t = this.transform(id);
    const sides = this.sideInputNames(t);
    return [...t.inputs].filter(([local]) => !sides.has(local)).map(([, pc]) => pc);
  }

  sideInputs(id: string): { local: string; pcollection: string }[] {
    const t = this.transform(id);
    const sides = this.sideInputNames(t);
    return [...t.inputs]
      .filter(([local]) => sides.has(local))
      .map(([local, pcollection]) => ({ local, pcollection }));
  }

  /** Adds (once) a coder with this spec and components; returns its id. */
  addCoder(id: string, urn: string, components: string[]): string {
    if (!this.components.coders.has(id))
      this.components.coders.set(
        id,
        new pipelineApi.Coder({
          spec: new pipelineApi.FunctionSpec({ urn }),
          component_coder_ids: components,
        }),
      );
    return id;
  }

  /** The id of `windowed_value(pcollection coder, window coder)` for a PCollection. */
  windowedCoderId(pcollectionId: string): string {
    const pc = this.pcollection(pcollectionId);
    const windowCoder = this.windowingOf(pcollectionId).window_coder_id;
    return this.addCoder(`ff:wv:${pc.coder_id}:${windowCoder}`, URNS.windowedValueCoder, [
      pc.coder_id,
      windowCoder,
    ]);
  }

  private liftable(t: pipelineApi.PTransform): boolean {
    const [input] = [...t.inputs.values()];
    if (!input || t.outputs.size !== 1) return false;
    const ws = this.windowingOf(input);
    if (windowFnIsMerging(ws)) return false;
    const coder = this.components.coders.get(this.pcollection(input).coder_id);
    return coder?.spec?.urn === URNS.kvCoder && coder.component_coder_ids.length === 2;
  }

  /** precombine → GBK → merge accumulators → extract outputs, replacing the composite. */
  private lift(id: string, t: pipelineApi.PTransform): string[] {
    const payload = pipelineApi.CombinePayload.deserializeBinary(t.spec.payload);
    const [input] = [...t.inputs.values()];
    const [output] = [...t.outputs.values()];
    const inputPc = this.pcollection(input);
    const [keyCoder] = (this.components.coders.get(inputPc.coder_id) as pipelineApi.Coder)
      .component_coder_ids;
    const acc = payload.accumulator_coder_id;
    const kvAcc = this.addCoder(`ff:kv:${keyCoder}:${acc}`, URNS.kvCoder, [keyCoder, acc]);
    const iterAcc = this.addCoder(`ff:iterable:${acc}`, URNS.iterableCoder, [acc]);
    const kvIterAcc = this.addCoder(`ff:kv:${keyCoder}:${iterAcc}`, URNS.kvCoder, [
      keyCoder,
      iterAcc,
    ]);
    const pcollection = (suffix: string, coderId: string) =>
      this.addPCollection(`${id}/${suffix}`, coderId, inputPc);
    const precombined = pcollection("Precombine.out", kvAcc);
    const grouped = pcollection("Group.out", kvIterAcc);
    const merged = pcollection("Merge.out", kvAcc);
    const step = (suffix: string, urn: string, from: string, to: string, body: Uint8Array) =>
      this.addStep(id, t, suffix, urn, from, to, body);
    const body = payload.serializeBinary();
    return [
      step("Precombine", URNS.precombine, input, precombined, body),
      step("Group", URNS.groupByKey, precombined, grouped, new Uint8Array()),
      step("Merge", URNS.mergeAccumulators, grouped, merged, body),
      step("ExtractOutputs", URNS.extractOutputs, merged, output, body),
    ];
  }

  /**
   * A splittable ParDo as Beam's runners run it: pair each element with its
   * initial restriction → split and size the restrictions → Reshuffle (a
   * stage boundary, so the restrictions are rebundled over the workers) →
   * process the sized restrictions. The process step keeps the ParDo's id,
   * name, side inputs and outputs; checkpoints come back to the stage runner
   * as residual roots of that step.
   */
  private expandSplittable(id: string, t: pipelineApi.PTransform): string[] {
    const payload = pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload);
    const sides = new Set(payload.side_inputs.keys());
    const main = [...t.inputs].find(([local]) => !sides.has(local));
    if (!main)
      throw new Error(`splittable ParDo ${JSON.stringify(this.nameOf(id))} has no main input`);
    const [mainLocal, input] = main;
    const inputPc = this.pcollection(input);
    const restriction = payload.restriction_coder_id;
    const paired = this.addCoder(`ff:kv:${inputPc.coder_id}:${restriction}`, URNS.kvCoder, [
      inputPc.coder_id,
      restriction,
    ]);
    const double = this.addCoder("ff:double", URNS.doubleCoder, []);
    const sized = this.addCoder(`ff:kv:${paired}:${double}`, URNS.kvCoder, [paired, double]);
    const pairedPc = this.addPCollection(`${id}/PairWithRestriction.out`, paired, inputPc);
    const splitPc = this.addPCollection(`${id}/SplitAndSizeRestrictions.out`, sized, inputPc);
    const shuffledPc = this.addPCollection(`${id}/Reshuffle.out`, sized, inputPc);
    const body = t.spec.payload;
    const steps = [
      this.addStep(
        id,
        t,
        "PairWithRestriction",
        URNS.sdfPairWithRestriction,
        input,
        pairedPc,
        body,
      ),
      this.addStep(
        id,
        t,
        "SplitAndSizeRestrictions",
        URNS.sdfSplitAndSize,
        pairedPc,
        splitPc,
        body,
      ),
      this.addStep(id, t, "Reshuffle", URNS.reshuffle, splitPc, shuffledPc, new Uint8Array()),
    ];
    this.components.transforms.set(
      id,
      new pipelineApi.PTransform({
        unique_name: t.unique_name,
        spec: new pipelineApi.FunctionSpec({ urn: URNS.sdfProcessSized, payload: body }),
        inputs: new Map(
          [...t.inputs].map(([local, pc]) => [local, local === mainLocal ? shuffledPc : pc]),
        ),
        outputs: t.outputs,
        environment_id: t.environment_id,
      }),
    );
    return [...steps, id];
  }

  private addPCollection(id: string, coderId: string, like: pipelineApi.PCollection): string {
    this.components.pcollections.set(
      id,
      new pipelineApi.PCollection({
        unique_name: id,
        coder_id: coderId,
        windowing_strategy_id: like.windowing_strategy_id,
        is_bounded: like.is_bounded,
      }),
    );
    return id;
  }

  /** A one-input, one-output step `${id}/${suffix}` of an expanded transform; runner primitives get no environment. */
  private addStep(
    id: string,
    t: pipelineApi.PTransform,
    suffix: string,
    urn: string,
    from: string,
    to: string,
    body: Uint8Array,
  ): string {
    const stepId = `${id}/${suffix}`;
    this.components.transforms.set(
      stepId,
      new pipelineApi.PTransform({
        unique_name: `${t.unique_name || id}/${suffix}`,
        spec: new pipelineApi.FunctionSpec({ urn, payload: body }),
        inputs: new Map([["in", from]]),
        outputs: new Map([["out", to]]),
        environment_id: isRunnerPrimitive(urn) ? "" : t.environment_id,
      }),
    );
    return stepId;
  }

  private topologicalOrder(leaves: string[]): string[] {
    const pending = new Map<string, number>();
    const waiting = new Map<string, string[]>();
    for (const id of leaves) {
      const t = this.transform(id);
      const deps = [...new Set(t.inputs.values())].filter((pc) => this.producer.has(pc));
      pending.set(id, deps.length);
      for (const pc of deps) {
        const list = waiting.get(pc) ?? [];
        list.push(id);
        waiting.set(pc, list);
      }
      for (const pc of t.inputs.values())
        if (!this.producer.has(pc))
          throw new Error(
            `transform ${JSON.stringify(this.nameOf(id))} reads PCollection ${JSON.stringify(pc)}, which no transform produces`,
          );
    }
    const ready = leaves.filter((id) => pending.get(id) === 0);
    const order: string[] = [];
    while (ready.length > 0) {
      const id = ready.shift() as string;
      order.push(id);
      for (const pc of this.transform(id).outputs.values()) {
        for (const next of waiting.get(pc) ?? []) {
          const left = (pending.get(next) ?? 0) - 1;
          pending.set(next, left);
          if (left === 0) ready.push(next);
        }
      }
    }
    if (order.length !== leaves.length)
      throw new Error(
        `the pipeline has a cycle through ${leaves
          .filter((id) => !order.includes(id))
          .map((id) => JSON.stringify(this.nameOf(id)))
          .join(", ")}`,
      );
    return order;
  }
}

/** A ParDo whose payload names a restriction coder (a splittable DoFn). */
export function isSplittablePardo(t: pipelineApi.PTransform): boolean {
  return pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload).restriction_coder_id !== "";
}

/** True when a GroupByKey over this windowing must merge windows (sessions not yet merged). */
export function windowFnIsMerging(ws: pipelineApi.WindowingStrategy): boolean {
  const status = ws.merge_status;
  if (status === pipelineApi.MergeStatus.Enum.NEEDS_MERGE) return true;
  if (status === pipelineApi.MergeStatus.Enum.ALREADY_MERGED) return false;
  return ws.window_fn?.urn === URNS.sessions;
}
