/**
 * Batch ParDos in an operation graph built from a descriptor (no gRPC):
 * a data source feeding a batch ParDo decodes into columns, consecutive batch
 * ParDos pass batches, per-element neighbours convert at the boundary only,
 * and the sink writes exactly the bytes of the per-element coders.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchValues, ColumnarDecoder, type ElementBatch } from "../../coders/columnar/index.js";
import { ByteWriter, coderFromSpec, type Coder, type WindowedValue } from "../../coders/index.js";
import { buildGraph } from "../../harness/bundle/graph-builder.js";
import { ColumnarDataSourceOperation } from "../../operations/batch/columnar-data-source.js";
import type { BundleServices, ElementSink } from "../../operations/bundle-services.js";
import { isDataInput } from "../../operations/data-input.js";
import { DataSourceOperation } from "../../operations/data-source.js";
import "../../operations/index.js";
import "../../operations/batch/index.js";
import { pipelineApi } from "../../proto/index.js";
import {
  decodeAll,
  dofnPayload,
  encodeGlobal,
  kv,
  linearDescriptor,
  STR,
  VARINT,
  windowed,
  type CoderSpec,
  type Step,
} from "../support/descriptors.js";
import { noBundleServices } from "./support.js";

const DOUBLE: CoderSpec = { urn: "beam:coder:double:v1" };
const KV_SD = kv(STR, DOUBLE);

function batchStep(id: string, source: string, batch: object = {}, output?: CoderSpec): Step {
  const payload = dofnPayload({ source, batch });
  return { id, urn: "beam:transform:pardo:v1", payload, output };
}

function elementStep(id: string, source: string, output?: CoderSpec): Step {
  return { id, urn: "beam:transform:pardo:v1", payload: dofnPayload({ source }), output };
}

const SCALE = `export default { processBatch(batch) {
  const v = batch.getChild("value").toArray();
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * 2 + 1;
  return { key: batch.getChild("key"), value: out };
} };`;

/** Runs one bundle of the descriptor over `input` cut into chunks of `chunk` bytes; the sink's bytes. */
async function runBundle(steps: Step[], input: CoderSpec, bytes: Uint8Array, chunk = 7) {
  const descriptor = linearDescriptor({ id: "d", url: "unused", input, steps });
  const writer = new ByteWriter();
  const sink: ElementSink = {
    writer,
    elementWritten: () => undefined,
    close: () => Promise.resolve(),
  };
  const services: BundleServices = Object.assign(noBundleServices(), { dataOutput: () => sink });
  const graph = buildGraph(descriptor, () => services);
  for (const op of graph.operations) await op.setup?.();
  for (const op of [...graph.operations].reverse()) await op.startBundle?.();
  const source = graph.operations.find(isDataInput);
  assert.ok(source);
  for (let p = 0; p < bytes.length; p += chunk) await source.consume(bytes.subarray(p, p + chunk));
  await source.endOfInput();
  for (const op of graph.operations) await op.finishBundle?.();
  return { source, bytes: writer.toBytes() };
}

const pairs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i % 3}`, value: i / 4 }));

describe("batch ParDos in an operation graph", () => {
  it("a data source feeding a batch ParDo decodes into columns; the sink writes the per-element bytes", async () => {
    const input = pairs(25);
    const { source, bytes } = await runBundle(
      [batchStep("scale", SCALE, { maxElements: 4 })],
      KV_SD,
      encodeGlobal(KV_SD, input),
    );
    assert.ok(source instanceof ColumnarDataSourceOperation);
    const expected = new Uint8Array(
      encodeGlobal(
        KV_SD,
        input.map(({ key, value }) => ({ key, value: value * 2 + 1 })),
      ),
    );
    assert.deepEqual(bytes, expected);
  });

  it("input batches are bounded by maxElements and split where the window set changes", async () => {
    const sizes = `export default (batch) => [batch.numRows];`;
    const { bytes } = await runBundle(
      [batchStep("sizes", sizes, { maxElements: 3 }, VARINT)],
      VARINT,
      encodeGlobal(
        VARINT,
        Array.from({ length: 10 }, (_, i) => i),
      ),
    );
    assert.deepEqual(valuesOfBytes(VARINT, bytes), [3, 3, 3, 1]);
  });

  it("consecutive batch ParDos pass batches; a per-element ParDo after them gets elements", async () => {
    const seen = `export default (batch) => [String(batch.getChild("value").type) + "/" + batch.numRows];`;
    const { source, bytes } = await runBundle(
      [
        batchStep("scale", SCALE),
        batchStep("again", SCALE),
        elementStep("format", `export default (kv) => [kv.key + "=" + kv.value];`, STR),
      ],
      KV_SD,
      encodeGlobal(KV_SD, pairs(4)),
    );
    assert.ok(source instanceof ColumnarDataSourceOperation);
    assert.deepEqual(valuesOfBytes(STR, bytes), ["k0=3", "k1=4", "k2=5", "k0=6"]);
    const types = await runBundle(
      [batchStep("scale", SCALE), batchStep("seen", seen, {}, STR)],
      KV_SD,
      encodeGlobal(KV_SD, pairs(5)),
    );
    assert.deepEqual(valuesOfBytes(STR, types.bytes), ["Float64/5"]);
  });

  it("a batch ParDo after a per-element ParDo collects its elements into batches", async () => {
    const { source, bytes } = await runBundle(
      [
        elementStep(
          "pair",
          `export default (n) => [{ key: "k" + (n % 2), value: n }];`,
          kv(STR, VARINT),
        ),
        batchStep(
          "sum",
          `export default (batch) => { let s = 0n; for (const v of batch.getChild("value")) s += v; return [String(batch.getChild("value").type) + ":" + s]; };`,
          { maxElements: 4 },
          STR,
        ),
      ],
      VARINT,
      encodeGlobal(VARINT, [1, 2, 3, 4, 5, 6]),
    );
    assert.ok(source instanceof DataSourceOperation);
    assert.deepEqual(valuesOfBytes(STR, bytes), ["Int64:10", "Int64:11"]);
  });

  it("timestamps: a timestamp column when asked; outputs keep row timestamps or take the batch's largest", async () => {
    const withTs = `export default (batch) => ({ value: batch.getChild("timestamp").toArray() });`;
    const input = encodeGlobal(VARINT, [1, 2], 42n);
    const { bytes } = await runBundle(
      [batchStep("ts", withTs, { timestamps: true })],
      VARINT,
      input,
    );
    const out = decodeAll<WindowedValue<unknown>>(windowed(VARINT), bytes);
    assert.deepEqual(
      out.map((e) => [e.value, e.timestamp]),
      [
        [42, 42n],
        [42, 42n],
      ],
    );
    const fewer = `export default (batch) => ({ value: new Float64Array([batch.numRows]) });`;
    const second = await runBundle([batchStep("count", fewer, {}, DOUBLE)], VARINT, input);
    const counted = decodeAll<WindowedValue<unknown>>(windowed(DOUBLE), second.bytes);
    assert.deepEqual(
      counted.map((e) => [e.value, e.timestamp]),
      [[2, 42n]],
    );
  });

  it("a DoFn without processBatch is a clear error at setup", async () => {
    await assert.rejects(
      runBundle([batchStep("bad", `export default { process() {} };`)], VARINT, new Uint8Array()),
      /has no processBatch method/,
    );
  });
});

function valuesOfBytes(spec: CoderSpec, bytes: Uint8Array): unknown[] {
  return decodeAll<WindowedValue<unknown>>(windowed(spec), bytes).map((e) => e.value);
}

describe("batch ParDo payloads", () => {
  it("a batch DoFn with user state is refused when the graph is built", () => {
    const payload = dofnPayload(
      { source: SCALE, batch: {} },
      {
        state_specs: new Map([
          ["seen", new pipelineApi.StateSpec({ bag_spec: new pipelineApi.BagStateSpec() })],
        ]),
      },
    );
    const descriptor = linearDescriptor({
      id: "d",
      url: "unused",
      input: KV_SD,
      steps: [{ id: "stateful", urn: "beam:transform:pardo:v1", payload }],
    });
    assert.throws(
      () => buildGraph(descriptor, () => noBundleServices()),
      /cannot use user state or timers/,
    );
  });

  it("bad batch options are errors that name the option", () => {
    const descriptor = linearDescriptor({
      id: "d",
      url: "unused",
      input: KV_SD,
      steps: [batchStep("bad", SCALE, { maxElements: 0 })],
    });
    assert.throws(
      () => buildGraph(descriptor, () => noBundleServices()),
      /batch\.maxElements must be a positive integer, got 0/,
    );
  });

  it("a channel split drops the decoded rows past its stop bound before any is handed on", () => {
    const coder = coderFromSpec(windowed(KV_SD)) as Coder<WindowedValue<unknown>>;
    const values = Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 3}`, value: i }));
    const bytes = encodeGlobal(KV_SD, values);
    const half = bytes.length >> 1;
    // Split after the first chunk's rows were claimed: keep half of the rest, or none of it.
    const cases = [{ fraction: 0.5 }, { fraction: 0 }];
    for (const c of cases) {
      const rows: number[] = [];
      const receiver = {
        takesBatches: true,
        batchLimits: { maxElements: 8, maxBytes: 1 << 20 },
        process: () => assert.fail("a columnar source hands on batches"),
        processBatch: (batch: ElementBatch) => {
          for (const [v] of batchValues(batch)) rows.push((v as { value: number }).value);
        },
      };
      const decoder = ColumnarDecoder.forCoder(coder, receiver.batchLimits)!;
      const source = new ColumnarDataSourceOperation("source", decoder, "c", receiver);
      source.startBundle();
      void source.consume(bytes.subarray(0, half));
      const claimed = source.splitGate.claimed;
      assert.ok(claimed > 0 && claimed < 40, `claimed ${claimed} in the first chunk`);
      const split = source.splitGate.trySplit({
        fractionOfRemainder: c.fraction,
        estimatedInputElements: 40,
        allowedSplitPoints: [],
      });
      const stop = claimed + Math.ceil((40 - claimed) * c.fraction);
      if (c.fraction === 0) assert.equal(split?.firstResidualElement, claimed);
      else assert.equal(split?.firstResidualElement, stop);
      void source.consume(bytes.subarray(half));
      void source.endOfInput();
      assert.deepEqual(
        rows,
        values.slice(0, stop).map((v) => v.value),
        `fraction ${c.fraction}: elements before the stop bound, each once`,
      );
      assert.equal(source.splitGate.claimed, stop);
    }
  });
});
