/**
 * The Job API end to end: builder pipelines submitted with `--runner=portable`
 * to Firefly's job server (in-process server; workers are `firefly boot`
 * processes started by a worker pool), with LOOPBACK and EXTERNAL
 * environments; staging of `{module}` DoFns; cancel; failures; Prepare's
 * validation; GetJobs/GetPipeline/DescribePipelineOptions.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { artifactApi, jobApi, pipelineApi } from "../../proto/index.js";
import { startPoolServer } from "../../src/cli/pool-command.js";
import { startJobServer, type JobServer } from "../../src/jobs/job-service.js";
import type { PortableResult } from "../../src/jobs/portable-runner.js";
import { kv, Pipeline } from "../../src/pipeline/index.js";
import { bootLauncher, WorkerPoolService } from "../../src/pool/worker-pool-service.js";
import { fireflyBin } from "../support/paths.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-jobs-"));
let server: JobServer;
let pool: { address: string; stop(): Promise<void> };

function call<Req, Res>(
  method: (r: Req, cb: (e: grpc.ServiceError | null, res?: Res) => void) => unknown,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, (err, res) =>
      err || !res ? reject(err ?? new Error("no response")) : resolve(res),
    ),
  );
}

/** The id of the job named `name` once GetJobs lists it RUNNING (polls every 100 ms). */
async function runningJobId(client: jobApi.JobServiceClient, name: string): Promise<string> {
  for (;;) {
    const { job_info } = await call(client.GetJobs.bind(client), new jobApi.GetJobsRequest());
    const jobId = job_info.find(
      (j) => j.job_name === name && j.state === jobApi.JobState.Enum.RUNNING,
    )?.job_id;
    if (jobId) return jobId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  server = await startJobServer({ port: 0, artifactsDir: path.join(root, "artifacts") });
  const logger = pino({ level: "warn" }, pino.destination({ dest: 2, sync: true }));
  const service = new WorkerPoolService(
    bootLauncher(fireflyBin, ["--log_level=warn", "--threads=0"]),
    logger,
  );
  const started = await startPoolServer("127.0.0.1", 0, service);
  pool = {
    address: `127.0.0.1:${started.port}`,
    async stop() {
      await service.stopAll();
      await new Promise<void>((resolve) => started.server.tryShutdown(() => resolve()));
    },
  };
});

after(async () => {
  await server.stop();
  await pool.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

function portable(environment: "LOOPBACK" | "EXTERNAL", extra: Record<string, string> = {}) {
  return new Pipeline({
    runner: "portable",
    job_endpoint: server.url,
    environment_type: environment,
    ...(environment === "EXTERNAL" ? { environment_config: pool.address } : {}),
    quiet: true,
    ...extra,
  });
}

function readShards(prefix: string): string[] {
  const dir = path.dirname(prefix);
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(path.basename(prefix)))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n"))
    .filter((l) => l !== "")
    .sort();
}

for (const environment of ["LOOPBACK", "EXTERNAL"] as const) {
  test(`wordcount with a side input and a combine, ${environment}`, async () => {
    const dir = path.join(root, `wc-${environment}`);
    fs.mkdirSync(path.join(dir, "in"), { recursive: true });
    fs.writeFileSync(path.join(dir, "in", "a.txt"), "the cat\nthe dog\n");
    fs.writeFileSync(path.join(dir, "in", "b.txt"), "a cat\n");
    const p = portable(environment);
    const stop = p.create(["a"], { name: "StopWords" });
    const counts = p
      .readText(path.join(dir, "in", "*.txt"))
      .flatMap((line) => line.split(" "), { coder: "string" })
      .parDo(
        {
          async process(word: string, ctx: any) {
            const stopWords: string[] = await ctx.sideInput("stop");
            return stopWords.includes(word) ? [] : [{ key: word, value: 1 }];
          },
        },
        { coder: kv("string", "varint"), sideInputs: { stop: stop.asIterable() } },
      )
      .combinePerKey("sum");
    counts
      .map((e) => `${e.key}: ${e.value}`, { coder: "string" })
      .writeText(path.join(dir, "out", "counts"));
    const result = (await p.run()) as PortableResult;
    assert.equal(result.state, "DONE", result.messages.join("\n"));
    assert.deepEqual(readShards(path.join(dir, "out", "counts")), ["cat: 2", "dog: 1", "the: 2"]);
    assert.ok(result.jobId);
  });
}

test("a {module} DoFn outside the working directory is staged and loads in the worker", async () => {
  const dir = path.join(root, "module");
  fs.mkdirSync(dir, { recursive: true });
  const moduleFile = path.join(dir, "shout.mjs");
  fs.writeFileSync(moduleFile, "export const shout = (w) => [w.toUpperCase() + '!'];\n");
  const p = portable("EXTERNAL");
  p.create(["hi", "yo"])
    .parDo({ module: moduleFile, export: "shout" }, { coder: "string" })
    .writeText(path.join(dir, "out", "shouted"));
  const result = (await p.run()) as PortableResult;
  assert.equal(result.state, "DONE", result.messages.join("\n"));
  assert.deepEqual(readShards(path.join(dir, "out", "shouted")), ["HI!", "YO!"]);
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  const { pipeline } = await call(
    client.GetPipeline.bind(client),
    new jobApi.GetJobPipelineRequest({ job_id: result.jobId }),
  );
  client.close();
  const deps = [...pipeline.components.environments.values()][0].dependencies;
  assert.equal(deps.length, 1);
  const staged = pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(deps[0].role_payload);
  assert.match(staged.staged_name, /^shout-[0-9a-f]{12}\.mjs$/);
  // GetPipeline shows the artifact as submitted: the server's copy is the job's workers' secret.
  const submitted = pipelineApi.ArtifactFilePayload.deserializeBinary(deps[0].type_payload);
  assert.equal(submitted.path, moduleFile);
  assert.ok(!submitted.path.startsWith(server.artifacts.root));
});

test("a job whose user code fails reaches FAILED with the message", async () => {
  const p = portable("EXTERNAL");
  p.create([1, 2, 3]).map(
    (x: number) => {
      if (x === 2) throw new Error("two is not allowed"); // marker: job-throw
      return x;
    },
    { name: "Picky" },
  );
  const result = (await p.run()) as PortableResult;
  assert.equal(result.state, "FAILED");
  // The job's error message is the worker's rendering, once: step, method, element, user frame.
  const compiled = fileURLToPath(import.meta.url);
  const upTo = fs
    .readFileSync(compiled, "utf8")
    .split('throw new Error("two is not allowed"); // marker')[0]
    .split("\n");
  const at = `${upTo.length}:${upTo[upTo.length - 1].length + 1 + "throw ".length}`;
  assert.equal(
    result.error?.message,
    [
      'step "Picky" failed in process: Error: two is not allowed',
      "  element: 2",
      `    at <anonymous> (${path.relative(process.cwd(), compiled)}:${at})`,
    ].join("\n"),
  );
  const saying = result.messages.filter((m) => m.includes("two is not allowed"));
  assert.equal(saying.length, 1, `the error once among the job's messages:\n${saying.join("\n")}`);
});

test("cancelling a running job reaches CANCELLED", async () => {
  const p = portable("EXTERNAL", { job_name: "sleepy" });
  p.create([1]).map(async (x: number) => {
    await new Promise((resolve) => setTimeout(resolve, 120_000));
    return x;
  });
  const running = p.run() as Promise<PortableResult>;
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const jobId = await runningJobId(client, "sleepy");
    // Let the sleeping bundle start on the worker.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await call(client.Cancel.bind(client), new jobApi.CancelJobRequest({ job_id: jobId }));
    const result = await running;
    assert.equal(result.state, "CANCELLED");
    const state = await call(
      client.GetState.bind(client),
      new jobApi.GetJobStateRequest({ job_id: jobId }),
    );
    assert.equal(state.state, jobApi.JobState.Enum.CANCELLED);
  } finally {
    client.close();
  }
});

test("Prepare rejects malformed pipelines with INVALID_ARGUMENT", async () => {
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  const prepare = (pipeline: pipelineApi.Pipeline) =>
    call(client.Prepare.bind(client), new jobApi.PrepareJobRequest({ pipeline, job_name: "bad" }));
  try {
    await assert.rejects(prepare(new pipelineApi.Pipeline()), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /no transforms/);
      return true;
    });
    const good = new Pipeline({ runner: "local" });
    good.create(["x"]).map((s: string) => s, { name: "Same" });
    const dangling = good.toProto();
    const [someId, some] = [...dangling.components.transforms].find(([, t]) => t.inputs.size > 0)!;
    some.inputs.set("input", "nowhere");
    const [pcId, pc] = [...dangling.components.pcollections][0];
    pc.coder_id = "no-such-coder";
    const pardo = [...dangling.components.transforms.values()].find(
      (t) => t.spec?.urn === "beam:transform:pardo:v1",
    )!;
    pardo.environment_id = "";
    await assert.rejects(prepare(dangling), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /unknown PCollection "nowhere"/, someId);
      assert.match(
        err.details,
        new RegExp(`PCollection "${pcId}" has unknown coder "no-such-coder"`),
      );
      assert.match(err.details, /runs user code but names no environment/);
      return true;
    });
  } finally {
    client.close();
  }
});

test("GetJobs, GetPipeline and DescribePipelineOptions answer", async () => {
  const p = portable("LOOPBACK", { job_name: "listed" });
  p.create([1, 2]).map((x: number) => x + 1, { name: "Inc" });
  const result = (await p.run()) as PortableResult;
  assert.equal(result.state, "DONE", result.messages.join("\n"));
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const { job_info } = await call(client.GetJobs.bind(client), new jobApi.GetJobsRequest());
    const info = job_info.find((j) => j.job_id === result.jobId);
    assert.equal(info?.job_name, "listed");
    assert.equal(info?.state, jobApi.JobState.Enum.DONE);
    const { pipeline } = await call(
      client.GetPipeline.bind(client),
      new jobApi.GetJobPipelineRequest({ job_id: result.jobId }),
    );
    assert.ok([...pipeline.components.transforms.values()].some((t) => t.unique_name === "Inc"));
    const env = [...pipeline.components.environments.values()][0];
    assert.equal(env.urn, "beam:env:external:v1");
    const { options } = await call(
      client.DescribePipelineOptions.bind(client),
      new jobApi.DescribePipelineOptionsRequest(),
    );
    assert.ok(options.some((o) => o.name === "environment_type"));
    await assert.rejects(
      call(client.GetState.bind(client), new jobApi.GetJobStateRequest({ job_id: "nope" })),
      (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND,
    );
  } finally {
    client.close();
  }
});

test("several jobs run at once", async () => {
  const dir = path.join(root, "concurrent");
  const pipelines = [1, 2, 3].map((n) => {
    const p = portable("EXTERNAL", { job_name: `concurrent-${n}` });
    p.create([n, n * 10])
      .map((x: number) => `${x}`, { coder: "string" })
      .writeText(path.join(dir, `out${n}`, "values"));
    return p;
  });
  const results = (await Promise.all(pipelines.map((p) => p.run()))) as PortableResult[];
  assert.deepEqual(
    results.map((r) => r.state),
    ["DONE", "DONE", "DONE"],
  );
  assert.equal(new Set(results.map((r) => r.jobId)).size, 3);
  for (const n of [1, 2, 3])
    assert.deepEqual(readShards(path.join(dir, `out${n}`, "values")), [`${n}`, `${n * 10}`].sort());
});

test("secrets in a job's options leave the job server redacted: GetJobs and job messages", async () => {
  const secret = "hunter2-job-secret";
  const p = portable("LOOPBACK", {
    job_name: "secretive",
    db_password: secret,
    api_key: `${secret}-api`,
    private_key: `${secret}-pk`,
    db_url: `postgres://app:${secret}-url@db.internal/orders`,
  });
  p.create([1]).map(
    (x: number, ctx: any) => {
      // User code sees the secret (and leaks it into its error).
      throw new Error(`cannot log in to the database with ${ctx.options.db_password} (${x})`);
    },
    { name: "Login" },
  );
  const result = (await p.run()) as PortableResult;
  assert.equal(result.state, "FAILED");
  assert.match(result.error?.message ?? "", /cannot log in to the database with <redacted>/);
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const { job_info } = await call(client.GetJobs.bind(client), new jobApi.GetJobsRequest());
    const info = job_info.find((j) => j.job_id === result.jobId);
    assert.ok(info, "the job is listed");
    const options = JSON.stringify(info.pipeline_options.toObject());
    assert.match(options, /beam:option:db_password:v1/);
    assert.match(options, /<redacted>/);
    assert.match(options, /postgres:\/\/app:<redacted>@db\.internal\/orders/);
    const messages = result.messages.join("\n") + (result.error?.message ?? "");
    for (const [where, text] of [
      ["GetJobs", JSON.stringify(job_info.map((j) => j.toObject()))],
      ["the job's messages", messages],
    ] as const)
      assert.ok(!text.includes(secret), `a secret leaked into ${where}: ${text}`);
  } finally {
    client.close();
  }
});

/** Stages for `token` with nothing to offer; resolves with the call's status code. */
function stageWith(token: string): Promise<grpc.status> {
  const client = new artifactApi.ArtifactStagingServiceClient(
    server.url,
    grpc.credentials.createInsecure(),
  );
  return new Promise<grpc.status>((resolve) => {
    const call = client.ReverseArtifactRetrievalService();
    call.on("data", () => undefined);
    call.on("error", (err: grpc.ServiceError) => resolve(err.code));
    call.on("status", (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) resolve(grpc.status.OK);
    });
    call.write(new artifactApi.ArtifactResponseWrapper({ staging_token: token }));
    call.end();
  }).finally(() => client.close());
}

/** GetArtifact of a file artifact at `file` on the job server: its bytes, or the error code. */
function getArtifact(file: string): Promise<Buffer | grpc.status> {
  const client = new artifactApi.ArtifactRetrievalServiceClient(
    server.url,
    grpc.credentials.createInsecure(),
  );
  const info = new pipelineApi.ArtifactInformation({
    type_urn: "beam:artifact:type:file:v1",
    type_payload: new pipelineApi.ArtifactFilePayload({ path: file }).serializeBinary(),
  });
  return new Promise<Buffer | grpc.status>((resolve) => {
    const chunks: Uint8Array[] = [];
    const call = client.GetArtifact(new artifactApi.GetArtifactRequest({ artifact: info }));
    call.on("data", (r: artifactApi.GetArtifactResponse) => chunks.push(r.data));
    call.on("error", (err: grpc.ServiceError) => resolve(err.code));
    call.on("end", () => resolve(Buffer.concat(chunks)));
  }).finally(() => client.close());
}

test("staging tokens are secret and single-use, not the job id GetJobs lists", async () => {
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const pipeline = new Pipeline({ runner: "local" });
    pipeline.create(["x"]).map((s: string) => s, { name: "Same" });
    const prepared = await call(
      client.Prepare.bind(client),
      new jobApi.PrepareJobRequest({ pipeline: pipeline.toProto(), job_name: "staged" }),
    );
    const token = prepared.staging_session_token;
    assert.notEqual(token, prepared.preparation_id);
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { job_info } = await call(client.GetJobs.bind(client), new jobApi.GetJobsRequest());
    assert.ok(job_info.some((j) => j.job_id === prepared.preparation_id));
    assert.ok(!JSON.stringify(job_info.map((j) => j.toObject())).includes(token));
    // Whoever knows only the listed job id cannot stage (plant code) for it.
    assert.equal(await stageWith(prepared.preparation_id), grpc.status.NOT_FOUND);
    assert.equal(await stageWith(token), grpc.status.OK);
    assert.equal(await stageWith(token), grpc.status.NOT_FOUND, "a token stages once");
    await call(
      client.Cancel.bind(client),
      new jobApi.CancelJobRequest({ job_id: prepared.preparation_id }),
    );
  } finally {
    client.close();
  }
});

test("GetArtifact serves a job only its own stored files, under a path its workers alone are told", async () => {
  const dir = path.join(root, "scoped");
  fs.mkdirSync(dir, { recursive: true });
  const moduleFile = path.join(dir, "slow.mjs");
  fs.writeFileSync(
    moduleFile,
    "export const slow = async (x) => { await new Promise((r) => setTimeout(r, 120000)); return [x]; };\n",
  );
  const p = portable("EXTERNAL", { job_name: "scoped" });
  p.create(["x"]).parDo({ module: moduleFile, export: "slow" }, { coder: "string" });
  const running = p.run() as Promise<PortableResult>;
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const jobId = await runningJobId(client, "scoped");
    const { pipeline } = await call(
      client.GetPipeline.bind(client),
      new jobApi.GetJobPipelineRequest({ job_id: jobId }),
    );
    const dep = [...pipeline.components.environments.values()][0].dependencies[0];
    const name = pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(
      dep.role_payload,
    ).staged_name;
    const artifactsRoot = server.artifacts.root;
    // What anyone can derive from GetJobs and GetPipeline is not a path the server serves,
    assert.equal(await getArtifact(path.join(artifactsRoot, jobId, name)), grpc.status.NOT_FOUND);
    // nor is any other file in its store.
    fs.writeFileSync(path.join(artifactsRoot, "planted.txt"), "not an artifact\n");
    assert.equal(await getArtifact(path.join(artifactsRoot, "planted.txt")), grpc.status.NOT_FOUND);
    // The job's file is served under the path its workers were given (with 128 random bits).
    const jobDirs = fs.readdirSync(artifactsRoot).filter((d) => d.startsWith(`${jobId}-`));
    assert.equal(jobDirs.length, 1, "one directory for the job");
    assert.match(jobDirs[0], new RegExp(`^${jobId}-[0-9a-f]{32}$`));
    const stored = path.join(artifactsRoot, jobDirs[0], name);
    assert.equal(String(await getArtifact(stored)), fs.readFileSync(moduleFile, "utf8"));
    await call(client.Cancel.bind(client), new jobApi.CancelJobRequest({ job_id: jobId }));
    assert.equal((await running).state, "CANCELLED");
    assert.ok(
      !fs.existsSync(path.join(artifactsRoot, jobDirs[0])),
      "a job's files go when it ends",
    );
    assert.equal(await getArtifact(stored), grpc.status.NOT_FOUND);
  } finally {
    client.close();
  }
});

test("the job server's scratch directory is private and removed at stop; a given one keeps only what it had", async () => {
  const own = await startJobServer({ port: 0 });
  const given = path.join(root, "given-artifacts");
  fs.mkdirSync(given, { mode: 0o700 });
  fs.writeFileSync(path.join(given, "mine.txt"), "kept\n");
  const withGiven = await startJobServer({ port: 0, artifactsDir: given });
  const tmpRoot = own.artifacts.root;
  try {
    assert.equal(path.dirname(tmpRoot), os.tmpdir());
    assert.equal(fs.statSync(tmpRoot).mode & 0o777, 0o700);
    for (const s of [own, withGiven]) {
      const client = new jobApi.JobServiceClient(s.url, grpc.credentials.createInsecure());
      const pipeline = new Pipeline({ runner: "local" });
      pipeline.create(["x"]).map((v: string) => v, { name: "Same" });
      await call(
        client.Prepare.bind(client),
        new jobApi.PrepareJobRequest({ pipeline: pipeline.toProto(), job_name: "left" }),
      ).finally(() => client.close());
    }
    assert.equal(fs.readdirSync(given).length, 2, "a job directory next to mine.txt");
  } finally {
    await own.stop();
    await withGiven.stop();
  }
  assert.ok(!fs.existsSync(tmpRoot), "the temporary artifacts directory is removed at stop");
  assert.deepEqual(fs.readdirSync(given), ["mine.txt"]);
});
