/**
 * Where bundles run when there are pool threads: history per descriptor, one
 * bundle on the conductor at a time, slow or failed bundles restart the streak.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SmallBundlePolicy } from "../../harness/bundle/small-bundle-policy.js";

function quickInPool(policy: SmallBundlePolicy, descriptorId: string, n: number): void {
  for (let i = 0; i < n; i++) {
    assert.equal(policy.place(descriptorId), "pool");
    policy.finished(descriptorId, "pool", 1, true);
  }
}

test("a descriptor runs on the conductor after enough quick bundles, per descriptor", () => {
  const policy = new SmallBundlePolicy({ quickBundlesNeeded: 3 });
  quickInPool(policy, "a", 3);
  assert.equal(policy.place("b"), "pool", "b has no history");
  policy.finished("b", "pool", 1, true);
  assert.equal(policy.place("a"), "inline");
  policy.finished("a", "inline", 1, true);
  assert.equal(policy.place("a"), "inline", "a quick inline bundle keeps the streak");
  policy.finished("a", "inline", 1, true);
});

test("only one bundle at a time runs on the conductor", () => {
  const policy = new SmallBundlePolicy({ quickBundlesNeeded: 1 });
  quickInPool(policy, "a", 1);
  assert.equal(policy.place("a"), "inline");
  assert.equal(policy.place("a"), "pool", "a second concurrent bundle goes to the pool");
  policy.finished("a", "pool", 1, true);
  policy.finished("a", "inline", 1, true);
  assert.equal(policy.place("a"), "inline");
});

test("a slow or failed bundle sends the descriptor back to the pool until it earns the streak again", () => {
  const policy = new SmallBundlePolicy({ quickBundlesNeeded: 2, poolQuickMs: 5, inlineQuickMs: 2 });
  quickInPool(policy, "a", 2);
  assert.equal(policy.place("a"), "inline");
  policy.finished("a", "inline", 3, true); // slower than 2 ms on the conductor
  quickInPool(policy, "a", 2);
  assert.equal(policy.place("a"), "inline");
  policy.finished("a", "inline", 1, false); // failed
  assert.equal(policy.place("a"), "pool");
  policy.finished("a", "pool", 6, true); // slower than 5 ms in a thread
  quickInPool(policy, "a", 1);
  assert.equal(policy.place("a"), "pool", "one quick bundle after a slow one is not enough");
  policy.finished("a", "pool", 1, true);
  assert.equal(policy.place("a"), "inline");
});
