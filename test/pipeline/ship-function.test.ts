import assert from "node:assert/strict";
import { test } from "node:test";
import { instantiateDoFn } from "../../operations/pardo/dofn.js";
import { loadUserExport } from "../../operations/user-code/load-user-code.js";
import { Pipeline, UnshippableFunctionError } from "../../src/pipeline/index.js";
import { functionExpression, shipUserCode } from "../../src/pipeline/ship-function.js";

/** Loads a shipped payload as the worker does and returns its DoFn. */
async function load(payload: { source?: string; export: string; config?: unknown }) {
  assert.ok(payload.source, "shipped as source");
  const exported = await loadUserExport({
    source: payload.source,
    export: payload.export,
    config: payload.config,
  });
  return instantiateDoFn(exported, "test");
}

test("functions of every form ship as ES modules that load from a data: URL and behave", async () => {
  async function* gen(x: number) {
    yield x;
    yield x + 1;
  }
  const methods = {
    double(x: number) {
      return [x * 2];
    },
    async asyncMethod(x: number) {
      return [x + 0.5];
    },
    *generator(x: number) {
      yield -x;
    },
  };
  const cases: [string, unknown, unknown[]][] = [
    ["arrow", (x: number) => [x + 1], [2]],
    [
      "function",
      function named(x: number) {
        return [x * 10];
      },
      [10],
    ],
    ["async generator", gen, [1, 2]],
    ["method shorthand", methods.double, [2]],
    ["async method", methods.asyncMethod, [1.5]],
    ["generator method", methods.generator, [-1]],
  ];
  for (const [what, fn, expected] of cases) {
    const dofn = await load(shipUserCode(fn, what));
    const result = await dofn.process(1, {});
    const out: unknown[] = [];
    if (result && Symbol.asyncIterator in (result as object))
      for await (const v of result as AsyncIterable<unknown>) out.push(v);
    else out.push(...(result as Iterable<unknown>));
    assert.deepEqual(out, expected, what);
  }
});

test("DoFn objects ship their methods, nested onTimer callbacks and plain data; classes and instances ship the class", async () => {
  const dofn = {
    threshold: 3,
    labels: ["a", "b"],
    setup(config: { base: number }) {
      (this as unknown as { base: number }).base = config.base;
    },
    process(this: { base: number; threshold: number }, x: number) {
      return x > this.threshold ? [this.base + x] : [];
    },
    onTimer: {
      flush: () => ["flushed"],
    },
  };
  const shipped = shipUserCode(dofn, "Obj", { base: 100 });
  assert.deepEqual(shipped.config, { base: 100 });
  const loaded = await load(shipped);
  await loaded.setup?.({ base: 100 });
  assert.deepEqual(loaded.process(5, {}), [105]);
  assert.deepEqual(loaded.process(1, {}), []);
  assert.deepEqual(await loaded.onTimer?.flush({}, {}), ["flushed"]);
  class Counter {
    n = 0;
    process(x: number) {
      this.n += x;
      return [this.n];
    }
  }
  for (const form of [Counter, new Counter()]) {
    const c = await load(shipUserCode(form, "Counter"));
    assert.deepEqual(c.process(2, {}), [2]);
    assert.deepEqual(c.process(3, {}), [5]);
  }
});

test("unshippable functions are errors at construction that name the function", () => {
  function helper(x: number) {
    return x;
  }
  const p = new Pipeline({});
  const pc = p.create([1, 2]);
  assert.throws(
    () => pc.map(Math.abs),
    (err: Error) =>
      err instanceof UnshippableFunctionError &&
      /Map\(abs\) "abs" is native code/.test(err.message),
  );
  assert.throws(
    () => pc.map(helper.bind(null)),
    (err: Error) => /"bound helper" is a bound function/.test(err.message),
  );
  assert.throws(() => pc.parDo(parseInt), /"parseInt" is native code/);
  assert.throws(() => pc.parDo({ process: Math.max }), /ParDo\.process "max" is native code/);
  assert.throws(
    () => pc.parDo({ process: (x: number) => [x], handle: Symbol("s") }),
    /ParDo\.handle cannot be shipped: symbol/,
  );
  assert.throws(() => pc.parDo(42 as never), /ParDo is number: pass a function/);
  const fake = () => 0;
  Object.defineProperty(fake, "toString", { value: () => "not javascript {" });
  // Function.prototype.toString is used, not an overridden toString: still shippable.
  assert.doesNotThrow(() => functionExpression(fake, "fake"));
});
