/**
 * Ordered list user state (`beam:user_state:ordered_list:v1`) of a ParDo,
 * across bundles, against an in-memory State API with a runner's semantics
 * (sorted by sort key, ranged gets and clears).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader } from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { dofnPayload, kv, STR } from "../support/descriptors.js";
import { MemoryState, setUpOperation, wv } from "./support.js";

/** A DoFn driven by commands: "add:<ts>:<value>", "read[:<from>:<to>]", "clear:<from>:<to>", "clearAll". */
const COMMANDS = `export default {
  async process(e, ctx) {
    const list = ctx.state("events");
    const [cmd, a, b] = e.value.split(":");
    if (cmd === "add") { list.add({ timestamp: a.includes(".") ? Number(a) : BigInt(a), value: b === "nothing" ? undefined : b }); return []; }
    if (cmd === "clear") { list.clearRange(BigInt(a), Number(b)); return []; }
    if (cmd === "clearAll") { list.clear(); return []; }
    const entries = await list.read(a === undefined ? undefined : { from: Number(a), to: BigInt(b) });
    return [{ key: e.key, value: entries.map((x) => typeof x.timestamp + ":" + x.timestamp + "=" + x.value).join(" ") }];
  },
};`;

function orderedListDoFn(state: MemoryState) {
  return setUpOperation({
    urn: "beam:transform:pardo:v1",
    payload: dofnPayload(
      { source: COMMANDS },
      {
        state_specs: new Map([
          [
            "events",
            new pipelineApi.StateSpec({
              ordered_list_spec: new pipelineApi.OrderedListStateSpec({
                element_coder_id: "string_utf8",
              }),
            }),
          ],
        ]),
      },
    ),
    inputs: { in: kv(STR, STR) },
    extraCoders: [STR],
    state,
  });
}

const commands = (key: string, ...cmds: string[]) => cmds.map((value) => wv({ key, value }));
const show = (...entries: [number, string][]) =>
  entries.map(([ts, v]) => `bigint:${ts}=${v}`).join(" ");

test("ordered list state: sorted reads, ranges, clearRange and clear, across bundles and keys", async () => {
  const state = new MemoryState();
  const t = await orderedListDoFn(state);

  // Bundle 1: adds out of order; reads in the bundle see them sorted (nothing flushed yet).
  await t.runBundle(
    commands("k", "add:30:c", "add:10:a", "add:20:b", "add:-5:neg", "read", "read:10:30"),
  );
  assert.deepEqual(t.out().values, [
    { key: "k", value: show([-5, "neg"], [10, "a"], [20, "b"], [30, "c"]) },
    { key: "k", value: show([10, "a"], [20, "b"]) },
  ]);
  assert.equal(state.orderedLists.size, 1, "flushed at finishBundle to one list");
  const [stored] = [...state.orderedLists.values()];
  assert.deepEqual(
    stored.map((e) => [e.sortKey, new ByteReader(e.bytes).readUtf8(e.bytes.length)]),
    [
      [-5n, "neg"],
      [10n, "a"],
      [20n, "b"],
      [30n, "c"],
    ],
    "entries are TimestampedValues: KV<varint sort key, length-prefixed value>",
  );

  // Bundle 2: reads come from state; clearRange drops [10, 25) and later adds join in order.
  t.out().clear();
  await t.runBundle(commands("k", "read", "clear:10:25", "add:15:new", "read", "read:0:16"));
  assert.deepEqual(t.out().values, [
    { key: "k", value: show([-5, "neg"], [10, "a"], [20, "b"], [30, "c"]) },
    { key: "k", value: show([-5, "neg"], [15, "new"], [30, "c"]) },
    { key: "k", value: show([15, "new"]) },
  ]);

  // Bundle 3: what bundle 2 wrote is what the runner holds; another key is separate.
  t.out().clear();
  await t.runBundle([...commands("k", "read"), ...commands("other", "add:1:x", "read")]);
  assert.deepEqual(t.out().values, [
    { key: "k", value: show([-5, "neg"], [15, "new"], [30, "c"]) },
    { key: "other", value: show([1, "x"]) },
  ]);

  // Bundle 4: clear() empties the list, then adds after it are kept.
  t.out().clear();
  await t.runBundle(commands("k", "clearAll", "add:7:after", "read"));
  await t.runBundle(commands("k", "read"));
  assert.deepEqual(t.out().values, [
    { key: "k", value: show([7, "after"]) },
    { key: "k", value: show([7, "after"]) },
  ]);
  assert.ok(
    state.requests.every((r) => r.key.has_ordered_list_user_state),
    "every request uses an ordered_list_user_state key",
  );
});

test("ordered list state: a bad sort key or value fails in the user's call", async () => {
  const t = await orderedListDoFn(new MemoryState());
  await t.op.startBundle?.();
  for (const [command, cause] of [
    ["add:1.5:x", /timestamp must be a bigint or a safe integer \(millis\), got 1.5/],
    ["add:1:nothing", /./],
  ] as const) {
    await assert.rejects(
      async () => t.op.process(wv({ key: "k", value: command })),
      (err: unknown) =>
        err instanceof Error &&
        /^transform "under-test" failed in process: /.test(err.message) &&
        cause.test((err.cause as Error).message),
      command,
    );
  }
});
