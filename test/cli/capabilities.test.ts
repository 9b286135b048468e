import { test } from "node:test";
import assert from "node:assert/strict";
import { FIREFLY_PROTOCOLS, fireflyCapabilities } from "../../src/boot/capabilities.js";

test("capabilities list every standard coder Firefly implements, and its protocols", () => {
  const capabilities = fireflyCapabilities();
  for (const urn of [
    "beam:coder:bytes:v1",
    "beam:coder:kv:v1",
    "beam:coder:windowed_value:v1",
    "beam:coder:row:v1",
    "beam:coder:timer:v1",
    "beam:coder:length_prefix:v1",
  ]) {
    assert.ok(capabilities.includes(urn), urn);
  }
  for (const protocol of FIREFLY_PROTOCOLS) assert.ok(capabilities.includes(protocol), protocol);
  assert.equal(new Set(capabilities).size, capabilities.length, "no duplicates");
});
