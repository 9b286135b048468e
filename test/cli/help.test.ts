import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fireflyBin } from "../support/paths.js";

const run = promisify(execFile);

const expected: Record<string, RegExp[]> = {
  boot: [
    /usage: firefly boot --id=ID/,
    /--control_endpoint=H:P/,
    /--provision_endpoint/,
    /--threads=N/,
  ],
  pool: [/usage: firefly pool/, /--port=P/, /--host=H/, /127\.0\.0\.1/],
  jobserver: [/usage: firefly jobserver/, /--artifacts_dir=DIR/, /--in_process_workers/],
  run: [/usage: firefly run <file/, /--runner=local\|portable/, /--quiet/],
};

for (const [command, patterns] of Object.entries(expected)) {
  for (const flag of ["--help", "-h"]) {
    test(`firefly ${command} ${flag} prints its usage and exits 0`, async () => {
      const { stdout, stderr } = await run(process.execPath, [fireflyBin, command, flag]);
      for (const pattern of patterns) assert.match(stdout, pattern);
      assert.equal(stderr, "");
    });
  }
}

test("--help after other flags still asks for help (firefly boot --id=1 --help)", async () => {
  const { stdout } = await run(process.execPath, [fireflyBin, "boot", "--id=1", "--help"]);
  assert.match(stdout, /usage: firefly boot/);
});

test("firefly run FILE --help hands --help to the pipeline, not to firefly", async () => {
  await assert.rejects(
    run(process.execPath, [fireflyBin, "run", "no-such-file.mjs", "--help"]),
    (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /no such file: no-such-file\.mjs/);
      return true;
    },
  );
});
