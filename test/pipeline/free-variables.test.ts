import assert from "node:assert/strict";
import { test } from "node:test";
import { Pipeline, UnshippableFunctionError } from "../../src/pipeline/index.js";
import { freeVariables } from "../../src/pipeline/free-variables.js";

/** The free variables of a function's source text, sorted. */
const free = (source: string): string[] => {
  const found = freeVariables(source);
  assert.ok(found, `parses: ${source}`);
  return [...found.free];
};

test("map using a variable of the building module fails at build time naming the variable, the step and the fix", () => {
  const factor = 10;
  const p = new Pipeline({});
  assert.throws(
    () => p.create([1]).map((x: number) => x * factor, { name: "Scale" }),
    (err: Error) =>
      err instanceof UnshippableFunctionError &&
      err.message ===
        'map "Scale" uses "factor", a variable of the module that builds the pipeline: functions are shipped as source text and run on workers; pass it in config: { config: { factor } } and read ctx.config.factor',
  );
  // The fix builds.
  assert.doesNotThrow(() =>
    p
      .create([1], { name: "Fixed" })
      .map((x: number, ctx) => x * ctx.config.factor, { name: "Scale", config: { factor } }),
  );
});

test("every transform that ships a function checks it: map, flatMap, filter, withTimestamps, parDo, combinePerKey, combineGlobally, combining state", () => {
  const limit = 3;
  const offset = 1;
  const p = new Pipeline({});
  const pc = p.create([{ key: "a", value: 1 }]);
  const nums = p.create([1, 2], { name: "Nums" });
  const cases: [string, () => unknown, string][] = [
    ["flatMap", () => nums.flatMap((x: number) => [x, limit]), 'flatMap "FlatMap" uses "limit"'],
    ["filter", () => nums.filter((x: number) => x > limit), 'filter "Filter" uses "limit"'],
    [
      "withTimestamps",
      () => nums.withTimestamps((x: number) => x + offset, { name: "Stamp" }),
      'withTimestamps "Stamp" uses "offset"',
    ],
    [
      "map, a named function",
      () =>
        nums.map(function scale(x: number) {
          return x * limit;
        }),
      'map "Map(scale)" uses "limit"',
    ],
    [
      "parDo function",
      () => nums.parDo((x: number) => [x + offset]),
      'parDo "ParDo" uses "offset"',
    ],
    [
      "parDo object method",
      () =>
        nums.parDo(
          {
            setup(config: { limit: number }) {
              (this as unknown as { limit: number }).limit = config.limit;
            },
            process(x: number) {
              return x > limit ? [x] : [];
            },
          },
          { name: "Split", config: { limit } },
        ),
      'parDo "Split".process uses "limit"',
    ],
    [
      "parDo nested onTimer",
      () =>
        pc.parDo(
          { process: () => [], onTimer: { flush: () => [offset] } },
          { name: "Timers", timers: { flush: "event" } },
        ),
      'parDo "Timers".onTimer.flush uses "offset"',
    ],
    [
      "parDo class",
      () =>
        nums.parDo(
          class Doubler {
            process(x: number) {
              return [x * limit];
            }
          },
        ),
      'parDo "ParDo(Doubler)" uses "limit"',
    ],
    [
      "parDo instance",
      () => {
        class Adder {
          process(x: number) {
            return [x + offset];
          }
        }
        return nums.parDo(new Adder(), { name: "Add" });
      },
      'parDo "Add" uses "offset"',
    ],
    [
      "combinePerKey",
      () =>
        pc.combinePerKey({
          createAccumulator: () => limit,
          addInput: (a: number, x: number) => a + x,
          mergeAccumulators: (as: number[]) => as.reduce((a, b) => a + b, 0),
          extractOutput: (a: number) => a,
        }),
      'combinePerKey "CombinePerKey".createAccumulator uses "limit", a variable of the module that builds the pipeline: functions are shipped as source text and run on workers; pass it in config: { config: { limit } } and read it in setup(config) as config.limit',
    ],
    [
      "combineGlobally",
      () =>
        nums.combineGlobally(
          {
            createAccumulator: () => 0,
            addInput: (a: number, x: number) => a + x * offset,
            mergeAccumulators: (as: number[]) => as.reduce((a, b) => a + b, 0),
            extractOutput: (a: number) => a,
          },
          { name: "Total" },
        ),
      'combineGlobally "Total".addInput uses "offset"',
    ],
    [
      "combining state",
      () =>
        pc.parDo((x: unknown) => [x], {
          name: "Stateful",
          state: {
            total: {
              kind: "combining",
              combineFn: {
                createAccumulator: () => 0,
                addInput: (a: number, x: number) => a + x + offset,
                mergeAccumulators: (as: number[]) => as.reduce((a, b) => a + b, 0),
                extractOutput: (a: number) => a,
              },
            },
          },
        }),
      'parDo "Stateful" state "total".addInput uses "offset"',
    ],
  ];
  for (const [what, build, message] of cases)
    assert.throws(
      build,
      (err: Error) => err instanceof UnshippableFunctionError && err.message.startsWith(message),
      `${what}: expected ${message}`,
    );
});

test("several free variables are named together; the fix lists them all", () => {
  const a = 1;
  const b = 2;
  const p = new Pipeline({});
  assert.throws(() => p.create([1]).map((x: number) => x * a + b, { name: "Affine" }), {
    message:
      'map "Affine" uses "a" and "b", variables of the module that builds the pipeline: functions are shipped as source text and run on workers; pass them in config: { config: { a, b } } and read ctx.config.a, ctx.config.b',
  });
});

test("what is declared inside, a parameter or a global is not free", () => {
  const selfContained = [
    // parameters, default parameters reading earlier ones, destructuring, rest
    "(x, y = x + 1, { a, b: [c, d = a] }, ...rest) => x + y + a + c + d + rest.length",
    // locals, shadowing, blocks, loops, hoisted var and function declarations
    `function f(x) {
      if (x) { var v = 1; }
      for (let i = 0; i < 3; i++) v += i;
      for (const k of [1]) v += k;
      for (const key in {}) v += key;
      const g = () => h(v);
      function h(n) { return n; }
      return g() + arguments.length;
    }`,
    // catch parameters, labels, switch-scoped declarations
    `(x) => {
      outer: for (const a of x) { for (const b of a) { if (b) continue outer; break outer; } }
      try { JSON.parse(x); } catch ({ message }) { return message; }
      try { x(); } catch { /* no binding */ }
      switch (x) { case 1: { const y = 2; return y; } case 2: let z = 3; return z; }
    }`,
    // property names, object keys, methods, computed keys of locals, optional chaining
    "(x) => { const k = 'a'; return { a: x.b.c, [k]: x?.d, method() { return this.a; }, get e() { return 1; } }; }",
    // named function expressions and classes refer to themselves; this, new.target, private fields, static blocks
    "function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }",
    `class Acc {
      #n = 0;
      static zero = new Acc();
      static { const s = Acc.zero; s.#n = 0; }
      add(x) { this.#n += x; return #n in this ? new.target : Acc; }
    }`,
    // method shorthand (as a DoFn method's source), setup(config) with this
    "setup(config) { this.limit = config.limit; }",
    "async *process(element, ctx) { for await (const x of element) yield x * ctx.config.factor; }",
    // globals: standard and Node's, typeof on an undeclared name, dynamic import, import.meta
    "async (x) => [Math.max(x, 0), JSON.stringify(x), Buffer.from('a'), process.pid, new URL('file:///'), structuredClone(x), typeof window === 'undefined', (await import('node:fs')).existsSync, import.meta.url, globalThis.x, undefined, NaN]",
    // template literals and tagged templates with locals
    "(x) => { const tag = (s) => s; return `${x}` + tag`y`; }",
  ];
  for (const source of selfContained) assert.deepEqual(free(source), [], source);
});

test("what is not declared inside is free, wherever it appears", () => {
  const cases: [string, string[]][] = [
    ["(x) => x * factor", ["factor"]],
    ["(x) => ({ factor })", ["factor"]], // shorthand property: a reference
    ["(x) => ({ [key]: x })", ["key"]], // computed key
    ["(x) => x[key]", ["key"]], // computed member
    ["(x) => `${prefix}${x}`", ["prefix"]],
    ["(x, y = base) => x + y", ["base"]], // default parameter
    ["({ a = fallback }) => a", ["fallback"]], // destructuring default
    ["(x) => { { const k = 1; } return k; }", ["k"]], // block-scoped elsewhere
    ["(x) => { count++; total = x; }", ["count", "total"]], // assignments
    ["(x) => { [first, second] = x; }", ["first", "second"]],
    ["(x) => { for (item of x); }", ["item"]],
    ["(x) => helper(x)", ["helper"]],
    ["(x) => new Parser(x).parse()", ["Parser"]],
    ["class Mine extends Base { process(x) { return [x]; } }", ["Base"]],
    ["process(x) { return [x * this.k + shift]; }", ["shift"]],
    ["(x) => { try { x(); } catch (e) { log(e); } }", ["log"]],
    ["(x) => typeof x === 'string' ? label : x", ["label"]],
    ["(x) => require('fs')", ["require"]], // workers load ES modules
    ["(x) => __dirname + x", ["__dirname"]],
  ];
  for (const [source, names] of cases) assert.deepEqual(free(source), names, source);
  const args = freeVariables("(x) => arguments[0]");
  assert.ok(args?.argumentsInArrow);
  assert.equal(
    freeVariables("function f() { return () => arguments[0]; }")?.argumentsInArrow,
    false,
  );
  const p = new Pipeline({});
  const fn = new Function("return (x) => arguments.length")() as (x: number) => number;
  assert.throws(() => p.create([1]).map(fn, { name: "Args" }), {
    message:
      'map "Args" uses "arguments" in an arrow function, which has none where it is shipped: use rest parameters ((...args) => ...)',
  });
});

test("module references are not parsed; built-in combiners and self-contained functions build", () => {
  const p = new Pipeline({});
  const pc = p.create([{ key: "a", value: 1 }]);
  assert.doesNotThrow(() => pc.parDo({ module: "./does-not-matter.mjs", export: "fn" }));
  assert.doesNotThrow(() => pc.combinePerKey("sum", { name: "Sum" }));
  assert.doesNotThrow(() => pc.combinePerKey({ module: "./c.mjs" }, { name: "Mod" }));
  assert.doesNotThrow(() =>
    pc
      .map((kv: { key: string; value: number }, ctx) => ({ ...kv, v: kv.value * ctx.config.k }), {
        config: { k: 2 },
      })
      .reshuffle()
      .combineGlobally("count"),
  );
});
