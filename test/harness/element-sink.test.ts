import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferedElementSink } from "../../harness/data/element-sink.js";

function recorder() {
  const chunks: { bytes: number[]; isLast: boolean }[] = [];
  return {
    chunks,
    transport: (bytes: Uint8Array, isLast: boolean) =>
      void chunks.push({ bytes: [...bytes], isLast }),
  };
}

test("flushes when the buffer reaches flushBytes, and close sends the rest with is_last", async () => {
  const { chunks, transport } = recorder();
  const sink = new BufferedElementSink(transport, { flushBytes: 4, flushMs: 0 });
  for (const b of [1, 2, 3]) {
    sink.writer.writeByte(b);
    sink.elementWritten();
  }
  assert.equal(chunks.length, 0);
  sink.writer.writeByte(4);
  sink.elementWritten();
  assert.deepEqual(chunks, [{ bytes: [1, 2, 3, 4], isLast: false }]);
  sink.writer.writeByte(5);
  sink.elementWritten();
  await sink.close();
  assert.deepEqual(chunks.at(-1), { bytes: [5], isLast: true });
});

test("close sends is_last even when nothing was written", async () => {
  const { chunks, transport } = recorder();
  const sink = new BufferedElementSink(transport, { flushBytes: 100, flushMs: 0 });
  await sink.close();
  assert.deepEqual(chunks, [{ bytes: [], isLast: true }]);
});

test("a time limit flushes a small buffer without waiting for the size limit", async () => {
  const { chunks, transport } = recorder();
  const sink = new BufferedElementSink(transport, { flushBytes: 1 << 20, flushMs: 20 });
  sink.writer.writeByte(9);
  sink.elementWritten();
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(chunks, [{ bytes: [9], isLast: false }]);
  await sink.close();
});

test("a transport that needs draining makes elementWritten return a promise", async () => {
  let release!: () => void;
  const drained = new Promise<void>((r) => (release = r));
  const sent: number[] = [];
  const sink = new BufferedElementSink(
    (bytes) => {
      sent.push(bytes.length);
      return drained;
    },
    { flushBytes: 1, flushMs: 0 },
  );
  sink.writer.writeByte(1);
  const pending = sink.elementWritten();
  assert.ok(pending instanceof Promise, "backpressure surfaces as a promise");
  let done = false;
  void pending.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(done, false);
  release();
  await pending;
  assert.deepEqual(sent, [1]);
});

test("abandon stops the flush timer and nothing more is sent", async () => {
  const { chunks, transport } = recorder();
  const sink = new BufferedElementSink(transport, { flushBytes: 1 << 20, flushMs: 10 });
  sink.writer.writeByte(1);
  sink.elementWritten();
  sink.abandon();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(chunks.length, 0);
});
