import { test } from "node:test";
import assert from "node:assert/strict";
import { BundleError, describeError, renderedError } from "../../harness/errors.js";
import { toLogEntry } from "../../harness/logging/log-forwarder.js";
import { OperationError, UserCodeError, nameStep } from "../../operations/errors.js";

const HARNESS_FILE = new URL("../../operations/pardo/pardo-operation.js", import.meta.url).href;

/** A user error as a shipped function throws it (its frame in the user's file, then harness frames). */
function userError(): Error {
  const err = new Error("bad record 3");
  err.stack = [
    "Error: bad record 3",
    "    at parse (bad.mjs:4:54)",
    "    at Object.default [as process] (firefly:shipped:4:13)",
    `    at ParDoOperation.processInWindow (${HARNESS_FILE}:218:32)`,
    "    at helper (/home/me/pipeline/helpers.mjs:10:3)",
    "    at TrackedReceiver.process (node:internal/whatever:1:1)",
    "    at async onMessage (/x/node_modules/piscina/dist/worker.js:180:22)",
    `    at async ${HARNESS_FILE}:22:16`,
  ].join("\n");
  return err;
}

test("a user code failure: step, method and message on the first line, the element, the user's frames", () => {
  const failure = new UserCodeError("Map(parse)", "process", userError(), { element: 3 });
  nameStep(failure, new Map([["Map(parse)", { unique_name: "Map(parse)" }]]));
  const text = describeError(
    new BundleError("bundle b1 failed", "b1", "Map(parse)", { cause: failure }),
  );
  assert.equal(
    text,
    [
      'step "Map(parse)" failed in process: Error: bad record 3',
      "  element: 3",
      "    at parse (bad.mjs:4:54)",
      "    at helper (/home/me/pipeline/helpers.mjs:10:3)",
    ].join("\n"),
  );
});

test("verbose keeps every frame, in the stack's order", () => {
  const failure = new UserCodeError("e5", "process", userError(), { element: "x" });
  nameStep(failure, new Map([["e5", { unique_name: "Map(parse)" }]]));
  const lines = describeError(failure, { verbose: true }).split("\n");
  assert.equal(
    lines[0],
    'step "Map(parse)" (transform "e5") failed in process: Error: bad record 3',
  );
  assert.equal(lines[1], "  element: 'x'");
  assert.equal(lines.length, 2 + 7);
  assert.match(lines[4], /ParDoOperation\.processInWindow/);
});

test("re-wrapped causes are said once", () => {
  const inner = new Error("bad record 3");
  const rewrapped = new Error(
    'UserCodeError: transform "t" failed in process: Error: bad record 3',
    {
      cause: new Error("bad record 3", { cause: inner }),
    },
  );
  const text = describeError(rewrapped);
  assert.equal(text.split("\n").filter((l) => l.includes("bad record 3")).length, 1, text);
});

test("a long element is cut short on one line", () => {
  const failure = new UserCodeError("t", "process", new Error("no"), {
    element: { line: "x".repeat(500), nested: { a: [1, 2, 3] } },
  });
  const element = describeError(failure).split("\n")[1];
  assert.match(element, /^ {2}element: \{ line: 'xxx.*…$/);
  assert.ok(element.length <= "  element: ".length + 120, element);
});

test("a rendering from a pool thread passes through a bundle error unchanged", () => {
  const rendered = renderedError(
    'step "s" failed in process: Error: no\n    at f (a.mjs:1:2)',
    "s",
  );
  const err = new BundleError(rendered.message, "b2", "s", { cause: rendered });
  assert.equal(describeError(err), rendered.message);
});

test("harness errors keep their message; their stack only with verbose", () => {
  const op = new OperationError("t", "beam:transform:x", "bad bytes");
  const err = new BundleError("bundle 7 failed", "7", "t", { cause: op });
  assert.equal(
    describeError(err),
    'bundle 7 failed: OperationError: transform "t" (beam:transform:x): bad bytes',
  );
  assert.match(describeError(err, { verbose: true }), /\n {4}at .*errors\.test\.js/);
  const bug = new TypeError("x is not a function");
  const lines = describeError(bug).split("\n");
  assert.equal(lines[0], "TypeError: x is not a function");
  assert.match(lines[1], /^ {4}at /, "an unexpected error shows where it happened");
  assert.equal(lines[2], "    (run with --verbose for the whole stack)");
});

test("non-Error throwables are described, never lost", () => {
  assert.equal(describeError("boom"), 'thrown value: "boom"');
  assert.equal(describeError(undefined), "thrown value: undefined");
  assert.equal(describeError({ code: 3 }), 'thrown value: {"code":3}');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(describeError(circular), "thrown value: [object Object]");
  assert.match(describeError(new Error("outer", { cause: 42 })), /caused by: thrown value: 42/);
  assert.equal(
    describeError(new UserCodeError("t", "process", "nope")),
    'step "t" failed in process: thrown value: "nope"',
  );
});

test("a failed instruction's log entry carries the rendered error as its trace", () => {
  const entry = toLogEntry({
    level: 40,
    time: 0,
    msg: "instruction failed",
    instructionId: "b1",
    error: 'step "s" failed in process: Error: no\n    at f (a.mjs:1:2)',
  });
  assert.equal(entry.message, "instruction failed");
  assert.equal(entry.trace, 'step "s" failed in process: Error: no\n    at f (a.mjs:1:2)');
});
