/**
 * Pipelines with a cross-language transform (expanded by a fake expansion
 * service) on Firefly's own runners: the portable client rewrites only
 * Firefly's environment, the job server accepts the second environment (and
 * its foreign coders) at Prepare, and the local runner refuses the foreign
 * step with its name and a pointer to a portable runner.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { jobApi } from "../../proto/index.js";
import { startJobServer, type JobServer } from "../../src/jobs/job-service.js";
import type { PortableResult } from "../../src/jobs/portable-runner.js";
import { external, Pipeline } from "../../src/pipeline/index.js";
import {
  startFakeExpansionService,
  type FakeExpansionService,
} from "../support/fake-expansion-service.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-xlang-jobs-"));
let server: JobServer;
let service: FakeExpansionService;

before(async () => {
  server = await startJobServer({ port: 0, artifactsDir: path.join(root, "artifacts") });
  service = await startFakeExpansionService("pardo");
});

after(async () => {
  await server.stop();
  await service.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Firefly strings → a foreign step (pickled output) → nothing Firefly reads. */
function xlangPipeline(options: Record<string, string>): Pipeline {
  const p = new Pipeline({ quiet: "true", ...options });
  p.create(["a", "b"]).apply(
    external("beam:transform:test:v1", new Uint8Array(), {
      expansionService: service.address,
      name: "PythonStep",
    }),
  );
  return p;
}

const FOREIGN_STEP =
  /step "PythonStep" \(beam:transform:test:v1\) is a cross-language transform in environment "firefly_external_1_env" \(beam:env:docker:v1\): Firefly's local runner runs only Firefly's own steps\. Run the pipeline on a portable runner/;

test("the local runner refuses a foreign step, naming it and pointing to a portable runner", async () => {
  const result = await xlangPipeline({ runner: "local" }).run();
  assert.equal(result.state, "FAILED");
  assert.match(String((result.error as { message?: string } | undefined)?.message), FOREIGN_STEP);
});

test("the job server takes two environments (foreign coders included) and fails the job with the local runner's message; the client rewrote only Firefly's environment", async () => {
  const p = xlangPipeline({
    runner: "portable",
    job_endpoint: server.url,
    environment_type: "EXTERNAL",
    environment_config: "127.0.0.1:1",
  });
  const result = (await p.run()) as PortableResult;
  assert.equal(result.state, "FAILED", result.messages.join("\n"));
  assert.match(result.messages.join("\n"), FOREIGN_STEP);
  assert.doesNotMatch(result.messages.join("\n"), /INVALID_ARGUMENT|not usable/);
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  const pipeline = await new Promise<jobApi.GetJobPipelineResponse>((resolve, reject) =>
    client.GetPipeline(new jobApi.GetJobPipelineRequest({ job_id: result.jobId }), (err, res) =>
      err || !res ? reject(err) : resolve(res),
    ),
  );
  client.close();
  const envs = pipeline.pipeline.components.environments;
  assert.equal(envs.get("firefly")?.urn, "beam:env:external:v1");
  assert.equal(envs.get("firefly_external_1_env")?.urn, "beam:env:docker:v1");
});
