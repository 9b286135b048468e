/**
 * Message size limits of the servers Firefly hosts for others: the job
 * server (64 MiB by default: a 60 MB Prepare used to cost it ~280 MB) and
 * the local runner's per-job Fn API server (one maximal element, 512 MiB,
 * plus framing). Both refuse a larger message with RESOURCE_EXHAUSTED from
 * its length prefix, before reading it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { jobApi, pipelineApi } from "../../proto/index.js";
import { JOB_SERVER_MAX_MESSAGE_BYTES, startJobServer } from "../../src/jobs/job-service.js";
import { FnApiServer } from "../../src/runner/fn-api/server.js";
import { LoggingService } from "../../src/runner/fn-api/logging-service.js";
import { claimOversizedMessage } from "./oversized-message.js";

const MiB = 1024 * 1024;

function prepare(client: jobApi.JobServiceClient, jobName: string): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) =>
    client.Prepare(
      new jobApi.PrepareJobRequest({ pipeline: new pipelineApi.Pipeline(), job_name: jobName }),
      (err) => (err ? resolve(err) : reject(new Error("an empty pipeline was prepared"))),
    ),
  );
}

test("the job server refuses a message above 64 MiB with RESOURCE_EXHAUSTED; smaller ones are read", async () => {
  assert.equal(JOB_SERVER_MAX_MESSAGE_BYTES, 64 * MiB);
  const server = await startJobServer({ port: 0 });
  const client = new jobApi.JobServiceClient(server.url, grpc.credentials.createInsecure());
  try {
    const big = await prepare(client, "x".repeat(65 * MiB));
    assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED, big.details);
    // Read and judged: an empty pipeline is invalid.
    const small = await prepare(client, "x".repeat(MiB));
    assert.equal(small.code, grpc.status.INVALID_ARGUMENT, small.details);
    const claimed = await claimOversizedMessage(
      server.url,
      "/org.apache.beam.model.job_management.v1.JobService/Prepare",
      1024 * MiB,
    );
    assert.equal(claimed.status, grpc.status.RESOURCE_EXHAUSTED, claimed.message);
  } finally {
    client.close();
    await server.stop();
  }
});

test("the local runner's Fn API server refuses a message above 513 MiB from its length prefix", async () => {
  const server = new FnApiServer(new LoggingService());
  await server.start();
  try {
    const control =
      "/org.apache.beam.model.fn_execution.v1.BeamFnControl/GetProcessBundleDescriptor";
    const claimed = await claimOversizedMessage(server.url, control, 514 * MiB);
    assert.equal(claimed.status, grpc.status.RESOURCE_EXHAUSTED, claimed.message);
    // A stream the server reads at once (Data waits for its worker's control stream; until then
    // HTTP/2 flow control bounds what it buffers).
    const logging = "/org.apache.beam.model.fn_execution.v1.BeamFnLogging/Logging";
    const onStream = await claimOversizedMessage(server.url, logging, 2000 * MiB);
    assert.equal(onStream.status, grpc.status.RESOURCE_EXHAUSTED, onStream.message);
  } finally {
    await server.stop();
  }
});
