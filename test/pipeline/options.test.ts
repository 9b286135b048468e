import assert from "node:assert/strict";
import { test } from "node:test";
import { Pipeline, PipelineOptions, PipelineOptionsError } from "../../src/pipeline/index.js";

test("options from argv: --key=value, --key value for known options, --flag, --no-flag; unknown ones kept", () => {
  const o = PipelineOptions.fromArgv([
    "run",
    "wordcount.mjs",
    "--runner=local",
    "--threads",
    "2",
    "--workers=3",
    "--job_endpoint=localhost:8099",
    "--environment-type=DOCKER",
    "--environment_config=img:1",
    "--output",
    "out/",
    "--quiet",
    "--my_option=x=y",
    "--verbose",
    "--no-cache",
  ]);
  assert.equal(o.runner, "local");
  assert.equal(o.threads, 2);
  assert.equal(o.workers, 3);
  assert.equal(o.jobEndpoint, "localhost:8099");
  assert.equal(o.environmentType, "DOCKER");
  assert.equal(o.environmentConfig, "img:1");
  assert.equal(o.output, "out/");
  assert.equal(o.quiet, true);
  assert.equal(o.get("my_option"), "x=y");
  assert.equal(o.get("verbose"), true);
  assert.equal(o.get("cache"), false);
  assert.deepEqual(o.args, ["run", "wordcount.mjs"]);
  assert.equal(o.toPortableOptions()["beam:option:my_option:v1"], "x=y");
});

test("defaults and errors that name the option", () => {
  assert.equal(PipelineOptions.fromArgv([]).runner, "local");
  assert.equal(PipelineOptions.fromArgv([]).threads, undefined);
  assert.throws(
    () => PipelineOptions.fromArgv(["--threads=two"]),
    (e: Error) =>
      e instanceof PipelineOptionsError &&
      /--threads must be a non-negative integer, got "two"/.test(e.message),
  );
  assert.throws(
    () => PipelineOptions.fromArgv(["--threads=-1"]),
    /--threads must be a non-negative integer/,
  );
  assert.throws(() => PipelineOptions.fromArgv(["--runner"]), /--runner needs a value/);
  assert.throws(() => PipelineOptions.fromArgv(["--output", "--quiet"]), /--output needs a value/);
  assert.throws(() => PipelineOptions.fromArgv(["--quiet=maybe"]), /--quiet is a flag/);
  assert.throws(
    () => new PipelineOptions({ threads: 1.5 }),
    /--threads must be a non-negative integer/,
  );
});

test("a pipeline takes options as argv, an object or PipelineOptions; run() overrides are merged", () => {
  assert.equal(new Pipeline(["--threads=4"]).options.threads, 4);
  assert.equal(new Pipeline({ threads: 0, extra: "e" }).options.get("extra"), "e");
  const o = new PipelineOptions({ runner: "x" });
  assert.equal(new Pipeline(o).options, o);
  assert.equal(o.with({ threads: 2 }).threads, 2);
  assert.equal(o.with({ threads: 2 }).runner, "x");
});
