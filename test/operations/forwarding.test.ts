/**
 * flatten, the pass-through URNs and to_string against in-memory inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { intervalWindow, ON_TIME_AND_ONLY_FIRING } from "../../coders/index.js";
import { OperationError } from "../../operations/errors.js";
import { FLATTEN_URN } from "../../operations/flatten.js";
import { registeredOperationUrns } from "../../operations/index.js";
import { PASSTHROUGH_URNS } from "../../operations/passthrough.js";
import { humanReadable, TO_STRING_URN } from "../../operations/to-string.js";
import { BYTES, kv, STR, VARINT } from "../support/descriptors.js";
import { buildOperation, setUpOperation, wv } from "./support.js";

test("every operation of this layer is registered by importing operations/index.js", () => {
  const urns = registeredOperationUrns();
  for (const urn of [
    FLATTEN_URN,
    TO_STRING_URN,
    ...PASSTHROUGH_URNS,
    "beam:transform:window_into:v1",
    "beam:transform:map_windows:v1",
    "beam:transform:merge_windows:v1",
  ]) {
    assert.ok(urns.includes(urn), `${urn} is registered`);
  }
});

test("flatten forwards every element of every input unchanged, in order", async () => {
  const t = await setUpOperation({
    urn: FLATTEN_URN,
    inputs: { a: STR, b: STR },
    outputs: { out: STR },
  });
  const window = intervalWindow(0n, 10n);
  const elements = [
    wv("from-a", { timestamp: 3n, windows: [window] }),
    wv("from-b", { timestamp: 4n }),
    { ...wv("from-a-2"), pane: ON_TIME_AND_ONLY_FIRING },
  ];
  await t.runBundle(elements);
  assert.deepEqual(t.out().elements, elements);
  assert.equal(t.out().elements[0], elements[0], "no copy is made");
});

test("flatten with no consumer discards; with two outputs it is an error naming the transform", () => {
  const none = buildOperation({ urn: FLATTEN_URN, outputs: {} });
  assert.equal(none.op.process(wv(new Uint8Array())), undefined);
  assert.throws(
    () => buildOperation({ urn: FLATTEN_URN, outputs: { x: BYTES, y: BYTES } }),
    (err: unknown) =>
      err instanceof OperationError &&
      /transform "under-test" \(beam:transform:flatten:v1\): expected one output, found 2 \(x, y\)/.test(
        err.message,
      ),
  );
});

test("reshuffle, redistribute and Python's identity DoFn pass elements through", async () => {
  for (const urn of PASSTHROUGH_URNS) {
    const t = await setUpOperation({ urn, inputs: { in: kv(STR, VARINT) } });
    const element = wv({ key: "k", value: 1 }, { timestamp: 9n });
    await t.runBundle([element]);
    assert.deepEqual(t.out().elements, [element], urn);
  }
});

test("to_string: KV<nonce, T> → KV<nonce, string>, keeping timestamp, windows and pane", async () => {
  const t = await setUpOperation({
    urn: TO_STRING_URN,
    inputs: { in: kv(BYTES, STR) },
    outputs: { out: kv(BYTES, STR) },
  });
  const nonce = new Uint8Array([7]);
  const window = intervalWindow(0n, 10n);
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
    toString() {
      return `(${this.x}, ${this.y})`;
    }
  }
  const values: unknown[] = [
    "plain",
    42,
    2n ** 70n,
    new Uint8Array([1, 2]),
    { key: "k", value: [1, 2] },
    new Point(1, 2),
    null,
  ];
  await t.runBundle(
    values.map((value) => wv({ key: nonce, value }, { timestamp: 5n, windows: [window] })),
  );
  const out = t.out().elements;
  assert.deepEqual(
    out.map((e) => e.value),
    [
      "plain",
      "42",
      "1180591620717411303424n",
      "Uint8Array(2) [ 1, 2 ]",
      "{ key: 'k', value: [ 1, 2 ] }",
      "(1, 2)",
      "null",
    ].map((text) => ({ key: nonce, value: text })),
  );
  for (const e of out) {
    assert.equal(e.timestamp, 5n);
    assert.deepEqual(e.windows, [window]);
  }
  assert.equal(humanReadable("x"), "x");
});

test("to_string: an input that is not a KV, or a toString that throws, is an error naming the transform", async () => {
  const t = await setUpOperation({ urn: TO_STRING_URN, inputs: { in: kv(BYTES, STR) } });
  assert.throws(
    () => t.op.process(wv("no nonce")),
    /transform "under-test" \(beam:transform:to_string:v1\): expected a KV<nonce, value>/,
  );
  const hostile = {
    toString() {
      throw new Error("refuses");
    },
  };
  assert.throws(
    () => t.op.process(wv({ key: new Uint8Array(), value: hostile })),
    /"under-test".*cannot render the element: refuses/,
  );
});
