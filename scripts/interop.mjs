#!/usr/bin/env node
// Runs the interop suite (dist/test/interop) against Beam Python's runner:
//   npm run interop -- --beam-python DIR [--python PYTHON] [filter...]
// DIR has an env.sh that sets up Beam's Python environment, or is a Beam
// source tree (DIR/sdks/python goes on PYTHONPATH); PYTHON defaults to
// python3 on that environment's PATH. Filters select tests by name.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  options: { "beam-python": { type: "string" }, python: { type: "string" } },
  allowPositionals: true,
});
const beamPython = values["beam-python"] ?? process.env.FIREFLY_BEAM_PYTHON;
if (!beamPython) {
  console.error(
    "usage: npm run interop -- --beam-python DIR [--python PYTHON] [test name filter...]",
  );
  process.exit(2);
}
const env = { ...process.env, FIREFLY_BEAM_PYTHON: path.resolve(beamPython) };
if (values.python) env.FIREFLY_INTEROP_PYTHON = values.python;
const result = spawnSync(
  process.execPath,
  [
    "--test",
    "--test-concurrency=1",
    ...positionals.flatMap((p) => ["--test-name-pattern", p]),
    "dist/test/interop/beam-python.test.js",
  ],
  { stdio: "inherit", env },
);
process.exit(result.status ?? 1);
