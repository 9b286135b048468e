/**
 * What `firefly run` prints when a user's function throws (issue #20): one
 * error, naming the step, the method, the element and the user's file and
 * line; harness frames only with --verbose; the same inline, on pool threads
 * and in worker processes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runFile } from "../../src/cli/run-command.js";

const PIPELINE = `import { Pipeline } from "firefly-beam/pipeline";
const p = new Pipeline();
p.create([1, 2, 3, 4])
  .map(function parse(x) {
    if (x === 3) throw new Error("bad record " + x);
    return x * 2;
  }, { name: "Parse" });
export default p;
`;
/** Where \`new Error\` is in PIPELINE (what V8 reports for a thrown \`new Error(…)\`). */
const THROW_AT = "5:24";

let dir: string;
let runs = 0;

before(() => {
  // In the repository, so `firefly-beam/pipeline` resolves by self-reference.
  dir = fs.mkdtempSync(path.join(process.cwd(), ".error-output-test-"));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the pipeline from a file of its own (a module runs once: its Pipeline keeps its options). */
async function run(...options: string[]): Promise<{ lines: string[]; shown: string }> {
  const file = path.join(dir, `bad${++runs}.mjs`);
  fs.writeFileSync(file, PIPELINE);
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    progress: undefined,
  };
  assert.equal(await runFile([file, "--quiet", ...options], io), 1, err.join("\n"));
  return {
    lines: [...out, ...err].join("\n").split("\n"),
    shown: path.relative(process.cwd(), file),
  };
}

function assertShape(lines: string[], shown: string): void {
  const text = lines.join("\n");
  assert.match(
    lines[0],
    /^Pipeline FAILED after \d+\.\d+ s: step "Parse" failed in process: Error: bad record 3$/,
  );
  assert.equal(lines[1], "  element: 3");
  assert.equal(lines[2], `    at parse (${shown}:${THROW_AT})`);
  assert.match(lines[3], /^ {2}step +in +out +bundles$/);
  assert.equal(text.match(/bad record 3/g)?.length, 1, `the message once:\n${text}`);
  assert.doesNotMatch(text, /data:/);
  assert.doesNotMatch(text, /caused by/);
}

describe("firefly run: a throwing map step", () => {
  for (const [mode, options] of [
    ["inline", ["--threads=0"]],
    ["pool threads", ["--threads=1"]],
    ["a worker process", ["--workers=1", "--threads=0"]],
  ] as const) {
    it(`${mode}: one error with the step, the element and the user's line; no harness frames`, async () => {
      const { lines, shown } = await run(...options);
      assertShape(lines, shown);
      assert.doesNotMatch(lines.join("\n"), /ParDoOperation|piscina|dist\/|firefly:shipped/);
    });
  }

  it("--verbose adds the harness frames after the user's", async () => {
    // Workers' log lines (printed with --verbose) go to stderr directly: count them in.
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let result: { lines: string[]; shown: string };
    try {
      result = await run("--threads=1", "--verbose");
    } finally {
      process.stderr.write = write;
    }
    const { lines, shown } = result;
    const text = [...stderr, ...lines].join("\n");
    assert.match(lines[0], /step "Parse" failed in process: Error: bad record 3$/);
    assert.equal(lines[1], "  element: 3");
    assert.equal(lines[2], `    at parse (${shown}:${THROW_AT})`);
    assert.match(
      text,
      /\n {4}at ParDoOperation\.processInWindow \(file:\/\/\S+pardo-operation\.js:\d+:\d+\)/,
    );
    assert.equal(text.match(/bad record 3/g)?.length, 1, text);
    assert.doesNotMatch(text, /data:/);
  });
});
