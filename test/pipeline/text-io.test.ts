import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { OffsetRangeTracker } from "../../operations/sdf/offset-range.js";
import { fixedWindows, Pipeline } from "../../src/pipeline/index.js";
import {
  assertWellFormed,
  dofnJson,
  loadDoFn,
  outputCoder,
  runDoFn,
  transform,
} from "./support.js";

function tmpDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-textio-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("readText: Impulse → ExpandGlob → Reshuffle → ReadLines; the shipped code expands globs and reads lines", async (t) => {
  const dir = tmpDir(t);
  fs.mkdirSync(path.join(dir, "sub", "deep"), { recursive: true });
  fs.writeFileSync(path.join(dir, "a.txt"), "one\ntwo\r\nthree\n");
  fs.writeFileSync(path.join(dir, "b.txt"), "four");
  fs.writeFileSync(path.join(dir, "c.md"), "skip");
  fs.writeFileSync(path.join(dir, "sub", "deep", "d.txt"), "five\n\nsix\n");
  const p = new Pipeline({});
  p.readText(path.join(dir, "*.txt"));
  p.readText(path.join(dir, "**/*.txt"), { name: "Deep" });
  p.readText(path.join(dir, "b.txt"), { name: "One" });
  p.readText(path.join(dir, "missing.txt"), { name: "Missing" });
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(transform(proto, "ReadText").subtransforms, [
    "ReadText/Impulse",
    "ReadText/ExpandGlob",
    "ReadText/Reshuffle",
    "ReadText/ReadLines",
  ]);
  assert.equal(outputCoder(proto, "ReadText"), "string_utf8");
  const expand = async (id: string) =>
    runDoFn(await loadDoFn(proto, `${id}/ExpandGlob`), [new Uint8Array()]);
  const files = await expand("ReadText");
  assert.deepEqual(files, [path.join(dir, "a.txt"), path.join(dir, "b.txt")]);
  assert.deepEqual(await expand("Deep"), [
    path.join(dir, "a.txt"),
    path.join(dir, "b.txt"),
    path.join(dir, "sub", "deep", "d.txt"),
  ]);
  assert.deepEqual(await expand("One"), [path.join(dir, "b.txt")]);
  await assert.rejects(expand("Missing"), /readText: no file/);
  const readLines = await loadDoFn(proto, "ReadText/ReadLines");
  const lines: string[] = [];
  for (const file of [...files, path.join(dir, "sub", "deep", "d.txt")])
    lines.push(...(await readSplit(readLines, file)));
  assert.deepEqual(lines, ["one", "two", "three", "four", "five", "", "six"]);
});

type Range = { start: bigint; stop: bigint };

/** Runs the splittable ReadLines DoFn over a file as a runner would: each piece of splitRestriction with its own tracker. */
async function readSplit(
  loaded: Awaited<ReturnType<typeof loadDoFn>>,
  file: string,
): Promise<string[]> {
  const dofn = loaded.dofn as unknown as {
    initialRestriction(f: string): Range;
    splitRestriction(f: string, r: Range, ctx: unknown): Iterable<Range>;
  };
  const out: string[] = [];
  const ctx = { config: loaded.config };
  for (const piece of dofn.splitRestriction(file, dofn.initialRestriction(file), ctx)) {
    const tracker = new OffsetRangeTracker(piece);
    out.push(...((await runDoFn(loaded, [file], { tracker })) as string[]));
    tracker.checkDone();
  }
  return out;
}

test("readText reads every line exactly once however a file is cut (\\n, \\r\\n, \\r, multi-byte characters)", async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, "lines.txt");
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom("a", "bc", "é", "日本", "\n", "\r\n", "\r", "\n\n", " "), {
        maxLength: 40,
      }),
      fc.integer({ min: 1, max: 12 }),
      async (parts, splitBytes) => {
        const text = parts.join("");
        fs.writeFileSync(file, text);
        const expected = text.split(/\r\n|\n|\r/);
        if (expected[expected.length - 1] === "") expected.pop();
        const p = new Pipeline({});
        p.readText(file, { splitBytes });
        const loaded = await loadDoFn(p.toProto(), "ReadText/ReadLines");
        assert.deepEqual(
          await readSplit(loaded, file),
          expected,
          JSON.stringify({ text, splitBytes }),
        );
      },
    ),
    { numRuns: 150 },
  );
});

test("readText resolves a relative glob against the working directory at construction", () => {
  const p = new Pipeline({});
  p.readText("data/*.txt");
  assert.equal(
    dofnJson(p.toProto(), "ReadText/ExpandGlob").config &&
      (dofnJson(p.toProto(), "ReadText/ExpandGlob").config as { pattern: string }).pattern,
    path.resolve("data/*.txt"),
  );
});

test("writeText: shards assigned round robin, every shard written (empty ones too), non-strings as JSON", async (t) => {
  const dir = tmpDir(t);
  const p = new Pipeline({});
  p.create(["a", "b", "c"])
    .windowInto(fixedWindows(1000))
    .writeText(path.join(dir, "out", "part"), { shards: 4, suffix: ".txt" });
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(transform(proto, "WriteText").subtransforms, [
    "WriteText/Rewindow",
    "WriteText/AssignShards",
    "WriteText/Impulse",
    "WriteText/ShardSeeds",
    "WriteText/WithSeeds",
    "WriteText/GroupByKey",
    "WriteText/WriteShards",
  ]);
  assert.equal(outputCoder(proto, "WriteText/AssignShards"), "kv(varint,nullable(string_utf8))");
  assert.equal(
    outputCoder(proto, "WriteText/GroupByKey"),
    "kv(varint,iterable(nullable(string_utf8)))",
  );
  const assigned = await runDoFn(await loadDoFn(proto, "WriteText/AssignShards"), [
    "a",
    "b",
    "c",
    { n: 1 },
    "e",
  ]);
  const keys = assigned.map((kv) => (kv as { key: number }).key);
  assert.equal(new Set(keys).size, 4, `round robin over 4 shards: ${keys.join(",")}`);
  assert.deepEqual(
    assigned.map((kv) => (kv as { value: string }).value),
    ["a", "b", "c", '{"n":1}', "e"],
  );
  const seeds = await runDoFn(await loadDoFn(proto, "WriteText/ShardSeeds"), [new Uint8Array()]);
  assert.deepEqual(
    seeds,
    [0, 1, 2, 3].map((key) => ({ key, value: null })),
  );
  const write = await loadDoFn(proto, "WriteText/WriteShards");
  const written = await runDoFn(write, [
    { key: 0, value: [null, "a", "c"] },
    { key: 3, value: [null] },
  ]);
  const file0 = path.join(dir, "out", "part-00000-of-00004.txt");
  const file3 = path.join(dir, "out", "part-00003-of-00004.txt");
  assert.deepEqual(written, [file0, file3]);
  assert.equal(fs.readFileSync(file0, "utf8"), "a\nc\n");
  assert.equal(fs.readFileSync(file3, "utf8"), "");
  assert.deepEqual(fs.readdirSync(path.join(dir, "out")).sort(), [
    "part-00000-of-00004.txt",
    "part-00003-of-00004.txt",
  ]);
  assert.throws(
    () => p.create(["x"], { name: "X" }).writeText(dir, { shards: 0 }),
    /shards must be a positive integer/,
  );
});

test("readText end to end on the local runner: a file read in many byte ranges by 2 threads, every line once", async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, "many.txt");
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${"é".repeat(i % 13)}`);
  fs.writeFileSync(file, lines.join("\r\n") + "\n");
  const p = new Pipeline({ runner: "local", threads: 2 });
  p.readText(file, { splitBytes: 1000 }).writeText(path.join(dir, "out"));
  const result = (await p.run()) as { state: string; stages: { name: string; bundles: number }[] };
  assert.equal(result.state, "DONE");
  const read = fs
    .readFileSync(path.join(dir, "out-00000-of-00001"), "utf8")
    .split("\n")
    .filter(Boolean);
  assert.deepEqual([...read].sort(), [...lines].sort());
  const reading = result.stages.find(
    (s) => s.name.startsWith("ReadText/ReadLines +") || s.name === "ReadText/ReadLines",
  );
  assert.ok(
    reading && reading.bundles >= 2,
    `the byte ranges went to several bundles: ${JSON.stringify(result.stages)}`,
  );
});
