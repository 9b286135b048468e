import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncQueue } from "../../harness/util/async-queue.js";

test("items pushed before and after next() arrive in order", async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  const second = (async () => [await q.next(), await q.next()])();
  q.push(2);
  assert.deepEqual(await second, [1, 2]);
});

test("end() lets buffered items drain, then next() resolves undefined", async () => {
  const q = new AsyncQueue<string>();
  q.push("a");
  q.end();
  q.push("ignored");
  assert.equal(await q.next(), "a");
  assert.equal(await q.next(), undefined);
});

test("fail() delivers what arrived before the failure, then rejects", async () => {
  const q = new AsyncQueue<number>();
  q.push(7);
  q.fail(new Error("stream broke"));
  assert.equal(await q.next(), 7);
  await assert.rejects(q.next(), /stream broke/);
});

test("fail() rejects a waiting consumer", async () => {
  const q = new AsyncQueue<number>();
  const waiting = q.next();
  q.fail(new Error("gone"));
  await assert.rejects(waiting, /gone/);
});

test("clear() drops buffered items and the queue keeps a bounded backing array", async () => {
  const q = new AsyncQueue<number>();
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 4000; i++) assert.equal(q.poll(), i);
  assert.equal(q.size, 1000);
  assert.equal(q.clear(), 1000);
  assert.equal(q.poll(), undefined);
});
