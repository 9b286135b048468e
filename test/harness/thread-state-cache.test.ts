/**
 * The pool threads' state cache (issue 19): a thread's bundle state over the
 * conductor's real BundleState and StateCache, with a fake runner state
 * channel that counts requests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { BundleState } from "../../harness/state/bundle-state.js";
import type { StateChannel } from "../../harness/state/state-channel.js";
import { StateCache } from "../../harness/state/state-cache.js";
import { ThreadBundleState, type StateTransport } from "../../harness/state/thread-bundle-state.js";
import { ThreadStateCache, threadCacheCapacity } from "../../harness/state/thread-state-cache.js";
import {
  DEFAULT_JOURNAL_ENTRIES,
  UserStateJournal,
} from "../../harness/state/user-state-journal.js";

/** The runner's state, as a state channel sees it. */
class FakeChannel {
  readonly maxReadBytes = 1 << 30;
  readonly store = new Map<string, Uint8Array[]>();
  readonly requests = { get: 0, append: 0, clear: 0 };
  failWrites = false;

  request(req: fnApi.StateRequest): Promise<fnApi.StateResponse> {
    const id = Buffer.from(req.state_key.serializeBinary()).toString("latin1");
    if (req.has_get) {
      this.requests.get++;
      return Promise.resolve(
        new fnApi.StateResponse({
          id: req.id,
          get: new fnApi.StateGetResponse({
            data: Buffer.concat(this.store.get(id) ?? []),
          }),
        }),
      );
    }
    if (this.failWrites) return Promise.reject(new Error("write refused"));
    if (req.has_append) {
      this.requests.append++;
      this.store.set(id, [...(this.store.get(id) ?? []), req.append.data.slice()]);
    } else {
      this.requests.clear++;
      this.store.delete(id);
    }
    return Promise.resolve(new fnApi.StateResponse({ id: req.id }));
  }
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const flat = (pages: Uint8Array[]) => [...Buffer.concat(pages)];

function sideKey(key: number, sideInputId = "side"): fnApi.StateKey {
  return new fnApi.StateKey({
    multimap_side_input: new fnApi.StateKey.MultimapSideInput({
      transform_id: "t",
      side_input_id: sideInputId,
      window: bytes(0),
      key: bytes(key),
    }),
  });
}

function bagKey(key: number): fnApi.StateKey {
  return new fnApi.StateKey({
    bag_user_state: new fnApi.StateKey.BagUserState({
      transform_id: "t",
      user_state_id: "bag",
      window: bytes(0),
      key: bytes(key),
    }),
  });
}

function sideToken(token: string, sideInputId = "side"): fnApi.ProcessBundleRequest.CacheToken {
  return new fnApi.ProcessBundleRequest.CacheToken({
    token: new TextEncoder().encode(token),
    side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
      transform_id: "t",
      side_input_id: sideInputId,
    }),
  });
}

function userToken(token: string): fnApi.ProcessBundleRequest.CacheToken {
  return new fnApi.ProcessBundleRequest.CacheToken({
    token: new TextEncoder().encode(token),
    user_state: new fnApi.ProcessBundleRequest.CacheToken.UserState(),
  });
}

/** The conductor (one StateCache, bundles over one channel) and its threads. */
class World {
  readonly channel = new FakeChannel();
  readonly conductorCache: StateCache;
  private bundles = 0;
  /** The conductor's side of the last bundle. */
  conductor: BundleState | undefined;
  /** Reads the threads sent over their ports (the conductor's cache answers some). */
  portGets = 0;
  /** The conductor fails every write request of a thread (e.g. no state endpoint). */
  refuseOverPort = false;

  constructor(conductorBytes = 1 << 20) {
    this.conductorCache = new StateCache(conductorBytes);
  }

  /** A thread cache whose capacity is `bytes` (default: the conductor's). */
  thread(bytes?: number): ThreadStateCache {
    return new ThreadStateCache((conductor) => bytes ?? conductor);
  }

  /** A bundle on `thread` with `tokens`, reaching the conductor as over a port. */
  bundle(
    thread: ThreadStateCache,
    tokens: fnApi.ProcessBundleRequest.CacheToken[],
  ): ThreadBundleState {
    const id = `b${++this.bundles}`;
    const conductor = new BundleState(
      id,
      () => this.channel as unknown as StateChannel,
      this.conductorCache,
      tokens,
    );
    const decode = (key: Uint8Array) => fnApi.StateKey.deserializeBinary(key);
    const transport: StateTransport = {
      scope: (since, own) => Promise.resolve(conductor.threadScope(since, own)),
      get: (key) => {
        this.portGets++;
        return conductor.get(decode(key));
      },
      getPage: (key, token) => conductor.getPage(decode(key), token),
      write: (op, key, data) => {
        if (this.refuseOverPort) return Promise.reject(new Error("refused by the conductor"));
        return op === "append"
          ? conductor.append(decode(key), data as Uint8Array)
          : conductor.clear(decode(key));
      },
    };
    this.conductor = conductor;
    return new ThreadBundleState(id, transport, thread);
  }

  /** The runner's value of a key. */
  set(key: fnApi.StateKey, ...pages: Uint8Array[]): void {
    this.channel.store.set(Buffer.from(key.serializeBinary()).toString("latin1"), pages);
  }
}

test("a side input read under a cache token is served by the thread across bundles", async () => {
  const world = new World();
  world.set(sideKey(1), bytes(7));
  const thread = world.thread();
  let requests = 0;
  for (let i = 0; i < 3; i++) {
    const bundle = world.bundle(thread, [sideToken("v1")]);
    assert.deepEqual(flat(await bundle.get(sideKey(1))), [7]);
    assert.deepEqual(flat(await bundle.get(sideKey(1))), [7]);
    await bundle.complete();
    requests = world.channel.requests.get;
  }
  assert.equal(requests, 1, "one runner read in three bundles");
  assert.equal(thread.snapshot()?.hits, 5);
});

test("a new token, another side input's token or no token is not served from the cache", async () => {
  const world = new World();
  world.set(sideKey(1), bytes(7));
  world.set(sideKey(1, "other"), bytes(8));
  const thread = world.thread();
  await world.bundle(thread, [sideToken("v1")]).get(sideKey(1));
  assert.equal(world.channel.requests.get, 1);
  // The runner says the side input changed: a new token.
  world.set(sideKey(1), bytes(9));
  assert.deepEqual(flat(await world.bundle(thread, [sideToken("v2")]).get(sideKey(1))), [9]);
  assert.equal(world.channel.requests.get, 2);
  // A token for side input "side" does not cover side input "other".
  const b = world.bundle(thread, [sideToken("v2")]);
  assert.deepEqual(flat(await b.get(sideKey(1, "other"))), [8]);
  assert.deepEqual(flat(await b.get(sideKey(1, "other"))), [8]);
  assert.equal(world.channel.requests.get, 4, "uncovered keys are read every time");
  // Without a token nothing is reused across bundles.
  world.set(sideKey(1), bytes(10));
  assert.deepEqual(flat(await world.bundle(thread, []).get(sideKey(1))), [10]);
  assert.deepEqual(flat(await world.bundle(thread, []).get(sideKey(1))), [10]);
  assert.equal(world.channel.requests.get, 6);
});

test("concurrent reads of one key share one request", async () => {
  const world = new World();
  world.set(sideKey(1), bytes(7));
  const bundle = world.bundle(world.thread(), [sideToken("v1")]);
  const reads = await Promise.all([1, 2, 3].map(() => bundle.get(sideKey(1))));
  assert.deepEqual(reads.map(flat), [[7], [7], [7]]);
  assert.equal(world.channel.requests.get, 1);
  assert.equal(world.portGets, 1, "the thread shares its read (not only the conductor)");
  // Two threads' bundles at once: the conductor shares its read too.
  world.set(sideKey(2), bytes(8));
  const both = await Promise.all(
    [world.thread(), world.thread()].map((t) => world.bundle(t, [sideToken("v1")]).get(sideKey(2))),
  );
  assert.deepEqual(both.map(flat), [[8], [8]]);
  assert.equal(world.channel.requests.get, 2);
});

test("the thread cache is byte-bounded (least recently used first)", async () => {
  const world = new World();
  for (let k = 0; k < 4; k++) world.set(sideKey(k), new Uint8Array(300).fill(k));
  const thread = world.thread(1000);
  const bundle = world.bundle(thread, [sideToken("v1")]);
  for (let k = 0; k < 4; k++) await bundle.get(sideKey(k));
  const stats = thread.snapshot();
  assert.ok(stats && stats.bytes <= 1000, `holds ${stats?.bytes} bytes`);
  assert.ok(stats && stats.evictions >= 1);
  const before = world.channel.requests.get;
  await bundle.get(sideKey(3)); // most recent: cached in the thread
  assert.equal(world.channel.requests.get, before);
  // A value larger than the thread's capacity is not kept there.
  world.set(sideKey(9), new Uint8Array(2000));
  const big = world.bundle(thread, [sideToken("v1")]);
  await big.get(sideKey(9));
  assert.equal(thread.snapshot()?.entries, stats?.entries);
  assert.equal(threadCacheCapacity(100 << 20, 2), 50 << 20);
  assert.equal(threadCacheCapacity(4 << 20, 64), 1 << 20);
  assert.equal(threadCacheCapacity(1000, 64), 1000);
});

test("appends and clears update the thread's cached user state as the conductor's", async () => {
  const world = new World();
  world.set(bagKey(1), bytes(1));
  const thread = world.thread();
  const a = world.bundle(thread, [userToken("u1")]);
  assert.deepEqual(flat(await a.get(bagKey(1))), [1]);
  await a.append(bagKey(1), bytes(2));
  assert.deepEqual(flat(await a.get(bagKey(1))), [1, 2]);
  await a.complete();
  const b = world.bundle(thread, [userToken("u1")]);
  assert.deepEqual(flat(await b.get(bagKey(1))), [1, 2]);
  await b.clear(bagKey(1));
  assert.deepEqual(flat(await b.get(bagKey(1))), []);
  await b.append(bagKey(1), bytes(3));
  assert.deepEqual(flat(await b.get(bagKey(1))), [3]);
  await b.complete();
  assert.equal(world.channel.requests.get, 1, "every later read came from the thread cache");
  assert.deepEqual(world.channel.requests, { get: 1, append: 2, clear: 1 });
  // And the runner holds what the thread cache says.
  const fresh = world.bundle(world.thread(), []);
  assert.deepEqual(flat(await fresh.get(bagKey(1))), [3]);
});

test("a write while a read is in flight keeps the read's answer out of the cache", async () => {
  const world = new World();
  world.set(bagKey(1), bytes(1));
  const thread = world.thread();
  const a = world.bundle(thread, [userToken("u1")]);
  const read = a.get(bagKey(1));
  await a.append(bagKey(1), bytes(2));
  assert.deepEqual(flat(await read), [1]);
  const again = await a.get(bagKey(1));
  assert.deepEqual(flat(again), [1, 2]);
});

test("another thread's writes invalidate this thread's user state; its own do not", async () => {
  const world = new World();
  world.set(bagKey(1), bytes(1));
  world.set(bagKey(2), bytes(5));
  const one = world.thread();
  const two = world.thread();
  const tokens = [userToken("u1")];
  const a = world.bundle(one, tokens);
  await a.get(bagKey(1));
  await a.get(bagKey(2));
  await a.append(bagKey(2), bytes(6)); // its own write
  await a.complete();
  const b = world.bundle(two, tokens);
  await b.append(bagKey(1), bytes(2)); // another thread's write
  await b.complete();
  const gets = world.channel.requests.get;
  const c = world.bundle(one, tokens);
  assert.deepEqual(flat(await c.get(bagKey(1))), [1, 2], "sees the other thread's write");
  assert.deepEqual(flat(await c.get(bagKey(2))), [5, 6]);
  assert.equal(world.channel.requests.get, gets, "both from caches (bag 1 from the conductor's)");
  assert.equal(one.snapshot()?.misses, 1 + 2, "bag 1 was dropped from thread one");
});

test("a thread further behind than the journal drops all its user state, not its side inputs", async () => {
  const journal = new UserStateJournal(4);
  for (let i = 0; i < 10; i++) journal.record(`u/k${i}`, "other");
  assert.equal(journal.since(1, undefined).invalidate, "all");
  assert.deepEqual(journal.since(8, undefined).invalidate, ["u/k8", "u/k9"]);
  assert.deepEqual(journal.since(8, "other").invalidate, []);
  assert.deepEqual(journal.since(10, undefined), { seq: 10, invalidate: [] });

  const world = new World();
  world.set(bagKey(1), bytes(1));
  world.set(sideKey(1), bytes(7));
  const one = world.thread();
  const two = world.thread();
  const tokens = [userToken("u1"), sideToken("v1")];
  const a = world.bundle(one, tokens);
  await a.get(bagKey(1));
  await a.get(sideKey(1));
  await a.complete();
  const b = world.bundle(two, tokens);
  for (let k = 10; k < 10 + DEFAULT_JOURNAL_ENTRIES + 10; k++)
    await b.append(bagKey(k % 250), bytes(k & 0xff));
  await b.complete();
  const c = world.bundle(one, tokens);
  await c.get(sideKey(1));
  assert.equal(one.snapshot()?.entries, 1, "only the side input is left");
  assert.equal(one.snapshot()?.hits, 1);
});

test("a failed bundle's thread forgets user state; write failures fail the bundle", async () => {
  const world = new World();
  world.set(bagKey(1), bytes(1));
  const thread = world.thread();
  const a = world.bundle(thread, [userToken("u1")]);
  await a.get(bagKey(1));
  world.channel.failWrites = true;
  await a.append(bagKey(1), bytes(2)); // pipelined: not waited for here
  await a.complete();
  // The runner refused it: the conductor's flush (before it answers the bundle) fails.
  await assert.rejects((world.conductor as BundleState).flush(), /write refused/);
  a.abandon();
  assert.equal(thread.snapshot()?.entries, 0);

  // A write the conductor refuses fails the thread's complete().
  world.refuseOverPort = true;
  const b = world.bundle(thread, [userToken("u1")]);
  await b.append(bagKey(1), bytes(3));
  await assert.rejects(b.complete(), /refused by the conductor/);
});
