import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuse, type PlanNode } from "../../src/runner/graph/fusion.js";
import { PipelineModel } from "../../src/runner/graph/pipeline-model.js";
import "../../src/runner/exec/primitives.js";
import { kv, STR, TestPipeline, VARINT } from "./support/test-pipeline.js";

const id = (x: unknown) => ({ source: "export default (x) => [x]", config: x });

function shape(nodes: PlanNode[]): string[] {
  return nodes.map((n) => (n.kind === "stage" ? `[${n.transforms.join(",")}]` : n.transformId));
}

describe("fusion", () => {
  it("fuses producer → consumer chains and siblings, breaking at GroupByKey", () => {
    const p = new TestPipeline();
    const c = p.create("Create", ["a"], STR);
    const a = p.pardo("A", c, id(1), kv(STR, VARINT));
    p.pardo("Sibling", c, id(2), STR);
    const g = p.groupByKey("Group", a);
    p.pardo("After", g, id(3), STR);
    const plan = fuse(new PipelineModel(p.build(), { liftCombiners: false }));
    assert.deepEqual(shape(plan.nodes), [
      "Create/Impulse",
      "[Create,A,Sibling]",
      "Group",
      "[After]",
    ]);
    const stage = plan.nodes[1] as PlanNode & { kind: "stage" };
    assert.deepEqual(
      stage.outputs,
      [p.output("A", "main")],
      "only the PCollection the GroupByKey reads leaves the stage",
    );
  });

  it("does not fuse a consumer into the stage its side input depends on", () => {
    const p = new TestPipeline();
    const c = p.create("Create", [1], VARINT);
    const pairs = p.pardo("Pairs", c, id(1), kv(STR, VARINT));
    const g = p.groupByKey("Group", pairs);
    const side = p.pardo("Side", g, id(2), VARINT);
    p.pardo("UsesSide", c, id(3), VARINT, {
      sideInputs: { s: { pcollection: side, kind: "iterable" } },
    });
    const plan = fuse(new PipelineModel(p.build(), { liftCombiners: false }));
    assert.deepEqual(shape(plan.nodes), [
      "Create/Impulse",
      "[Create,Pairs]",
      "Group",
      "[Side]",
      "[UsesSide]",
    ]);
    const first = plan.nodes[1] as PlanNode & { kind: "stage" };
    assert.ok(first.outputs.includes(c), "Create's output is materialized for the later stage");
  });

  it("lifts combine_per_key when asked, else expands the composite", () => {
    const build = () => {
      const p = new TestPipeline();
      const c = p.create("Create", [{ key: "a", value: 1 }], kv(STR, VARINT));
      p.combinePerKey("Sum", c, { builtin: "sum" }, VARINT, VARINT);
      return p.build();
    };
    const lifted = fuse(new PipelineModel(build(), { liftCombiners: true }));
    assert.deepEqual(shape(lifted.nodes), [
      "Create/Impulse",
      "[Create,Sum/Precombine]",
      "Sum/Group",
      "[Sum/Merge,Sum/ExtractOutputs]",
    ]);
    const plain = fuse(new PipelineModel(build(), { liftCombiners: false }));
    assert.deepEqual(shape(plain.nodes), [
      "Create/Impulse",
      "[Create]",
      "Sum/GroupByKey",
      "[Sum/Combine]",
    ]);
  });
});
