/**
 * Inbound flow control bounds what the worker holds: past `maxBufferedBytes`
 * the data stream is paused, and a paused stream reads at most one message
 * ahead (Node's readable default, 16 messages, held 16 MiB more of 1 MiB
 * messages). Then everything arrives once the bundle consumes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { DataChannel } from "../../harness/data/data-channel.js";
import { DEFAULT_GRPC_SETTINGS } from "../../harness/grpc-settings.js";
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";

const LIMIT = 1024 * 1024;
const MESSAGE = 256 * 1024;
const MESSAGES = 32; // 8 MiB: far over the limit

let runner: FakeRunner;
let channel: DataChannel;

before(async () => {
  runner = await FakeRunner.start();
  channel = new DataChannel(runner.url, {
    workerId: "flow",
    grpc: DEFAULT_GRPC_SETTINGS,
    maxBufferedBytes: LIMIT,
    orphanTimeoutMs: 600_000,
    logger: pino({ enabled: false }),
  });
  await runner.dataStream();
});
after(() => {
  channel.close();
  runner.stop();
});

/** Resolves when `read()` returned the same value `times` polls in a row. */
async function settled(read: () => number, times = 10): Promise<number> {
  let last = read();
  for (let same = 0; same < times;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

test("a paused data stream holds the limit plus about one message, then delivers all", async () => {
  const bytes = new Uint8Array(MESSAGE * MESSAGES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  // Data before its ProcessBundle: unclaimed bytes count against the limit.
  const sent = runner.sendData("early", "source", bytes, [MESSAGE], true);
  const buffered = await settled(() => channel.bufferedBytes);
  const readAhead = (channel as unknown as { call: { readableLength: number } }).call
    .readableLength;
  assert.ok(buffered <= LIMIT + MESSAGE, `buffered ${buffered} bytes, limit ${LIMIT}`);
  assert.ok(readAhead <= 1, `${readAhead} messages read ahead while paused`);

  const inbound = channel.claim("early");
  inbound.startConsuming();
  const received: Uint8Array[] = [];
  for (let item = await inbound.next(); item; item = await inbound.next()) {
    received.push(item.bytes);
    if (item.isLast) break;
  }
  await sent;
  assert.deepEqual(Buffer.concat(received), Buffer.from(bytes));
  channel.release("early");
});

test("a message's only entry owns its buffer (a pool bundle moves it); entries sharing one do not", async () => {
  const big = new Uint8Array(64 * 1024).fill(3);
  await runner.sendData("own", "source", big, [big.length], false);
  const data = (id: string) =>
    new fnApi.Elements.Data({ instruction_id: id, transform_id: "source", data: big });
  await runner.sendElements(new fnApi.Elements({ data: [data("own"), data("own")] }));
  await runner.sendData("own", "source", new Uint8Array(10).fill(4), [10], false);
  await runner.sendData("own", "source", new Uint8Array(), [1], true);
  const inbound = channel.claim("own");
  inbound.startConsuming();
  const owns: (boolean | undefined)[] = [];
  for (let item = await inbound.next(); item; item = await inbound.next()) {
    if (item.kind !== "data") continue;
    if (item.isLast) break;
    owns.push(item.ownsBuffer);
    assert.ok(item.bytes.length > 0);
  }
  // The 64 KiB message alone: owned; two entries in one message: not; 10 bytes: not.
  assert.deepEqual(owns, [true, false, false, false]);
  channel.release("own");
});
