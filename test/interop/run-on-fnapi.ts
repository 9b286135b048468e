/**
 * Runs a Firefly pipeline module on Beam Python's FnApiRunner, with Firefly
 * workers from a `firefly pool` (an EXTERNAL environment):
 *
 *   node dist/test/interop/run-on-fnapi.js PIPELINE.mjs [pipeline options]
 *
 * Environment: FIREFLY_INTEROP_POOL (the pool's host:port; Firefly's own
 * environment becomes an EXTERNAL one on it), FIREFLY_INTEROP_PYTHON_POOL (Beam
 * Python's worker_pool_main: the environments of cross-language transforms
 * become EXTERNAL ones on it; without it they stay as expanded), FIREFLY_INTEROP_PYTHON
 * (the Python executable), FIREFLY_INTEROP_USE_STATE_ITERABLES=1 (the runner
 * sends GroupByKey values as state-backed iterables), FIREFLY_INTEROP_SDK_MERGES_SESSIONS=1
 * (the runner asks the SDK to merge sessions), FIREFLY_INTEROP_TEST_SPLITS (JSON of
 * Beam's direct_test_splits: the runner sends splits to a stage's bundle),
 * FIREFLY_INTEROP_DRAIN=1 (splittable DoFns expanded as for a drain: truncate before process). The Python environment
 * (PYTHONPATH with Beam's sdks/python) comes from the caller.
 *
 * The module builds its pipeline as under `firefly run`; a runner registered
 * here writes the pipeline proto with the pool's environment and runs
 * test/interop/fnapi_runner.py on it. Exit code 0 when the job is DONE.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { registerRunner, type PipelineResult } from "../../src/pipeline/index.js";
import { ENVIRONMENT_ID, fireflyEnvironment } from "../../src/pipeline/environment.js";
import { externalEnvironment } from "../../src/pipeline/environment-overrides.js";
import { repoRoot } from "../support/paths.js";

const RUNNER = "beam-python-fnapi";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`run-on-fnapi: set ${name}`);
  return value;
}

registerRunner(RUNNER, async (pipeline, options): Promise<PipelineResult> => {
  const pool = required("FIREFLY_INTEROP_POOL");
  const wanted = fireflyEnvironment(
    options.with({ environment_type: "EXTERNAL", environment_config: pool }),
  );
  for (const [id, env] of pipeline.components.environments) {
    if (id === ENVIRONMENT_ID) {
      env.urn = wanted.urn;
      env.payload = wanted.payload;
    } else if (process.env.FIREFLY_INTEROP_PYTHON_POOL) {
      const external = externalEnvironment(env, process.env.FIREFLY_INTEROP_PYTHON_POOL);
      env.urn = external.urn;
      env.payload = external.payload;
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-fnapi-"));
  const file = path.join(dir, "pipeline.pb");
  fs.writeFileSync(file, pipeline.serializeBinary());
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        required("FIREFLY_INTEROP_PYTHON"),
        [
          path.join(repoRoot, "test", "interop", "fnapi_runner.py"),
          file,
          ...(process.env.FIREFLY_INTEROP_USE_STATE_ITERABLES === "1"
            ? ["--use_state_iterables"]
            : []),
          ...(process.env.FIREFLY_INTEROP_SDK_MERGES_SESSIONS === "1"
            ? ["--sdk_merges_sessions"]
            : []),
          ...(process.env.FIREFLY_INTEROP_DRAIN === "1" ? ["--is_drain"] : []),
          ...(process.env.FIREFLY_INTEROP_TEST_SPLITS
            ? [`--direct_test_splits=${process.env.FIREFLY_INTEROP_TEST_SPLITS}`]
            : []),
        ],
        { stdio: ["ignore", "inherit", "inherit"] },
      );
      child.once("error", reject);
      child.once("exit", (status) => resolve(status ?? 1));
    });
    return { state: code === 0 ? "DONE" : "FAILED" };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error("usage: node run-on-fnapi.js PIPELINE.mjs [pipeline options]");
  process.exit(2);
}
const resolved = path.resolve(file);
process.argv = [process.argv[0]!, resolved, ...rest, `--runner=${RUNNER}`];
let result: PipelineResult | undefined;
const { onPipelineRun } = await import("../../src/pipeline/index.js");
onPipelineRun((_runner, r) => (result = r));
await import(pathToFileURL(resolved).href);
if (!result) {
  console.error(`run-on-fnapi: ${file} ran no pipeline`);
  process.exit(2);
}
console.log(`Pipeline ${result.state}`);
process.exit(result.state === "DONE" ? 0 : 1);
