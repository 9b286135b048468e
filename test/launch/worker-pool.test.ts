import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { endpointsApi, fnApi } from "../../proto/index.js";
import { FIREFLY_BIN, startPoolServer } from "../../src/cli/pool-command.js";
import { bindsEveryInterface, exposureWarning } from "../../src/pool/exposed-address.js";
import {
  bootLauncher,
  DEFAULT_MAX_WORKERS,
  isHostPort,
  WorkerPoolService,
  type WorkerLauncher,
} from "../../src/pool/worker-pool-service.js";

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
    { stopGraceMs: 3000 },
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

/**
 * Children that ignore SIGTERM (so a stopped one stays alive until SIGKILL),
 * one per StartWorker; `ready` counts those that installed their handler.
 */
function stubbornLauncher() {
  let ready = 0;
  const launcher: WorkerLauncher = {
    start: () => {
      const child = spawn(
        process.execPath,
        [
          "-e",
          "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);",
        ],
        { stdio: ["ignore", "pipe", "ignore"] },
      );
      child.stdout?.once("data", () => ready++);
      return child;
    },
  };
  return { launcher, ready: () => ready };
}

test("the pool refuses StartWorker beyond maxWorkers with RESOURCE_EXHAUSTED until a worker is reaped", async () => {
  const stubborn = stubbornLauncher();
  const service = new WorkerPoolService(stubborn.launcher, pino({ level: "silent" }), {
    maxWorkers: 2,
    stopGraceMs: 1500,
  });
  const { server, port } = await startPoolServer("127.0.0.1", 0, service);
  const client = new fnApi.BeamFnExternalWorkerPoolClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  /** The response's error string, or the gRPC status error. */
  const start = (id: string) =>
    new Promise<string | grpc.ServiceError>((resolve) =>
      client.StartWorker(
        new fnApi.StartWorkerRequest({ worker_id: id, control_endpoint: endpoint("127.0.0.1:9") }),
        (e, r) => resolve(e ?? r!.error),
      ),
    );
  const assertExhausted = (result: string | grpc.ServiceError, what: string) => {
    assert.ok(typeof result !== "string", `${what}: refused with a status, got ${String(result)}`);
    assert.equal(result.code, grpc.status.RESOURCE_EXHAUSTED, what);
    assert.match(result.details, /the worker pool is full: 2 worker processes .*--max_workers=2/);
  };
  try {
    assert.equal(await start("a"), "");
    assert.equal(await start("b"), "");
    assertExhausted(await start("c"), "a third worker");
    assert.equal(service.liveWorkers, 2);

    // A stopped worker holds its slot until its process is gone (here: SIGKILL after 1.5 s).
    await until("the workers to ignore SIGTERM", () => stubborn.ready() === 2);
    service.stopWorker("a");
    assertExhausted(await start("c"), "while the stopped worker is still alive");
    await until("the stopped worker to be reaped", () => service.exits.some((e) => e.id === "a"));
    assert.equal(await start("c"), "");

    // A worker that dies on its own frees its slot too.
    assertExhausted(await start("d"), "a full pool again");
    service.workers.get("b")!.child.kill("SIGKILL");
    await until("the killed worker to be reaped", () => service.exits.some((e) => e.id === "b"));
    assert.equal(await start("d"), "");
    assert.equal(service.liveWorkers, 2);
  } finally {
    client.close();
    await service.stopAll();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
  assert.equal(service.liveWorkers, 0);
});

test("the default cap is max(16, 2 x cores); addresses binding every interface are flagged", () => {
  assert.ok(DEFAULT_MAX_WORKERS >= 16);
  assert.equal(
    new WorkerPoolService(stubbornLauncher().launcher, pino({ level: "silent" })).maxWorkers,
    DEFAULT_MAX_WORKERS,
  );
  assert.throws(
    () =>
      new WorkerPoolService(stubbornLauncher().launcher, pino({ level: "silent" }), {
        maxWorkers: 0,
      }),
    /maxWorkers must be a positive integer/,
  );
  for (const host of ["0.0.0.0", "::", "[::]"]) {
    assert.ok(bindsEveryInterface(host), host);
    assert.match(exposureWarning("the worker pool", host) ?? "", /every interface.*127\.0\.0\.1/);
  }
  for (const host of ["127.0.0.1", "localhost", "::1", "10.0.0.5"]) {
    assert.ok(!bindsEveryInterface(host), host);
    assert.equal(exposureWarning("the worker pool", host), undefined);
  }
});
