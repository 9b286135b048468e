/**
 * Every example submitted as a user submits it to a portable runner —
 * `firefly run examples/<name> --runner=portable --job_endpoint=...` — against
 * a `firefly jobserver` process, with a LOOPBACK environment and with an
 * EXTERNAL one (a `firefly pool` process). The output must be exactly the
 * output of the same example on the local runner (which the examples test
 * checks line by line).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { runExample, tempRoot } from "../examples/support.js";
import { fireflyBin } from "../support/paths.js";

interface Server {
  child: ChildProcess;
  address: string;
}

/** Starts a `firefly` server command and waits for the address it prints. */
function startServer(args: string[], listening: RegExp): Promise<Server> {
  const child = spawn(process.execPath, [fireflyBin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise<Server>((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = listening.exec(out);
      if (match) resolve({ child, address: match[1] });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`firefly ${args[0]} exited with ${code}: ${out}`)),
    );
  });
}

function stop(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once("exit", () => resolve());
    server.child.kill("SIGTERM");
  });
}

const EXAMPLES = [
  "wordcount.mjs",
  "windowed-events.mjs",
  "side-input-join.mjs",
  "stateful-timers.mjs",
];

describe("examples on a portable runner (firefly jobserver)", () => {
  let jobServer: Server | undefined;
  let pool: Server | undefined;

  before(async () => {
    jobServer = await startServer(
      ["jobserver", "--port=0", `--artifacts_dir=${path.join(tempRoot, "job-artifacts")}`],
      /listening on (\S+)/,
    );
    pool = await startServer(["pool", "--port=0"], /listening on (\S+)/);
  });

  after(async () => {
    await stop(jobServer);
    await stop(pool);
  });

  for (const example of EXAMPLES) {
    it(`${example}: LOOPBACK and EXTERNAL give exactly the local runner's output`, async () => {
      const local = await runExample(example, ["--threads=0"]);
      assert.ok(local.lines.length > 0, "the example writes something");
      const portable = ["--runner=portable", `--job_endpoint=${jobServer!.address}`, "--quiet"];
      const loopback = await runExample(example, [...portable, "--environment_type=LOOPBACK"]);
      assert.deepEqual(loopback.lines, local.lines);
      const external = await runExample(example, [
        ...portable,
        "--environment_type=EXTERNAL",
        `--environment_config=${pool!.address}`,
      ]);
      assert.deepEqual(external.lines, local.lines);
    });
  }
});
