/**
 * `firefly jobserver` as a process: it listens, runs a LOOPBACK job submitted
 * with `--runner=portable`, and stops on SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import type { PortableResult } from "../../src/jobs/portable-runner.js";
import { Pipeline } from "../../src/pipeline/index.js";
import { fireflyBin } from "../support/paths.js";

test("firefly jobserver runs a submitted job and stops on SIGTERM", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-jobserver-cli-"));
  const child = spawn(
    process.execPath,
    [fireflyBin, "jobserver", "--port=0", `--artifacts_dir=${path.join(dir, "artifacts")}`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        const match = /listening on (\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once("exit", (code) => reject(new Error(`jobserver exited with ${code}: ${out}`)));
    });
    const p = new Pipeline({
      runner: "portable",
      job_endpoint: address,
      environment_type: "LOOPBACK",
      quiet: true,
    });
    p.create(["b", "a"])
      .map((s: string) => s + s, { coder: "string" })
      .writeText(path.join(dir, "out", "doubled"));
    const result = (await p.run()) as PortableResult;
    assert.equal(result.state, "DONE", result.messages.join("\n"));
    const text = fs.readFileSync(path.join(dir, "out", "doubled-00000-of-00001"), "utf8");
    assert.deepEqual(text.split("\n").filter(Boolean).sort(), ["aa", "bb"]);
  } finally {
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
