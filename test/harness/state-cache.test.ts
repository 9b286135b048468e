import { test } from "node:test";
import assert from "node:assert/strict";
import { StateCache } from "../../harness/state/state-cache.js";

const page = (n: number) => new Uint8Array(n);

test("least recently used values are evicted past the byte capacity", () => {
  const cache = new StateCache(1000);
  cache.put("a", [page(300)]);
  cache.put("b", [page(300)]);
  assert.ok(cache.get("a")); // a becomes most recent
  cache.put("c", [page(300)]); // evicts b
  assert.equal(cache.get("b"), undefined);
  assert.ok(cache.get("a"));
  assert.ok(cache.get("c"));
  const stats = cache.snapshot();
  assert.equal(stats.evictions, 1);
  assert.ok(stats.bytes <= 1000);
});

test("a value larger than the capacity is not cached", () => {
  const cache = new StateCache(100);
  cache.put("big", [page(200)]);
  assert.equal(cache.get("big"), undefined);
  assert.equal(cache.snapshot().entries, 0);
});

test("appends extend a cached value; hits and misses are counted", () => {
  const cache = new StateCache(10_000);
  cache.append("missing", page(1));
  assert.equal(cache.get("missing"), undefined);
  cache.put("k", [Uint8Array.of(1)]);
  cache.append("k", Uint8Array.of(2));
  assert.deepEqual(
    cache.get("k")?.map((p) => [...p]),
    [[1], [2]],
  );
  assert.deepEqual(
    { hits: cache.snapshot().hits, misses: cache.snapshot().misses },
    { hits: 1, misses: 1 },
  );
});
