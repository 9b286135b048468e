import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { fnApi } from "../../proto/index.js";
import {
  WorkerConnection,
  type ControlCall,
  type DataCall,
} from "../../src/runner/fn-api/worker-connection.js";

/** A connection whose control and data streams are plain emitters the test drives. */
function connection() {
  const control = Object.assign(new EventEmitter(), { write: () => true, end: () => undefined });
  const data = Object.assign(new EventEmitter(), { write: () => true });
  const conn = new WorkerConnection("w1", control as unknown as ControlCall);
  conn.attachData(data as unknown as DataCall);
  const seen: unknown[] = [];
  conn.receive("b1", {
    onData: (transformId, bytes, isLast) => seen.push(["data", transformId, [...bytes], isLast]),
    onTimers: (transformId, family, bytes, isLast) =>
      seen.push(["timers", transformId, family, [...bytes], isLast]),
    onProtocolViolation: (message) => seen.push(["violation", message]),
  });
  return { data, seen };
}

const entry = (transformId: string, bytes: number[], isLast = false) =>
  new fnApi.Elements.Data({
    instruction_id: "b1",
    transform_id: transformId,
    data: Uint8Array.from(bytes),
    is_last: isLast,
  });

test("bytes in an is_last entry are dropped and reported, as Beam Python's runner drops them", () => {
  const { data, seen } = connection();
  data.emit(
    "data",
    new fnApi.Elements({
      data: [entry("sink", [1]), entry("sink", [2, 3], true)],
      timers: [
        new fnApi.Elements.Timers({
          instruction_id: "b1",
          transform_id: "pardo",
          timer_family_id: "t",
          timers: Uint8Array.of(4),
          is_last: true,
        }),
      ],
    }),
  );
  assert.equal(seen.length, 5);
  assert.deepEqual(seen[0], ["data", "sink", [1], false]);
  assert.equal((seen[1] as string[])[0], "violation");
  assert.match((seen[1] as string[])[1], /2 bytes in the is_last entry of data stream "sink"/);
  assert.deepEqual(seen[2], ["data", "sink", [], true]);
  assert.match(
    (seen[3] as string[])[1],
    /1 bytes in the is_last entry of timer stream "pardo"\/"t"/,
  );
  assert.deepEqual(seen[4], ["timers", "pardo", "t", [], true]);
});

test("an empty is_last entry after the bytes is no violation", () => {
  const { data, seen } = connection();
  data.emit(
    "data",
    new fnApi.Elements({
      data: [entry("sink", [5]), entry("sink", [], true)],
    }),
  );
  assert.deepEqual(seen, [
    ["data", "sink", [5], false],
    ["data", "sink", [], true],
  ]);
});
