/**
 * The README's failing run ("When a step fails"): examples/failing/bad-record.mjs
 * exits 1 and prints the error once, as the README shows it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { it } from "node:test";
import { fireflyBin, repoRoot } from "../support/paths.js";
import { run } from "./support.js";

const EXAMPLE = path.join("examples", "failing", "bad-record.mjs");

it("bad-record.mjs fails with one readable error naming the step, the element and its line", async () => {
  const failed = await run(process.execPath, [fireflyBin, "run", EXAMPLE, "--threads=1"], {
    cwd: repoRoot,
  }).then(
    () => assert.fail("the pipeline should fail"),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  assert.equal(failed.code, 1);
  const lines = failed.stderr.trimEnd().split("\n");
  assert.match(lines[0], /^Pipeline FAILED after \d+\.\d+ s: /);
  const shown = [lines[0].replace(/after \d+\.\d+ s/, "after 0.54 s"), ...lines.slice(1, 3)];
  assert.deepEqual(shown, [
    'Pipeline FAILED after 0.54 s: step "Map(parse)" failed in process: Error: bad record: "three"',
    "  element: 'three'",
    `    at parse (${EXAMPLE}:8:32)`,
  ]);
  assert.equal(failed.stderr.match(/bad record/g)?.length, 1, failed.stderr);

  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const text = fs.readFileSync(path.join(repoRoot, EXAMPLE), "utf8");
  assert.ok(readme.includes("```js\n" + text + "```"), "README.md shows the file verbatim");
  assert.ok(
    readme.includes(`$ npx firefly run ${EXAMPLE}\n${shown.join("\n")}\n`),
    "README.md shows the run's output",
  );
});
