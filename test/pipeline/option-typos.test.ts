import assert from "node:assert/strict";
import { test } from "node:test";
import { Pipeline, PipelineOptions, registerRunner } from "../../src/pipeline/index.js";
import {
  editDistance,
  knownOptionNames,
  optionTypoWarnings,
  suggestOption,
} from "../../src/pipeline/option-suggestions.js";

registerRunner("typo-test", async () => ({ state: "DONE" }));

/** Runs a one-step pipeline with these command-line arguments; returns the warnings. */
async function warningsOf(argv: string[], read: string[] = []): Promise<string[]> {
  const p = new Pipeline(["--runner=typo-test", ...argv]);
  for (const name of read) p.options.get(name);
  const warnings: string[] = [];
  p.warn = (message) => warnings.push(message);
  p.create([1]);
  await p.run();
  return warnings;
}

test("a command-line option close to a known one is warned about when the pipeline runs", async () => {
  assert.deepEqual(await warningsOf(["--thread=2"]), [
    "--thread=2: unknown option; did you mean --threads?",
  ]);
  assert.deepEqual(await warningsOf(["--wokers", "3", "--quite"]), [
    "--wokers: unknown option; did you mean --workers?",
    "--quite: unknown option; did you mean --quiet?",
  ]);
  // Transpositions count 1 (Damerau), dashes are underscores, --no-flag names the flag.
  assert.deepEqual(await warningsOf(["--job-endpiont=localhost:8099", "--no-quiett"]), [
    "--job-endpiont=localhost:8099: unknown option; did you mean --job_endpoint?",
    "--no-quiett: unknown option; did you mean --quiet?",
  ]);
  // Options of the job server's descriptors and Beam's portable ones are known too.
  assert.deepEqual(await warningsOf(["--gbk_memory=64", "--sdk_worker_paralelism=2"]), [
    "--gbk_memory=64: unknown option; did you mean --gbk_memory_mb?",
    "--sdk_worker_paralelism=2: unknown option; did you mean --sdk_worker_parallelism?",
  ]);
  // A prefix of a known option (3+ characters) is an abbreviation of it (the shortest completion).
  assert.deepEqual(await warningsOf(["--environ=DOCKER", "--environment_conf=x"]), [
    "--environ=DOCKER: unknown option; did you mean --environment_type?",
    "--environment_conf=x: unknown option; did you mean --environment_config?",
  ]);
});

test("known options, options the user's code reads and far-off names get no warning", async () => {
  assert.deepEqual(
    await warningsOf([
      "--threads=2",
      "--workers=0",
      "--quiet",
      "--output=out/x",
      "--gbk_memory_mb=64",
      "--job_name=j",
      "--environment_type=PROCESS",
    ]),
    [],
  );
  // --thread is read by the user's code: a user option, never warned about.
  assert.deepEqual(await warningsOf(["--thread=2", "--outptu=x"], ["thread", "outptu"]), []);
  assert.deepEqual(await warningsOf(["--input=data.txt", "--min_count=3", "--dataset=x"]), []);
  // Options given as an object (not the command line) are not checked.
  const p = new Pipeline({ runner: "typo-test", thread: 2 });
  p.warn = () => assert.fail("no warning for options from code");
  p.create([1]);
  await p.run();
});

test("the warning is given once per pipeline, on stderr by default, and run() overrides keep what was read", async () => {
  const p = new Pipeline(["--runner=typo-test", "--thread=2"]);
  const warnings: string[] = [];
  p.warn = (message) => warnings.push(message);
  p.create([1]);
  await p.run();
  await p.run({ threads: 1 });
  assert.deepEqual(warnings, ["--thread=2: unknown option; did you mean --threads?"]);
  const options = PipelineOptions.fromArgv(["--thread=2"]);
  options.with({ x: "1" }).get("thread");
  assert.deepEqual(optionTypoWarnings(options), []);
  // The default warn writes a line on stderr.
  const q = new Pipeline(["--runner=typo-test", "--thread=2"]);
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(String(chunk))) as never;
  try {
    q.create([1]);
    await q.run();
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, ["--thread=2: unknown option; did you mean --threads?\n"]);
});

test("suggestions: edit distance with transpositions, a prefix, nothing far off", () => {
  assert.equal(editDistance("threads", "threads"), 0);
  assert.equal(editDistance("thread", "threads"), 1);
  assert.equal(editDistance("therads", "threads"), 1);
  assert.equal(editDistance("trheads", "threads"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  for (const name of [
    "runner",
    "threads",
    "workers",
    "job_endpoint",
    "environment_type",
    "environment_config",
    "output",
    "quiet",
    "job_name",
    "gbk_memory_mb",
    "firefly_threads",
    "max_bundle_kb",
    "lift_combiners",
    "spill_dir",
    "log_level",
  ])
    assert.ok(knownOptionNames().has(name), name);
  assert.equal(suggestOption("runer"), "runner");
  assert.equal(suggestOption("log_levle"), "log_level");
  assert.equal(suggestOption("spill"), "spill_dir");
  assert.equal(suggestOption("input"), undefined);
  assert.equal(suggestOption("x"), undefined);
  assert.equal(suggestOption("ab"), undefined);
  assert.equal(suggestOption("threshold"), undefined);
});
