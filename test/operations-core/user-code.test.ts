import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { instantiateDoFn } from "../../operations/pardo/dofn.js";
import {
  addUserCodeRoot,
  loadUserExport,
  resolveUserModule,
} from "../../operations/user-code/load-user-code.js";
import { parseUserCodeSpec } from "../../operations/user-code/user-code-spec.js";

const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

test("payloads are validated with messages that say what is wrong", () => {
  assert.throws(
    () => parseUserCodeSpec(new Uint8Array([0xff]), "DoFn"),
    /DoFn payload is not UTF-8 JSON/,
  );
  assert.throws(() => parseUserCodeSpec(bytes([1]), "DoFn"), /must be a JSON object/);
  assert.throws(
    () => parseUserCodeSpec(bytes({ module: "a", source: "b" }), "DoFn"),
    /exactly one of "module" and "source"/,
  );
  assert.throws(
    () => parseUserCodeSpec(bytes({ source: "x", export: 3 }), "DoFn"),
    /"export" must be a string/,
  );
  assert.deepEqual(parseUserCodeSpec(bytes({ source: "s", config: { a: 1 } }), "DoFn"), {
    module: undefined,
    source: "s",
    export: "default",
    config: { a: 1 },
  });
});

test("source modules load from their text; a missing export lists what exists", async () => {
  const spec = parseUserCodeSpec(
    bytes({ source: "export const up = (s) => s.toUpperCase(); export default 1;", export: "up" }),
    "DoFn",
  );
  const fn = (await loadUserExport(spec)) as (s: string) => string;
  assert.equal(fn("a"), "A");
  await assert.rejects(
    loadUserExport({ ...spec, export: "down" }),
    /has no export "down" \(exports: default, up\)/,
  );
  await assert.rejects(
    loadUserExport({ source: "export const = ;", export: "x", config: undefined }),
    /cannot load inline source/,
  );
});

test("modules resolve under the allowed roots only", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-code-"));
  try {
    fs.writeFileSync(path.join(dir, "fn.mjs"), "export function double(x) { return [x * 2]; }\n");
    assert.throws(
      () => resolveUserModule(path.join(dir, "fn.mjs")),
      /outside the working directory and staged artifacts/,
    );
    addUserCodeRoot(dir);
    const fn = (await loadUserExport({
      module: path.join(dir, "fn.mjs"),
      export: "double",
      config: undefined,
    })) as (x: number) => number[];
    assert.deepEqual(fn(21), [42]);
    assert.throws(() => resolveUserModule("./does-not-exist.mjs"), /cannot resolve user module/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a DoFn may be a function, an object or a class; each processor gets its own instance", () => {
  const fromFn = instantiateDoFn((x: unknown) => [x], "f");
  assert.deepEqual(fromFn.process(1, {}), [1]);
  const shared = {
    count: 0,
    process() {
      this.count++;
      return undefined;
    },
  };
  const a = instantiateDoFn(shared, "o") as unknown as typeof shared;
  a.process();
  assert.equal(a.count, 1);
  assert.equal(shared.count, 0, "the exported object is not mutated");
  class Upper {
    process(x: string) {
      return [x.toUpperCase()];
    }
  }
  assert.deepEqual(instantiateDoFn(Upper, "c").process("q", {}), ["Q"]);
  assert.throws(
    () => instantiateDoFn({ setup() {} }, 'DoFn "x"'),
    /DoFn "x" has no process method/,
  );
  assert.throws(() => instantiateDoFn(42, 'DoFn "n"'), /is number, not a function/);
  assert.throws(
    () => instantiateDoFn({ process() {}, onTimer: 5 }, "t"),
    /onTimer must be an object/,
  );
});
