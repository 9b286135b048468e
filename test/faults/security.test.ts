/**
 * Security checks on real processes: the pool and the metrics endpoint bind
 * 127.0.0.1 by default (read from /proc/net/tcp), the pool refuses endpoints
 * that are not host:port, `{"module": …}` DoFns outside the allowed roots are
 * refused unless the pipeline opts in, and secret pipeline options are
 * redacted from logs (stderr and the runner's logging service) and the
 * status dump while user code still sees them.
 * (Artifact path traversal: test/launch/artifacts.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createHash } from "node:crypto";
import { endpointsApi, fnApi } from "../../proto/index.js";
import { fileArtifact } from "../../src/jobs/artifact-store.js";
import { jsonToStruct } from "../../src/boot/struct-json.js";
import { FakeRunner } from "../support/fake-runner.js";
import { fireflyBin } from "../support/paths.js";
import {
  dofnPayload,
  encodeGlobal,
  linearDescriptor,
  STR,
  valuesOf,
} from "../support/descriptors.js";
import { startWorker } from "../support/worker-process.js";
import { assertOk, until } from "../integration/support.js";
import { within } from "./support.js";

/** Local addresses (hex, as in /proc/net/tcp{,6}) listening on a port. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, hexPort] = (cols[1] ?? "").split(":");
      if (cols[3] === "0A" && hexPort && parseInt(hexPort, 16) === port) out.push(addr!);
    }
  }
  return out;
}

const LOOPBACK_V4 = "0100007F";

test("the pool binds 127.0.0.1 by default and refuses endpoints that are not host:port", async () => {
  const pool = spawn(process.execPath, [fireflyBin, "pool", "--port=0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    let out = "";
    pool.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    await until("the pool to listen", () => /listening on [\d.]+:\d+/.test(out));
    const [, host, port] = /listening on ([\d.]+):(\d+)/.exec(out)!;
    assert.equal(host, "127.0.0.1");
    assert.deepEqual(listeners(Number(port)), [LOOPBACK_V4]);
    const client = new fnApi.BeamFnExternalWorkerPoolClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    try {
      for (const bad of ["http://evil.example:1/x", "127.0.0.1", "a b:1", "host:99999"]) {
        const error = await new Promise<string>((resolve, reject) =>
          client.StartWorker(
            new fnApi.StartWorkerRequest({
              worker_id: `w-${bad}`,
              control_endpoint: new endpointsApi.ApiServiceDescriptor({ url: bad }),
            }),
            (e, r) => (e || !r ? reject(e) : resolve(r.error)),
          ),
        );
        assert.match(error, /is not host:port/, bad);
      }
    } finally {
      client.close();
    }
  } finally {
    pool.kill("SIGTERM");
    await within(new Promise((r) => pool.once("exit", r)), 10_000, undefined);
  }
});

test("firefly pool --max_workers caps live workers: StartWorker beyond it is RESOURCE_EXHAUSTED", async () => {
  const pool = spawn(process.execPath, [fireflyBin, "pool", "--port=0", "--max_workers=1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  pool.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  try {
    let out = "";
    pool.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    await until(
      "the pool to listen",
      () => /listening on [\d.]+:\d+/.test(out) || pool.exitCode !== null,
    );
    assert.equal(pool.exitCode, null, `the pool exited: ${err}`);
    const [, port] = /listening on [\d.]+:(\d+)/.exec(out)!;
    const client = new fnApi.BeamFnExternalWorkerPoolClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    const start = (id: string) =>
      new Promise<grpc.ServiceError | string>((resolve) =>
        client.StartWorker(
          new fnApi.StartWorkerRequest({
            worker_id: id,
            // Nothing listens there: the worker waits for its runner (alive, holding a slot).
            control_endpoint: new endpointsApi.ApiServiceDescriptor({ url: "127.0.0.1:9" }),
          }),
          (e, r) => resolve(e ?? r!.error),
        ),
      );
    try {
      assert.equal(await start("1-1"), "");
      const refused = await start("1-2");
      assert.ok(typeof refused !== "string", "the second worker is refused with a gRPC status");
      assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /--max_workers=1/);
    } finally {
      client.close();
    }
    assert.match(err, /"maxWorkers":1/);
    assert.doesNotMatch(err, /every interface/, "no exposure warning on 127.0.0.1");
  } finally {
    pool.kill("SIGTERM");
    await within(new Promise((r) => pool.once("exit", r)), 15_000, undefined);
  }
});

test("module DoFns outside the allowed roots are refused; secrets are redacted but reach user code; metrics bind 127.0.0.1", async () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-outside-"));
  fs.writeFileSync(path.join(outside, "fn.mjs"), "export default (s) => [s + '!'];\n");
  const secret = "hunter2-do-not-log";
  for (const allow of [false, true]) {
    const runner = await FakeRunner.start();
    const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
    runner.provisionInfo.control_endpoint = url;
    runner.provisionInfo.logging_endpoint = url;
    runner.provisionInfo.status_endpoint = url;
    runner.provisionInfo.pipeline_options = jsonToStruct({
      options: {
        db_password: secret,
        api_token: `${secret}-token`,
        client_secret: `${secret}-secret`,
        ...(allow ? { firefly_allow_any_module: true } : {}),
      },
    });
    const worker = startWorker(runner.url, {
      threads: 0,
      id: `sec-${allow}`,
      extraArgs: [`--provision_endpoint=${runner.url}`, "--metrics_port=0", "--log_level=debug"],
    });
    try {
      await runner.controlStream();
      const pardo = (id: string, spec: object) => ({
        id,
        urn: "beam:transform:pardo:v1",
        payload: dofnPayload(spec),
      });
      for (const [id, spec] of [
        ["abs", { module: path.join(outside, "fn.mjs") }],
        ["rel", { module: path.relative(process.cwd(), path.join(outside, "fn.mjs")) }],
      ] as const) {
        runner.descriptors.set(
          id,
          linearDescriptor({ id, url: runner.url, input: STR, steps: [pardo("m", spec)] }),
        );
        const r = runner.processBundle(id, `${id}-${allow}`);
        await runner.sendData(`${id}-${allow}`, "source", encodeGlobal(STR, ["a"]));
        const response = await r;
        if (allow) {
          assertOk(response);
          assert.deepEqual(valuesOf(STR, await runner.output(`${id}-${allow}`, "sink")), ["a!"]);
        } else {
          assert.match(response.error, /outside the working directory and staged artifacts/);
        }
      }
      // User code sees the secret; a user log of something else carries no secret.
      runner.descriptors.set(
        "opts",
        linearDescriptor({
          id: "opts",
          url: runner.url,
          input: STR,
          steps: [
            pardo("o", {
              source:
                "export default (s, ctx) => { ctx.logger.info('seen options'); return [ctx.options.db_password]; }",
            }),
          ],
        }),
      );
      const r = runner.processBundle("opts", `opts-${allow}`);
      await runner.sendData(`opts-${allow}`, "source", encodeGlobal(STR, ["x"]));
      assertOk(await r);
      assert.deepEqual(valuesOf(STR, await runner.output(`opts-${allow}`, "sink")), [secret]);

      await until("the status stream", () => runner.requestStatus() !== undefined);
      const status = (await runner.requestStatus()!).status_info;
      await until("the provisioning log", () => /"provisioned"/.test(worker.stderr()));
      await until("forwarded logs", () => runner.logs.some((l) => l.message === "seen options"));
      const forwarded = runner.logs.map((l) => `${l.message} ${l.trace}`).join("\n");
      for (const [where, text] of [
        ["stderr", worker.stderr()],
        ["the runner's logging service", forwarded],
        ["the status dump", status],
      ] as const)
        assert.ok(!text.includes(secret), `a secret leaked into ${where}`);
      assert.match(worker.stderr(), /"db_password":"<redacted>"/);

      const m = /"port":(\d+),"host":"([^"]+)","msg":"metrics endpoint listening"/.exec(
        worker.stderr(),
      );
      assert.ok(m, "the metrics endpoint logged its address");
      assert.equal(m[2], "127.0.0.1");
      assert.deepEqual(listeners(Number(m[1])), [LOOPBACK_V4]);
    } finally {
      runner.closeControl();
      await within(worker.exited, 10_000, undefined);
      await worker.stop();
      runner.stop();
    }
  }
  fs.rmSync(outside, { recursive: true, force: true });
});

/**
 * A fake runner that provisions its own control, logging and artifact
 * endpoints and one staged module, `mod.mjs` with `source`.
 */
async function runnerStagingMod(source: string): Promise<FakeRunner> {
  const runner = await FakeRunner.start();
  const mod = new TextEncoder().encode(source);
  runner.artifacts.set("mod.mjs", mod);
  const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
  runner.provisionInfo.control_endpoint = url;
  runner.provisionInfo.logging_endpoint = url;
  runner.provisionInfo.artifact_endpoint = url;
  runner.provisionInfo.dependencies = [
    fileArtifact("mod.mjs", createHash("sha256").update(mod).digest("hex"), "mod.mjs"),
  ];
  return runner;
}

test("a worker's scratch directory is fresh and private: a planted <tmpdir>/firefly-<id> with a symlinked partial is ignored", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-shared-tmp-"));
  // Another local user plants the directory a worker with a guessable id (Flink's 1-1) used to take.
  const victim = path.join(tmp, "victim.txt");
  fs.writeFileSync(victim, "precious\n");
  const planted = path.join(tmp, "firefly-1-1", "artifacts");
  fs.mkdirSync(planted, { recursive: true, mode: 0o777 });
  fs.chmodSync(path.join(tmp, "firefly-1-1"), 0o777);
  fs.symlinkSync(victim, path.join(planted, "mod.mjs.partial"));
  const runner = await runnerStagingMod("export default (s) => [s + '?'];\n");
  const child = spawn(
    process.execPath,
    [fireflyBin, "boot", "--id=1-1", `--provision_endpoint=${runner.url}`, "--threads=0"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TMPDIR: tmp } },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    runner.descriptors.set(
      "mod",
      linearDescriptor({
        id: "mod",
        url: runner.url,
        input: STR,
        steps: [
          {
            id: "m",
            urn: "beam:transform:pardo:v1",
            payload: dofnPayload({ module: "./mod.mjs" }),
          },
        ],
      }),
    );
    const response = runner.processBundle("mod", "mod-1");
    await runner.sendData("mod-1", "source", encodeGlobal(STR, ["a"]));
    assertOk(await response);
    assert.deepEqual(valuesOf(STR, await runner.output("mod-1", "sink")), ["a?"]);
    assert.equal(
      fs.readFileSync(victim, "utf8"),
      "precious\n",
      "the planted link was not followed",
    );
    const [, dir] = /"dir":"([^"]+)","artifacts"/.exec(stderr) ?? [];
    assert.ok(dir, "the worker logged where it installed the artifacts");
    const scratch = path.dirname(dir);
    assert.notEqual(scratch, path.join(tmp, "firefly-1-1"));
    assert.equal(path.dirname(scratch), tmp);
    assert.equal(fs.statSync(scratch).mode & 0o777, 0o700);
    runner.closeControl();
    assert.equal(await exited, 0);
    assert.ok(!fs.existsSync(scratch), "the fresh scratch directory is removed at exit");
  } finally {
    child.kill("SIGKILL");
    runner.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("firefly boot refuses a --semi_persist_dir that other users can write to, naming it and why", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-open-semi-"));
  fs.chmodSync(dir, 0o777);
  const runner = await runnerStagingMod("export default (s) => [s];\n");
  const child = spawn(
    process.execPath,
    [
      fireflyBin,
      "boot",
      "--id=1-1",
      `--provision_endpoint=${runner.url}`,
      `--semi_persist_dir=${dir}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  try {
    const code = await within(
      new Promise<number | null>((resolve) => child.once("exit", resolve)),
      20_000,
      "still running",
    );
    assert.notEqual(code, 0, stderr);
    assert.notEqual(code, "still running", stderr);
    assert.ok(stderr.includes(`refusing --semi_persist_dir ${JSON.stringify(dir)}`), stderr);
    assert.match(stderr, /writable by every user \(mode 777\)/);
    assert.deepEqual(fs.readdirSync(dir), [], "nothing was written there");
  } finally {
    child.kill("SIGKILL");
    runner.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
