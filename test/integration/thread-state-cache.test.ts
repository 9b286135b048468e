/**
 * State from pool threads through the real worker (threads=2, issue 19):
 * side-input reads under a cache token reach the runner once over many
 * bundles (and again for a new token, or every bundle without one); user
 * state cached across bundles under a user-state token stays coherent when
 * bundles of the same keys alternate between threads.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, kv, STR, valuesOf, VARINT } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { bagStateDescriptor, setSideInput, sideInputDescriptor } from "../faults/support.js";
import { assertOk } from "./support.js";

let session: WorkerSession;
let runner: FakeRunner;
let next = 0;

before(async () => {
  session = await startWorkerSession({ threads: 2 });
  runner = session.runner;
  runner.descriptors.set("join", sideInputDescriptor("join", runner.url));
  runner.descriptors.set("bag", bagStateDescriptor("bag", runner.url));
});

after(() => session.stop());

const sideToken = (token: string) =>
  new fnApi.ProcessBundleRequest.CacheToken({
    token: new TextEncoder().encode(token),
    side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
      transform_id: "join",
      side_input_id: "nums",
    }),
  });

const userToken = (token: string) =>
  new fnApi.ProcessBundleRequest.CacheToken({
    token: new TextEncoder().encode(token),
    user_state: new fnApi.ProcessBundleRequest.CacheToken.UserState(),
  });

async function join(
  words: string[],
  tokens: fnApi.ProcessBundleRequest.CacheToken[],
): Promise<string[]> {
  const id = `join-${next++}`;
  const response = runner.processBundle("join", id, tokens);
  await runner.sendData(id, "source", encodeGlobal(STR, words));
  assertOk(await response);
  return valuesOf<string>(STR, await runner.output(id, "sink"));
}

/** Four bundles at a time (two per thread), `rounds` times. */
async function joinRounds(
  rounds: number,
  tokens: () => fnApi.ProcessBundleRequest.CacheToken[],
  expected: string,
): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const outputs = await Promise.all([0, 1, 2, 3].map(() => join(["x", "y"], tokens())));
    for (const out of outputs) assert.deepEqual(out, [`x=${expected}`, `y=${expected}`]);
  }
}

test("side-input reads with a cache token reach the runner once across bundles and threads", async () => {
  setSideInput(runner, [1, 2, 3]);
  const before = runner.stateRequests.get;
  await joinRounds(5, () => [sideToken("nums-v1")], "6");
  assert.equal(runner.stateRequests.get - before, 1, "20 bundles on 2 threads, one runner read");

  // The runner changes the side input and says so with a new token.
  setSideInput(runner, [10, 20]);
  const changed = runner.stateRequests.get;
  await joinRounds(3, () => [sideToken("nums-v2")], "30");
  assert.equal(runner.stateRequests.get - changed, 1);
});

test("side-input reads without a cache token reach the runner in every bundle", async () => {
  setSideInput(runner, [4, 5]);
  const before = runner.stateRequests.get;
  await joinRounds(3, () => [], "9");
  assert.equal(runner.stateRequests.get - before, 12, "one read per bundle");
});

async function bag(
  elements: { key: string; value: number }[],
  tokens: fnApi.ProcessBundleRequest.CacheToken[],
): Promise<{ key: string; value: number }[]> {
  const id = `bag-${next++}`;
  const spec = kv(STR, VARINT);
  const response = runner.processBundle("bag", id, tokens);
  await runner.sendData(id, "source", encodeGlobal(spec, elements));
  assertOk(await response);
  return valuesOf<{ key: string; value: number }>(spec, await runner.output(id, "sink"));
}

test("user state cached under a token stays coherent when its keys move between threads", async () => {
  const token = [userToken("user-v1")];
  const keys = ["a", "b", "c", "d"];
  const before = runner.stateRequests.get;
  for (let round = 0; round < 8; round++) {
    // Two bundles at once (one per thread), each with two keys; the pairs rotate every round.
    const mine = [
      [keys[round % 4]!, keys[(round + 1) % 4]!],
      [keys[(round + 2) % 4]!, keys[(round + 3) % 4]!],
    ];
    const outputs = await Promise.all(
      mine.map((ks) =>
        bag(
          [
            ...ks.map((key) => ({ key, value: round })),
            ...ks.map((key) => ({ key, value: round })),
          ],
          token,
        ),
      ),
    );
    for (const out of outputs) {
      // Each key was seen twice per earlier round: 2 × round before this bundle's first element.
      assert.deepEqual(
        out.map((e) => e.value),
        [2 * round, 2 * round, 2 * round + 1, 2 * round + 1],
        `round ${round}: ${JSON.stringify(out)}`,
      );
    }
  }
  // Without the token 32 reads (16 bundles × 2 keys) would reach the runner.
  const reads = runner.stateRequests.get - before;
  assert.ok(reads <= 8, `${reads} runner reads`);
});
