import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runFile } from "../../src/cli/run-command.js";
import { tempFile } from "./support/test-pipeline.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), progress: undefined },
  };
}

/** Writes a module into the repository (so `firefly-beam/pipeline` resolves by self-reference). */
function moduleFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(process.cwd(), ".runner-test-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("firefly run", () => {
  it("a missing file is a clear error (exit 2)", async () => {
    const c = capture();
    assert.equal(await runFile(["does/not/exist.mjs"], c.io), 2);
    assert.match(c.err.join("\n"), /no such file: does\/not\/exist\.mjs/);
  });

  it("a module that builds no pipeline is a clear error (exit 2)", async () => {
    const file = moduleFile("nothing.mjs", "export const x = 1;\n");
    try {
      const c = capture();
      assert.equal(await runFile([file], c.io), 2);
      assert.match(c.err.join("\n"), /built no pipeline/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("a build error (a function using a module variable) names the variable and the user's line, without Firefly's frames unless --verbose", async () => {
    const file = moduleFile(
      "closure.mjs",
      `import { Pipeline } from "firefly-beam/pipeline";
const p = new Pipeline();
const factor = 10;
p.create([1, 2]).map((x) => x * factor);
await p.run();
`,
    );
    try {
      const c = capture();
      assert.equal(await runFile([file], c.io), 1);
      const lines = c.err.join("\n").split("\n");
      assert.match(lines[0]!, /failed: UnshippableFunctionError: map "Map" uses "factor"/);
      assert.match(lines[0]!, /config: \{ config: \{ factor \} \}/);
      assert.match(lines[1]!, /^ {4}at .*closure\.mjs:4:18\)?$/);
      assert.ok(
        !lines.some((l) => /dist\/(src|harness|operations)\//.test(l)),
        `no Firefly frames without --verbose:\n${c.err.join("\n")}`,
      );
      const verbose = capture();
      assert.equal(await runFile([file, "--verbose"], verbose.io), 1);
      assert.match(verbose.err.join("\n"), /free-variables\.js/, "Firefly's frames with --verbose");
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("runs a builder pipeline with the module's options and prints a summary", async () => {
    const out = tempFile("counts");
    const file = moduleFile(
      "wc.mjs",
      `import { Pipeline } from "firefly-beam/pipeline";
const p = new Pipeline();
p.create(["a b a", "c b a"])
  .flatMap((line) => line.split(" "))
  .map((w) => ({ key: w, value: 1 }))
  .combinePerKey("sum")
  .map((kv) => kv.key + ": " + kv.value)
  .writeText(p.options.output);
await p.run();
`,
    );
    try {
      const c = capture();
      const code = await runFile([file, "--threads=0", `--output=${out}`], c.io);
      assert.equal(code, 0, c.err.join("\n"));
      assert.match(c.out[0], /^Pipeline DONE in /);
      const written = fs
        .readdirSync(path.dirname(out))
        .filter((f) => f.startsWith("counts"))
        .flatMap((f) => fs.readFileSync(path.join(path.dirname(out), f), "utf8").split("\n"))
        .filter(Boolean)
        .sort();
      assert.deepEqual(written, ["a: 3", "b: 2", "c: 1"]);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("a failing user function exits 1 naming the transform, with the user's stack", async () => {
    const file = moduleFile(
      "fail.mjs",
      `import { Pipeline } from "firefly-beam/pipeline";
const p = new Pipeline();
p.create([1, 2, 3]).map(function explodeOnTwo(x) { if (x === 2) throw new Error("two is bad"); return x; }, { name: "Boom" });
export default p;
`,
    );
    try {
      const c = capture();
      assert.equal(await runFile([file, "--threads=0"], c.io), 1);
      const text = c.err.join("\n");
      assert.match(text, /Pipeline FAILED/);
      assert.match(text, /Boom/);
      assert.match(text, /two is bad/);
      assert.match(text, /explodeOnTwo/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
