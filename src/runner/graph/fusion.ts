/**
 * Fusion: SDK transforms are fused producer → consumer (and siblings reading
 * the same runner-materialized PCollection) into stages; runner primitives
 * (Impulse, GroupByKey, Flatten, Reshuffle) are boundaries between stages. A
 * transform is not fused into a stage that its side inputs depend on (that
 * would be a cycle: the side input must be complete before the stage runs).
 * Every stage reads exactly one PCollection from the runner; the PCollections
 * it produces that anything outside it reads become its outputs.
 */
import { isRunnerPrimitive } from "./runner-primitives.js";
import type { PipelineModel } from "./pipeline-model.js";

export interface Stage {
  kind: "stage";
  id: string;
  /** Transform ids, in topological order. */
  transforms: string[];
  /** The PCollection the runner feeds in. */
  input: string;
  /** PCollections the runner collects (read outside the stage). */
  outputs: string[];
  deps: Set<string>;
}

export interface PrimitiveNode {
  kind: "primitive";
  id: string;
  transformId: string;
  deps: Set<string>;
}

export type PlanNode = Stage | PrimitiveNode;

export interface ExecutionPlan {
  /** Nodes in an order where every node comes after its dependencies. */
  nodes: PlanNode[];
  /** The node producing each PCollection. */
  producerNode: Map<string, string>;
}

export function fuse(model: PipelineModel): ExecutionPlan {
  const nodes = new Map<string, PlanNode>();
  const nodeOfTransform = new Map<string, string>();
  const producerNode = new Map<string, string>();
  /** Stages reading a runner-side PCollection, by that PCollection. */
  const readers = new Map<string, Stage[]>();
  let stages = 0;

  const producerOf = (pc: string): string => {
    const node = producerNode.get(pc);
    if (node === undefined)
      throw new Error(`PCollection ${JSON.stringify(pc)} has no producer yet`);
    return node;
  };
  /** True when `from` depends on `target` (or is it). */
  const dependsOn = (from: string, target: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (id === target) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(nodes.get(id)?.deps ?? []));
    }
    return false;
  };

  for (const transformId of model.leaves) {
    const urn = model.urnOf(transformId);
    const t = model.transform(transformId);
    if (isRunnerPrimitive(urn)) {
      const id = `p:${transformId}`;
      const deps = new Set([...t.inputs.values()].map(producerOf));
      nodes.set(id, { kind: "primitive", id, transformId, deps });
      nodeOfTransform.set(transformId, id);
      for (const pc of t.outputs.values()) producerNode.set(pc, id);
      continue;
    }
    const mains = model.mainInputs(transformId);
    if (mains.length !== 1)
      throw new Error(
        `transform ${JSON.stringify(model.nameOf(transformId))} (${urn || "no URN"}) has ${mains.length} main inputs; the local runner runs SDK transforms with exactly one`,
      );
    const input = mains[0];
    const sideDeps = model.sideInputs(transformId).map((s) => producerOf(s.pcollection));
    const inputNode = nodes.get(producerOf(input)) as PlanNode;
    const candidates: Stage[] =
      inputNode.kind === "stage" ? [inputNode] : (readers.get(input) ?? []);
    let stage = candidates.find((c) => sideDeps.every((d) => !dependsOn(d, c.id)));
    if (!stage) {
      stage = {
        kind: "stage",
        id: `s${++stages}`,
        transforms: [],
        input,
        outputs: [],
        deps: new Set([inputNode.id]),
      };
      nodes.set(stage.id, stage);
      const list = readers.get(input) ?? [];
      list.push(stage);
      readers.set(input, list);
    }
    stage.transforms.push(transformId);
    for (const d of sideDeps) stage.deps.add(d);
    nodeOfTransform.set(transformId, stage.id);
    for (const pc of t.outputs.values()) producerNode.set(pc, stage.id);
  }

  // Outputs: PCollections produced in a stage and read by another node (or as a side input).
  for (const node of nodes.values()) {
    if (node.kind !== "stage") continue;
    const produced = new Set(
      node.transforms.flatMap((id) => [...model.transform(id).outputs.values()]),
    );
    for (const pc of produced) {
      const readOutside = (model.consumers.get(pc) ?? []).some(
        (c) => c.side || nodeOfTransform.get(c.transformId) !== node.id,
      );
      if (readOutside) node.outputs.push(pc);
    }
  }
  return { nodes: orderNodes(nodes), producerNode };
}

function orderNodes(nodes: Map<string, PlanNode>): PlanNode[] {
  const order: PlanNode[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string) => {
    const s = state.get(id);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`fusion produced a cycle through ${id}`);
    state.set(id, "visiting");
    const node = nodes.get(id) as PlanNode;
    for (const dep of node.deps) visit(dep);
    state.set(id, "done");
    order.push(node);
  };
  for (const id of nodes.keys()) visit(id);
  return order;
}
