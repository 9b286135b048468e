/**
 * Side-input views of a ParDo (issue 19): a multimap view reads each key
 * once per bundle (and again in the next bundle: the view lives one bundle),
 * callers get copies, and decoded values are remembered per cached page list.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { coderFromSpec } from "../../coders/index.js";
import { fnApi, pipelineApi } from "../../proto/index.js";
import { decodeViewPages } from "../../operations/pardo/decoded-views.js";
import { dofnPayload, kv, STR, VARINT } from "../support/descriptors.js";
import { GLOBAL_WINDOW_BYTES } from "../integration/support.js";
import { MemoryState, setUpOperation, wv } from "./support.js";

/** Looks the element up twice in multimap `x` (changing the first answer), and lists its keys. */
const JOIN = `export default async (e, ctx) => {
  const view = await ctx.sideInput("x");
  const first = await view.get(e);
  first.push(999);
  const again = await view.get(e);
  const keys = await view.keys();
  keys.push("extra");
  return [e + "=" + again.join(",") + "/" + (await view.keys()).length];
};`;

function sideKey(key: string): fnApi.StateKey {
  return new fnApi.StateKey({
    multimap_side_input: new fnApi.StateKey.MultimapSideInput({
      transform_id: "under-test",
      side_input_id: "x",
      window: GLOBAL_WINDOW_BYTES,
      key: coderFromSpec(STR).encode(key, "nested"),
    }),
  });
}

test("a multimap view reads each key once per bundle and hands out copies", async () => {
  const state = new MemoryState();
  const varint = coderFromSpec(VARINT);
  const id = (k: fnApi.StateKey) => Buffer.from(k.serializeBinary()).toString("base64");
  state.bags.set(id(sideKey("tea")), [varint.encode(350, "nested"), varint.encode(1, "nested")]);
  state.bags.set(id(sideKey("pen")), [varint.encode(199, "nested")]);
  const keysKey = new fnApi.StateKey({
    multimap_keys_side_input: new fnApi.StateKey.MultimapKeysSideInput({
      transform_id: "under-test",
      side_input_id: "x",
      window: GLOBAL_WINDOW_BYTES,
    }),
  });
  const str = coderFromSpec(STR);
  state.bags.set(id(keysKey), [str.encode("tea", "nested"), str.encode("pen", "nested")]);
  const t = await setUpOperation({
    urn: "beam:transform:pardo:v1",
    payload: dofnPayload(
      { source: JOIN },
      {
        side_inputs: new Map([
          [
            "x",
            new pipelineApi.SideInput({
              access_pattern: new pipelineApi.FunctionSpec({ urn: "beam:side_input:multimap:v1" }),
            }),
          ],
        ]),
      },
    ),
    inputs: { in: STR, x: kv(STR, VARINT) },
    outputs: { out: STR },
    state,
  });
  const gets = () => state.requests.filter((r) => r.kind === "get").length;
  await t.runBundle(["tea", "pen", "tea", "cake", "tea"].map((s) => wv(s)));
  assert.deepEqual(t.out().values, [
    "tea=350,1/2",
    "pen=199/2",
    "tea=350,1/2",
    "cake=/2",
    "tea=350,1/2",
  ]);
  assert.equal(gets(), 3 + 1, "tea, pen, cake once each, keys once");
  t.out().clear();
  // A new bundle reads again (the view lives one bundle; caches across bundles need a token).
  await t.runBundle(["tea"].map((s) => wv(s)));
  assert.deepEqual(t.out().values, ["tea=350,1/2"]);
  assert.equal(gets(), 4 + 2);
});

test("decoded values are remembered per page list and coder", () => {
  const varint = coderFromSpec(VARINT);
  const pages = [varint.encode(1, "nested"), varint.encode(2, "nested")];
  const first = decodeViewPages(pages, varint);
  assert.deepEqual(first, [1, 2]);
  assert.equal(decodeViewPages(pages, varint), first, "the same array: decoded once");
  const appended = [...pages, varint.encode(3, "nested")];
  assert.deepEqual(decodeViewPages(appended, varint), [1, 2, 3]);
  assert.notEqual(decodeViewPages(pages, coderFromSpec(VARINT)), first, "another coder decodes");
});
