import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { instantiateDoFn } from "../../operations/pardo/dofn.js";
import { loadUserExport } from "../../operations/user-code/load-user-code.js";
import { shipUserCode } from "../../src/pipeline/ship-function.js";
import { mapDoFn } from "../../src/pipeline/wrappers.js";
import { locatedExpression, locateSource } from "../../src/pipeline/source-location.js";

const thisFile = fileURLToPath(import.meta.url);
const shownAs = path.relative(process.cwd(), thisFile);

/** 1-based line and column of the first occurrence of `marker` in this (compiled) file. */
function positionIn(marker: string): { line: number; column: number } {
  const text = fs.readFileSync(thisFile, "utf8");
  const at = text.indexOf(marker);
  assert.ok(at >= 0, marker);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

async function load(payload: { source?: string; export: string; config?: unknown }) {
  const exported = await loadUserExport({
    source: payload.source,
    export: payload.export,
    config: payload.config,
  });
  return instantiateDoFn(exported, "test");
}

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (err) {
    return err as Error;
  }
  assert.fail("did not throw");
}

test("a shipped function's frames name this file at the line and column where it is written", async () => {
  const payload = mapDoFn(
    function parse(x: number) {
      if (x === 3) throw new Error("bad record " + x); // marker: map-throw
      return x * 2;
    },
    'map "parse"',
    undefined,
  );
  assert.ok(payload.source);
  assert.ok(!payload.source.includes("data:"));
  const dofn = await load(payload);
  const { line, column } = positionIn('throw new Error("bad record " + x); // marker: map-throw');
  const err = thrown(() => dofn.process(3, {} as never));
  const frames = (err.stack ?? "").split("\n").slice(1);
  assert.equal(frames[0].trim(), `at parse (${shownAs}:${line}:${column + "throw ".length})`);
  assert.match(frames[1], /\(firefly:shipped:\d+:\d+\)/, "the wrapper is named as Firefly's");
});

test("each method of a DoFn object maps to its own line; a class to its own", async () => {
  const dofn = await load(
    shipUserCode(
      {
        setup() {
          return undefined;
        },
        process(x: number) {
          if (x < 0) throw new RangeError("negative"); // marker: method-throw
          return [x];
        },
      },
      'parDo "obj"',
    ),
  );
  const method = positionIn('throw new RangeError("negative"); // marker: method-throw');
  const err = thrown(() => dofn.process(-1, {} as never));
  assert.equal(
    err.stack?.split("\n")[1].trim(),
    `at Object.process (${shownAs}:${method.line}:${method.column + "throw ".length})`,
  );

  class Checker {
    process(x: number) {
      if (x === 0) throw new TypeError("zero"); // marker: class-throw
      return [x];
    }
  }
  const instance = await load(shipUserCode(Checker, 'parDo "class"'));
  const inClass = positionIn('throw new TypeError("zero"); // marker: class-throw');
  const classErr = thrown(() => instance.process(0, {} as never));
  assert.equal(
    classErr.stack?.split("\n")[1].trim(),
    `at Checker.process (${shownAs}:${inClass.line}:${inClass.column + "throw ".length})`,
  );
});

test("a function found in no file on the stack ships under a label, its frames still shown", async () => {
  const made = new Function("x", "if (x) throw new Error('made'); return [x];") as (
    x: unknown,
  ) => unknown;
  assert.equal(locateSource(made.toString()), undefined);
  const dofn = await load(mapDoFn(made, 'map "made"', undefined));
  const err = thrown(() => dofn.process(1, {} as never));
  assert.match(err.stack?.split("\n")[1] ?? "", /^ {4}at anonymous \(shipped:anonymous:3:14\)$/);
});

test("the layout puts the text at the line and column, or names it by its label", () => {
  const text = "(x) => x";
  const at = { file: "f.mjs", line: 3, column: 5 };
  const script = (expression: string | undefined) =>
    JSON.parse((expression ?? "").slice("eval(".length, -1)) as string;
  const located = script(locatedExpression(text, "(", "\n)", at));
  assert.equal(located.split("\n")[2].indexOf(text), 4, "line 3, column 5");
  assert.match(located, /\/\/# sourceURL=f\.mjs\n$/);
  assert.equal(
    locatedExpression(text, "({ a: (", "\n) }).a", { ...at, line: 1, column: 3 }),
    undefined,
  );
  assert.equal(
    script(locatedExpression(text, "(", "\n)", { ...at, line: 1, column: 3 })).indexOf(text),
    2,
  );
  assert.equal(
    script(locatedExpression(text, "(", "\n)", "shipped:f")),
    "((x) => x\n)\n//# sourceURL=shipped:f\n",
  );
  assert.equal(locatedExpression("() => import.meta.url", "(", ")", at), undefined);
});

test("a function of a module that is not on the stack is found where V8 says it is defined", async () => {
  const dir = fs.mkdtempSync(path.join(process.cwd(), ".source-location-test-"));
  try {
    const helper = path.join(dir, "helper.mjs");
    fs.writeFileSync(
      helper,
      'export function parse(x) {\n  if (x === 3) throw new Error("bad " + x);\n  return [x];\n}\n',
    );
    const mod = (await import(pathToFileURL(helper).href)) as { parse: (x: number) => unknown };
    assert.deepEqual(locateSource(mod.parse.toString(), mod.parse), {
      file: path.relative(process.cwd(), helper),
      line: 1,
      column: 8,
    });
    const dofn = await load(shipUserCode(mod.parse, 'parDo "parse"'));
    const err = thrown(() => dofn.process(3, {} as never));
    assert.equal(
      err.stack?.split("\n")[1].trim(),
      `at Object.parse [as process] (${path.relative(process.cwd(), helper)}:2:22)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
