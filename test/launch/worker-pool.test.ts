import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { endpointsApi, fnApi } from "../../proto/index.js";
import { FIREFLY_BIN, startPoolServer } from "../../src/cli/pool-command.js";
import { bootLauncher, isHostPort, WorkerPoolService } from "../../src/pool/worker-pool-service.js";

/** A control endpoint that records which workers connected (by worker_id metadata). */
async function controlServer() {
  const connected = new Set<string>();
  const server = new grpc.Server();
  server.addService(fnApi.UnimplementedBeamFnControlService.definition, {
    Control: (
      call: grpc.ServerDuplexStream<fnApi.InstructionResponse, fnApi.InstructionRequest>,
    ) => {
      connected.add(String(call.metadata.get("worker_id")[0]));
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
    GetProcessBundleDescriptor: (_c: unknown, cb: grpc.sendUnaryData<never>) =>
      cb({ code: grpc.status.NOT_FOUND }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { url: `127.0.0.1:${port}`, connected, stop: () => server.forceShutdown() };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const endpoint = (url: string) => new endpointsApi.ApiServiceDescriptor({ url });

test("the pool starts 3 workers over gRPC, reaps a killed one, and stops the others", async () => {
  const control = await controlServer();
  const service = new WorkerPoolService(
    bootLauncher(FIREFLY_BIN, ["--threads=0"]),
    pino({ level: "silent" }),
    3000,
  );
  const { server, port } = await startPoolServer("127.0.0.1", 0, service);
  const client = new fnApi.BeamFnExternalWorkerPoolClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const start = (id: string, url = control.url) =>
    new Promise<string>((resolve, reject) =>
      client.StartWorker(
        new fnApi.StartWorkerRequest({ worker_id: id, control_endpoint: endpoint(url) }),
        (e, r) => (e || !r ? reject(e) : resolve(r.error)),
      ),
    );
  const stop = (id: string) =>
    new Promise<string>((resolve, reject) =>
      client.StopWorker(new fnApi.StopWorkerRequest({ worker_id: id }), (e, r) =>
        e || !r ? reject(e) : resolve(r.error),
      ),
    );
  try {
    for (const id of ["w1", "w2", "w3"]) assert.equal(await start(id), "");
    assert.match(await start("w1"), /worker "w1" is already running/);
    assert.match(
      await start("w4", "not an endpoint"),
      /control_endpoint "not an endpoint" is not host:port/,
    );
    await until("three workers to connect", () => control.connected.size === 3);
    assert.deepEqual([...control.connected].sort(), ["w1", "w2", "w3"]);

    service.workers.get("w2")?.child.kill("SIGKILL");
    await until("the killed worker to be reaped", () => service.exits.some((e) => e.id === "w2"));
    assert.deepEqual(
      service.exits.find((e) => e.id === "w2"),
      { id: "w2", code: null, signal: "SIGKILL" },
    );
    assert.deepEqual([...service.workers.keys()].sort(), ["w1", "w3"]);

    assert.equal(await stop("w1"), "");
    assert.match(await stop("w1"), /no running worker "w1"/);
    await until("w1 to exit", () => service.exits.some((e) => e.id === "w1"));
    assert.equal(
      service.exits.find((e) => e.id === "w1")?.code,
      0,
      "SIGTERM ends a worker cleanly",
    );
  } finally {
    client.close();
    await service.stopAll();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    control.stop();
  }
});

test("the pool accepts only host:port endpoints", () => {
  for (const ok of ["127.0.0.1:50000", "localhost:1", "[::1]:8099", "runner.example:443"])
    assert.ok(isHostPort(ok), ok);
  for (const bad of ["", "127.0.0.1", "http://x:1", "x:0", "x:70000", "a b:1", "x:1/path"])
    assert.ok(!isHostPort(bad), bad);
});
