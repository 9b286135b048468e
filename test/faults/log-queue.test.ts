/**
 * The log queue is bounded end to end: a logging service that stops reading
 * must not make the worker buffer log records without limit (the forwarder
 * honours gRPC backpressure and drops, counting, past its queue bound); once
 * the service reads again, records flow.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";
import { DEFAULT_GRPC_SETTINGS } from "../../harness/grpc-settings.js";
import { LogForwarder } from "../../harness/logging/log-forwarder.js";
import { until } from "../integration/support.js";

test("a logging service that stops reading: the forwarder's buffering stays bounded and it drops with a count", async () => {
  const server = new grpc.Server();
  let received = 0;
  let call: grpc.ServerDuplexStream<fnApi.LogEntry.List, fnApi.LogControl> | undefined;
  server.addService(fnApi.UnimplementedBeamFnLoggingService.definition, {
    Logging: (c: grpc.ServerDuplexStream<fnApi.LogEntry.List, fnApi.LogControl>) => {
      call = c;
      c.pause();
      c.on("data", (list: fnApi.LogEntry.List) => (received += list.log_entries.length));
      c.on("error", () => undefined);
      c.on("end", () => c.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const maxQueued = 1000;
  const forwarder = new LogForwarder(`127.0.0.1:${port}`, {
    workerId: "w",
    grpc: DEFAULT_GRPC_SETTINGS,
    maxQueued,
    batchSize: 100,
    flushMs: 5,
  });
  try {
    const total = 60_000;
    const text = "x".repeat(400);
    for (let i = 0; i < total; i++) {
      forwarder.write({ level: 30, time: Date.now(), msg: `${i} ${text}` });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await until("the stream to open", () => call !== undefined);
    await new Promise((r) => setTimeout(r, 200));
    // HTTP/2 flow control lets some megabytes through before the stream blocks;
    // past that the forwarder must stop writing (not hand gRPC an unbounded buffer).
    assert.ok(
      forwarder.sent < 20_000,
      `the forwarder handed ${forwarder.sent} of ${total} records to a stream nobody reads`,
    );
    assert.ok(forwarder.dropped > 0, "records past the queue bound are dropped and counted");
    assert.equal(forwarder.sent + forwarder.dropped + forwarderQueued(forwarder), total);
    call!.resume();
    await until("the queued records to arrive", () => received === forwarder.sent, 20_000);
    forwarder.write({ level: 40, time: Date.now(), msg: "after resume" });
    await until("a new record to arrive", () => received === forwarder.sent && received > 0);
  } finally {
    await forwarder.close(500);
    server.forceShutdown();
  }
});

function forwarderQueued(forwarder: LogForwarder): number {
  return (forwarder as unknown as { queue: unknown[] }).queue.length;
}
