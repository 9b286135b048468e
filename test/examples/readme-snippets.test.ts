/**
 * The README's "Write your own pipeline" snippets: each is a file in
 * examples/snippets/ that runs with `firefly run` and writes exactly the
 * lines below. The README shows each file verbatim (checked once the section
 * is in README.md).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";
import { runExample } from "./support.js";

const SECTION = "## Write your own pipeline";

const expected: Record<string, string[]> = {
  "basics.mjs": ["BROWN!", "JUMPS!", "LAZY!", "OVER!", "QUICK!"],
  "dofn.mjs": ["long: apple", "long: banana", "short: fig", "short: kiwi"],
  "combine.mjs": [
    "map orders=1",
    "map range=5..5",
    "map sum=5",
    "pen orders=1",
    "pen range=1..1",
    "pen sum=1",
    "tea orders=2",
    "tea range=2..3",
    "tea sum=5",
    "total=11",
  ],
  "windows.mjs": [
    "minute 10:00:00-10:01:00 ana 2",
    "minute 10:00:00-10:01:00 ben 1",
    "minute 10:03:00-10:04:00 ana 1",
    "session 10:00:05-10:01:40 ana 2",
    "session 10:00:50-10:01:50 ben 1",
    "session 10:03:00-10:04:00 ana 1",
  ],
  "batches.mjs": ["pen: 1.50", "tea: 2.40", "tea: 4.20"],
  "side-inputs.mjs": ["cake: not for sale", "pen: 1.79", "tea: 3.15", "tea: 3.15"],
  "state-timers.mjs": ["ana: map, tea", "ben: pen"],
  "splittable.mjs": [
    "atlas page 0",
    "atlas page 1",
    "atlas page 2",
    "diary page 0",
    "diary page 1",
    "diary page 2",
    "diary page 3",
    "diary page 4",
  ],
};

const snippetsDir = path.join(repoRoot, "examples", "snippets");

describe("README snippets (examples/snippets/)", () => {
  it("every snippet file has expected output here", () => {
    assert.deepEqual(
      fs
        .readdirSync(snippetsDir)
        .filter((f) => f.endsWith(".mjs"))
        .sort(),
      Object.keys(expected).sort(),
    );
  });

  for (const [file, lines] of Object.entries(expected)) {
    it(`${file} runs with firefly run and writes exactly its lines`, async () => {
      const result = await runExample(path.join("snippets", file), ["--threads=0"]);
      assert.deepEqual(result.lines, lines);
      if (file === "dofn.mjs")
        assert.match(result.stdout, /SplitByLength user\/words \(counter\): 4/);
    });
  }

  it("README.md shows each snippet verbatim in its pipeline section", (t) => {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    if (!readme.includes(SECTION)) {
      t.skip(`README.md has no "${SECTION}" section yet`);
      return;
    }
    for (const file of Object.keys(expected)) {
      const text = fs.readFileSync(path.join(snippetsDir, file), "utf8");
      assert.ok(
        readme.includes("```js\n" + text + "```"),
        `README.md does not show ${file} verbatim`,
      );
    }
  });
});
