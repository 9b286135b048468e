/**
 * `firefly jobserver` as a process: it listens, runs a LOOPBACK job submitted
 * with `--runner=portable`, and stops on SIGTERM; --max_message_bytes caps
 * what it reads, and its temporary artifacts directory goes at SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { jobApi, pipelineApi } from "../../proto/index.js";
import type { PortableResult } from "../../src/jobs/portable-runner.js";
import { Pipeline } from "../../src/pipeline/index.js";
import { fireflyBin } from "../support/paths.js";

/** The address `firefly jobserver` prints it listens on; rejects (with its output) if it exits first. */
function listeningAddress(child: ChildProcess, stderr: () => string = () => ""): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`jobserver exited with ${code}: ${out}${stderr()}`)),
    );
  });
}

test("firefly jobserver runs a submitted job and stops on SIGTERM", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-jobserver-cli-"));
  const child = spawn(
    process.execPath,
    [fireflyBin, "jobserver", "--port=0", `--artifacts_dir=${path.join(dir, "artifacts")}`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    const address = await listeningAddress(child);
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

test("firefly jobserver --max_message_bytes refuses larger messages; SIGTERM removes its temporary directory", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-jobserver-tmp-"));
  const child = spawn(
    process.execPath,
    [fireflyBin, "jobserver", "--port=0", "--max_message_bytes=1048576"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TMPDIR: tmp },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  try {
    const address = await listeningAddress(child, () => err);
    const scratch = fs.readdirSync(tmp).filter((d) => d.startsWith("firefly-jobserver-"));
    assert.equal(scratch.length, 1, "a private temporary artifacts directory");
    assert.equal(fs.statSync(path.join(tmp, scratch[0])).mode & 0o777, 0o700);
    const client = new jobApi.JobServiceClient(address, grpc.credentials.createInsecure());
    const code = await new Promise<grpc.status | undefined>((resolve) =>
      client.Prepare(
        new jobApi.PrepareJobRequest({
          pipeline: new pipelineApi.Pipeline(),
          job_name: "x".repeat(2 * 1024 * 1024),
        }),
        (e) => resolve(e?.code),
      ),
    );
    client.close();
    assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    child.kill("SIGTERM");
    assert.equal(await exited, 0, err);
  }
  assert.deepEqual(fs.readdirSync(tmp), [], "nothing is left behind");
  fs.rmSync(tmp, { recursive: true, force: true });
});
