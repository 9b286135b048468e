/**
 * What crosses to the conductor without a copy: an element sink's flushed
 * chunk moves as it is (its buffer is the sink's alone); a small view of a
 * large buffer is copied, so the rest of the buffer does not travel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferedElementSink } from "../../harness/data/element-sink.js";
import { ownedTransferable, transferable } from "../../harness/pool/protocol.js";

test("a sink's full chunk is transferred as it is, a small view is copied", async () => {
  const chunks: Uint8Array[] = [];
  const sink = new BufferedElementSink(
    (bytes) => {
      chunks.push(bytes);
    },
    { flushBytes: 1_000_000, flushMs: 0 },
  );
  const element = new Uint8Array(1000).fill(7);
  for (let i = 0; i < 1500; i++) {
    sink.writer.writeBytes(element);
    await sink.elementWritten();
  }
  await sink.close();
  const full = chunks[0]!;
  assert.ok(full.byteLength >= 1_000_000);
  assert.notEqual(full.byteLength, full.buffer.byteLength, "a view of a larger buffer");
  assert.equal(ownedTransferable(full), full, "moved without a copy");
  assert.notEqual(transferable(full), full, "transferable() copies it");

  const small = new Uint8Array(new ArrayBuffer(1 << 20), 0, 1000);
  const copied = ownedTransferable(small);
  assert.notEqual(copied, small);
  assert.equal(copied.buffer.byteLength, 1000);
  const offset = new Uint8Array(new ArrayBuffer(1 << 20), 16, (1 << 20) - 16);
  assert.notEqual(ownedTransferable(offset), offset, "not at the buffer's start: copied");
});
