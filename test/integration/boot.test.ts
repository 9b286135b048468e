/**
 * `firefly boot` as runners start it (PROCESS mode): everything from
 * provisioning, staged DoFn modules, pipeline options in `ctx.options`, an
 * unreachable runner, and SIGTERM mid-bundle.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { endpointsApi, pipelineApi } from "../../proto/index.js";
import { jsonToStruct } from "../../src/boot/struct-json.js";
import { fileArtifact } from "../../src/jobs/artifact-store.js";
import { FakeRunner } from "../support/fake-runner.js";
import {
  dofnPayload,
  encodeGlobal,
  linearDescriptor,
  STR,
  valuesOf,
} from "../support/descriptors.js";
import { fireflyBin } from "../support/paths.js";
import { startWorker } from "../support/worker-process.js";
import { assertOk, until } from "./support.js";

/** A staged-file dependency named `name` with the sha256 of `bytes`. */
function staged(name: string, bytes: Uint8Array): pipelineApi.ArtifactInformation {
  return fileArtifact(name, createHash("sha256").update(bytes).digest("hex"), name);
}

test("boot with only --id and --provision_endpoint: endpoints, options and staged modules come from the runner", async () => {
  const runner = await FakeRunner.start();
  const semi = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-semi-"));
  const module = new TextEncoder().encode(
    "export const greet = (name, ctx) => [`${ctx.options.greeting}, ${name} (${ctx.config.mark})`];\n",
  );
  runner.artifacts.set("greet.mjs", module);
  const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
  runner.provisionInfo.control_endpoint = url;
  runner.provisionInfo.logging_endpoint = url;
  runner.provisionInfo.artifact_endpoint = url;
  runner.provisionInfo.pipeline_options = jsonToStruct({
    options: { greeting: "Hello", firefly_threads: 1, db_password: "hunter2" },
  });
  runner.provisionInfo.dependencies = [staged("greet.mjs", module)];
  const child = spawn(
    process.execPath,
    [
      fireflyBin,
      "boot",
      "--id",
      "provisioned",
      "--provision_endpoint",
      runner.url,
      "--semi_persist_dir",
      semi,
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    runner.descriptors.set(
      "greet",
      linearDescriptor({
        id: "greet",
        url: runner.url,
        input: STR,
        steps: [
          {
            id: "g",
            urn: "beam:transform:pardo:v1",
            payload: dofnPayload({ module: "./greet.mjs", export: "greet", config: { mark: "!" } }),
          },
        ],
      }),
    );
    const response = runner.processBundle("greet", "greet1");
    await runner.sendData("greet1", "source", encodeGlobal(STR, ["Ada"]));
    assertOk(await response);
    assert.deepEqual(valuesOf(STR, await runner.output("greet1", "sink")), ["Hello, Ada (!)"]);
    assert.ok(
      fs.existsSync(path.join(semi, "artifacts", "greet.mjs")),
      "the artifact was installed in the semi-persistent dir",
    );
    assert.match(stderr, /"db_password":"<redacted>"/, "secrets are redacted in logs");
    assert.doesNotMatch(stderr, /hunter2/);
    runner.closeControl();
    assert.equal(await exited, 0);
  } finally {
    child.kill("SIGKILL");
    runner.stop();
    fs.rmSync(semi, { recursive: true, force: true });
  }
});

test("an unreachable control endpoint is a clear error and a non-zero exit after the retry window", async () => {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      fireflyBin,
      "boot",
      "--id=lonely",
      "--control_endpoint=127.0.0.1:9",
      "--connect_timeout_ms=1500",
      "--threads=0",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 1);
  assert.match(stderr, /control endpoint 127\.0\.0\.1:9 unreachable after 1500 ms/);
  assert.ok(Date.now() - started >= 1400, "it retried for the whole window");
});

test("SIGTERM mid-bundle: the bundle is answered with an error and the worker exits cleanly", async () => {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, { threads: 0 });
  try {
    runner.descriptors.set(
      "d",
      linearDescriptor({
        id: "d",
        url: runner.url,
        input: STR,
        steps: [
          {
            id: "p",
            urn: "beam:transform:pardo:v1",
            payload: dofnPayload({ source: "export default (s) => [s]" }),
          },
        ],
      }),
    );
    const response = runner.processBundle("d", "term");
    await runner.sendData("term", "source", encodeGlobal(STR, ["a"]), [1 << 20], false);
    await until(
      "the bundle to start",
      () => /"instructionId":"term"/.test(worker.stderr()) || true,
    );
    await new Promise((r) => setTimeout(r, 200));
    worker.child.kill("SIGTERM");
    const answer = await response;
    assert.match(answer.error, /data stream to .* ended|stopping/);
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
  } finally {
    await worker.stop();
    runner.stop();
  }
});
