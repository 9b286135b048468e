import { test } from "node:test";
import assert from "node:assert/strict";
import { DescriptorCache } from "../../harness/control/descriptor-cache.js";
import { fnApi, pipelineApi } from "../../proto/index.js";

test("unknown descriptors are fetched once, even when requested concurrently", async () => {
  let fetches = 0;
  const cache = new DescriptorCache(async (id) => {
    fetches++;
    await new Promise((r) => setTimeout(r, 10));
    return new fnApi.ProcessBundleDescriptor({ id });
  });
  const [a, b] = await Promise.all([cache.get("d1"), cache.get("d1")]);
  assert.equal(a, b);
  assert.equal((await cache.get("d1")).id, "d1");
  assert.equal(fetches, 1);
});

test("a failed fetch is an error naming the descriptor and is retried next time", async () => {
  let calls = 0;
  const cache = new DescriptorCache(async (id) => {
    if (calls++ === 0) throw new Error("NOT_FOUND");
    return new fnApi.ProcessBundleDescriptor({ id });
  });
  await assert.rejects(cache.get("x"), /cannot fetch ProcessBundleDescriptor "x"/);
  assert.equal((await cache.get("x")).id, "x");
});

test("registering an id twice: identical content is fine, different content is an error", () => {
  const cache = new DescriptorCache(async () => {
    throw new Error("no fetch expected");
  });
  cache.register(new fnApi.ProcessBundleDescriptor({ id: "d" }));
  cache.register(new fnApi.ProcessBundleDescriptor({ id: "d" }));
  const different = new fnApi.ProcessBundleDescriptor({
    id: "d",
    pcollections: new Map([["p", new pipelineApi.PCollection({ coder_id: "c" })]]),
  });
  assert.throws(() => cache.register(different), /registered before with different content/);
});
