/**
 * The examples in examples/, each run as a user runs it (`bin/firefly run
 * examples/<name>.mjs --output=...` in a child process), with their exact
 * output. Word count is checked against counts computed here with plain JS.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";
import { run, runExample, tempRoot } from "./support.js";

/** `word: count` lines of a text, split as the example splits it, computed without Firefly. */
function expectedWordCounts(text: string): string[] {
  const counts = new Map<string, number>();
  for (const line of text.split(/\r\n|\r|\n/))
    for (const word of line.toLowerCase().split(/[^a-z']+/))
      if (word !== "") counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].map(([word, n]) => `${word}: ${n}`).sort();
}

describe("examples", () => {
  const corpus = fs.readFileSync(path.join(repoRoot, "examples", "data", "corpus.txt"), "utf8");
  const expected = expectedWordCounts(corpus);

  it("the shipped corpus is what make-corpus.mjs generates, a few hundred KB", async () => {
    const regenerated = path.join(tempRoot, "corpus.txt");
    await run(process.execPath, [
      path.join(repoRoot, "examples", "data", "make-corpus.mjs"),
      regenerated,
    ]);
    assert.equal(fs.readFileSync(regenerated, "utf8"), corpus);
    assert.ok(corpus.length > 300_000 && corpus.length < 500_000, `${corpus.length} bytes`);
    assert.ok(expected.length > 1000, `${expected.length} distinct words`);
  });

  for (const threads of [0, 2]) {
    it(`wordcount.mjs over the shipped corpus (--threads=${threads}): every word's count, in 3 shards`, async () => {
      const { stdout, files, lines } = await runExample("wordcount.mjs", [`--threads=${threads}`]);
      assert.deepEqual(Object.keys(files), [
        "out-00000-of-00003",
        "out-00001-of-00003",
        "out-00002-of-00003",
      ]);
      assert.equal(lines.length, expected.length);
      assert.deepEqual(lines, expected);
      assert.match(stdout, /^Pipeline DONE in /);
    });
  }

  it("wordcount.mjs --input=<file> --shards=1 (lines end at \\n, \\r\\n or \\r)", async () => {
    const input = path.join(tempRoot, "small.txt");
    fs.writeFileSync(input, "The cat; the DOG's cat\r\nend\rThe end\n");
    const { files } = await runExample("wordcount.mjs", [`--input=${input}`, "--shards=1"]);
    assert.deepEqual(files, { "out-00000-of-00001": files["out-00000-of-00001"] });
    assert.deepEqual(files["out-00000-of-00001"].sort(), [
      "cat: 2",
      "dog's: 1",
      "end: 2",
      "the: 3",
    ]);
  });

  it("windowed-events.mjs: purchases and totals per user and one-minute window", async () => {
    const { lines } = await runExample("windowed-events.mjs");
    assert.deepEqual(lines, [
      "2024-05-01T09:00:00.000Z/2024-05-01T09:01:00.000Z ana purchases=2 total=5.49",
      "2024-05-01T09:00:00.000Z/2024-05-01T09:01:00.000Z chloe purchases=2 total=5.49",
      "2024-05-01T09:01:00.000Z/2024-05-01T09:02:00.000Z ana purchases=3 total=40.99",
      "2024-05-01T09:01:00.000Z/2024-05-01T09:02:00.000Z ben purchases=1 total=1.99",
      "2024-05-01T09:01:00.000Z/2024-05-01T09:02:00.000Z chloe purchases=3 total=36.00",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:03:00.000Z ana purchases=2 total=9.99",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:03:00.000Z ben purchases=3 total=29.48",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:03:00.000Z chloe purchases=1 total=24.50",
      "2024-05-01T09:03:00.000Z/2024-05-01T09:04:00.000Z ana purchases=2 total=7.00",
      "2024-05-01T09:03:00.000Z/2024-05-01T09:04:00.000Z ben purchases=4 total=31.47",
      "2024-05-01T09:04:00.000Z/2024-05-01T09:05:00.000Z ana purchases=3 total=50.99",
      "2024-05-01T09:04:00.000Z/2024-05-01T09:05:00.000Z ben purchases=3 total=61.99",
      "2024-05-01T09:05:00.000Z/2024-05-01T09:06:00.000Z ana purchases=2 total=14.98",
      "2024-05-01T09:05:00.000Z/2024-05-01T09:06:00.000Z chloe purchases=1 total=24.50",
    ]);
  });

  it("side-input-join.mjs: each order with its customer from a multimap side input", async () => {
    const { lines } = await runExample("side-input-join.mjs");
    assert.deepEqual(lines, [
      "o1 Ana Lima (Lisbon) tea 3.50",
      "o2 Ben Okafor (Lagos) book 12.99",
      "o3 Ana Lima (Lisbon) lamp 24.50",
      "o4 Chloe Martin (Lyon) pen 1.99",
      "o5 unknown customer c9 map 8.00",
      "o6 Ben Okafor (Lagos) tea 3.50",
    ]);
  });

  it("stateful-timers.mjs: bag and combining state flushed by an event-time timer per window", async () => {
    const { stdout, lines } = await runExample("stateful-timers.mjs");
    assert.deepEqual(lines, [
      "2024-05-01T09:00:00.000Z/2024-05-01T09:02:00.000Z ana items=5 total=46.48: pen, tea, book, lamp, tea",
      "2024-05-01T09:00:00.000Z/2024-05-01T09:02:00.000Z ben items=1 total=1.99: pen",
      "2024-05-01T09:00:00.000Z/2024-05-01T09:02:00.000Z chloe items=5 total=41.49: pen, tea, lamp, tea, map",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:04:00.000Z ana items=4 total=16.99: map, pen, tea, tea",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:04:00.000Z ben items=7 total=60.95: tea, book, book, book, book, pen, tea",
      "2024-05-01T09:02:00.000Z/2024-05-01T09:04:00.000Z chloe items=1 total=24.50: lamp",
      "2024-05-01T09:04:00.000Z/2024-05-01T09:06:00.000Z ana items=5 total=65.97: pen, lamp, lamp, book, pen",
      "2024-05-01T09:04:00.000Z/2024-05-01T09:06:00.000Z ben items=3 total=61.99: lamp, lamp, book",
      "2024-05-01T09:04:00.000Z/2024-05-01T09:06:00.000Z chloe items=1 total=24.50: lamp",
    ]);
    assert.match(stdout, /\(9 timers\)/);
  });
  for (const threads of [0, 2]) {
    it(`numeric-features.mjs (--threads=${threads}): per-sensor sum, mean and max of the scaled, clipped readings`, async () => {
      const rows = 10_000;
      const { files } = await runExample("numeric-features.mjs", [
        `--rows=${rows}`,
        `--threads=${threads}`,
      ]);
      // The same features computed here with plain JS.
      const bySensor = new Map<string, number[]>();
      for (let i = 0; i < rows; i++) {
        const clipped = Math.min(40, Math.max(0, ((i % 100) / 4) * 2 + 1));
        const key = `sensor-${i % 4}`;
        bySensor.set(key, [...(bySensor.get(key) ?? []), clipped]);
      }
      const expected = (stat: string, f: (vs: number[]) => number) =>
        [...bySensor].map(([key, vs]) => `${key} ${stat} ${f(vs)}`).sort();
      const sum = (vs: number[]) => vs.reduce((a, b) => a + b, 0);
      assert.deepEqual(files["out-sum-00000-of-00001"]!.sort(), expected("sum", sum));
      assert.deepEqual(
        files["out-mean-00000-of-00001"]!.sort(),
        expected("mean", (vs) => sum(vs) / vs.length),
      );
      assert.deepEqual(
        files["out-max-00000-of-00001"]!.sort(),
        expected("max", (vs) => Math.max(...vs)),
      );
    });
  }
});
