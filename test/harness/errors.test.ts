import { test } from "node:test";
import assert from "node:assert/strict";
import { BundleError, describeError } from "../../harness/errors.js";

test("the description keeps the cause chain and the innermost stack", () => {
  const user = new TypeError("x is not a function");
  const err = new BundleError("bundle 7 failed", "7", "ParDo(Upper)", {
    cause: new Error("user code failed", { cause: user }),
  });
  const text = describeError(err);
  assert.match(
    text,
    /^BundleError: bundle 7 failed\ncaused by: Error: user code failed\ncaused by: TypeError: x is not a function\n/,
  );
  assert.ok(text.includes(user.stack as string), "the user's stack is included");
});

test("non-Error throwables are described, never lost", () => {
  assert.equal(describeError("boom"), 'thrown value: "boom"');
  assert.equal(describeError(undefined), "thrown value: undefined");
  assert.equal(describeError({ code: 3 }), 'thrown value: {"code":3}');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(describeError(circular), "thrown value: [object Object]");
  assert.match(describeError(new Error("outer", { cause: 42 })), /caused by: thrown value: 42/);
});
