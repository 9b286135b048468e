/**
 * Combining and set state: changes that nobody awaits (a DoFn adding for
 * elements that arrive back to back, or twice in one call) apply in call
 * order even when one of them is async (an async CombineFn, a set's remove),
 * and clear/read/flush see them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { VarIntCoder } from "../../coders/index.js";
import { fnApi } from "../../proto/index.js";
import { combiningHandle, setHandle } from "../../operations/pardo/state-handles.js";
import { BagCell } from "../../operations/pardo/user-state.js";
import { MemoryState } from "./support.js";

/** Sum, every method async (yields before answering). */
const asyncSum = {
  createAccumulator: async () => {
    await new Promise((r) => setImmediate(r));
    return 0;
  },
  addInput: async (acc: unknown, x: unknown) => {
    await new Promise((r) => setImmediate(r));
    return (acc as number) + (x as number);
  },
  mergeAccumulators: (accs: unknown[]) => (accs as number[]).reduce((a, b) => a + b, 0),
  extractOutput: (acc: unknown) => acc,
};

function handle(state = new MemoryState()) {
  const key = new fnApi.StateKey({
    bag_user_state: new fnApi.StateKey.BagUserState({
      transform_id: "t",
      user_state_id: "total",
      window: new Uint8Array(),
      key: new Uint8Array([1]),
    }),
  });
  return {
    state,
    total: combiningHandle(new BagCell(key, new VarIntCoder(), () => state), asyncSum),
  };
}

test("adds not awaited apply in order with an async CombineFn", async () => {
  const { total } = handle();
  void total.add(1);
  void total.add(2);
  void total.add(3);
  assert.equal(await total.read(), 6);
});

test("clear (not awaited) comes after the adds before it and before the adds after it", async () => {
  const { total } = handle();
  void total.add(10);
  void total.clear();
  void total.add(5);
  void total.add(7);
  assert.equal(await total.read(), 12);
});

test("flush writes one accumulator holding every add", async () => {
  const { state, total } = handle();
  void total.add(4);
  void total.add(6);
  await total.flush();
  const again = handle(state).total;
  assert.equal(await again.read(), 10);
});

test("set state: an add right after a remove nobody awaited is kept; the remove applies first", async () => {
  const state = new MemoryState();
  const key = new fnApi.StateKey({
    bag_user_state: new fnApi.StateKey.BagUserState({
      transform_id: "t",
      user_state_id: "seen",
      window: new Uint8Array(),
      key: new Uint8Array([2]),
    }),
  });
  const seen = setHandle(new BagCell(key, new VarIntCoder(), () => state), new VarIntCoder());
  void seen.add(1);
  void seen.add(2);
  void seen.remove(1);
  void seen.add(3);
  void seen.add(1);
  assert.deepEqual([...(await seen.read())].sort(), [1, 2, 3]);
  void seen.remove(2);
  await seen.flush();
  const again = setHandle(new BagCell(key, new VarIntCoder(), () => state), new VarIntCoder());
  assert.deepEqual([...(await again.read())].sort(), [1, 3]);
  assert.throws(() => seen.add("not a number" as unknown as number), /varint/i);
});
