import { test } from "node:test";
import assert from "node:assert/strict";
import { outboundElements } from "../../harness/data/outbound-elements.js";

const plain = (m: ReturnType<typeof outboundElements>) => ({
  data: m.data.map((d) => [d.transform_id, [...d.data], d.is_last]),
  timers: m.timers.map((t) => [t.timer_family_id, [...t.timers], t.is_last]),
});

test("a final chunk with bytes becomes a bytes entry, then an empty is_last entry", () => {
  const m = outboundElements({ instructionId: "i", transformId: "s" }, Uint8Array.of(1, 2), true);
  assert.deepEqual(plain(m), {
    data: [
      ["s", [1, 2], false],
      ["s", [], true],
    ],
    timers: [],
  });
  assert.ok(m.data.every((d) => d.instruction_id === "i"));
});

test("an empty final chunk is one empty is_last entry; other chunks are one entry", () => {
  const id = { instructionId: "i", transformId: "s" };
  assert.deepEqual(plain(outboundElements(id, new Uint8Array(), true)).data, [["s", [], true]]);
  assert.deepEqual(plain(outboundElements(id, Uint8Array.of(7), false)).data, [["s", [7], false]]);
});

test("timer streams are framed the same way, in timer entries", () => {
  const m = outboundElements(
    { instructionId: "i", transformId: "t", timerFamilyId: "f" },
    Uint8Array.of(9),
    true,
  );
  assert.deepEqual(plain(m), {
    data: [],
    timers: [
      ["f", [9], false],
      ["f", [], true],
    ],
  });
});
