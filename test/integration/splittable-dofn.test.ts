/**
 * Splittable DoFns in the real worker process, inline and in pool threads:
 * the runner-side expansion (pair with restriction → split and size →
 * truncate → process sized elements) over real gRPC, every position
 * processed exactly once, a self-checkpoint handed back as a residual root
 * (with its delay) that a second bundle resumes, and errors that name the
 * SDF method and the restriction.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { GLOBAL_WINDOW, NO_FIRING, type WindowedValue } from "../../coders/index.js";
import { fnApi } from "../../proto/index.js";
import {
  coderOf,
  dofnPayload,
  encodeGlobal,
  linearDescriptor,
  STR,
  valuesOf,
  windowed,
} from "../support/descriptors.js";
import {
  expandedDescriptor,
  PAIR_URN,
  PAIRED,
  RESTRICTION_CODER_ID,
  resumeDescriptor,
  SIZED,
  sizedElement,
  splitRequest,
} from "../support/sdf.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, runStringBundle } from "./support.js";

/**
 * Positions are the characters of a string. splitRestriction halves it;
 * elements starting with "cp" checkpoint after two claims; "lazy" stops
 * claiming early without a checkpoint (an error); "bad-size" sizes -1.
 */
const CHARS = `export default {
  initialRestriction(s) { return { start: 0n, stop: BigInt(s.length) }; },
  splitRestriction(s, r) {
    if (r.stop - r.start < 2n) return [r];
    const mid = r.start + (r.stop - r.start) / 2n;
    return [{ start: r.start, stop: mid }, { start: mid, stop: r.stop }];
  },
  restrictionSize(s, r) { return s === "bad-size" ? -1 : Number(r.stop - r.start); },
  async process(s, ctx) {
    const out = [];
    let claimed = 0;
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      out.push(s + "@" + i + ":" + s[Number(i)]);
      claimed++;
      if (s.startsWith("cp") && claimed === 2) { ctx.resumeAfter(2500); break; }
      if (s === "lazy" && claimed === 1) break;
      if (s.startsWith("slow")) await new Promise((r) => setTimeout(r, 40));
    }
    return out;
  },
};`;

/** CHARS with sizes by default: the only DoFns whose running element a split can cut from another thread. */
const CHARS_DEFAULT_SIZES = CHARS.replace(/^ {2}restrictionSize.*$/m, "");

function descriptors(url: string): fnApi.ProcessBundleDescriptor[] {
  return [
    expandedDescriptor("sdf", url, CHARS),
    resumeDescriptor("resume", url, CHARS),
    resumeDescriptor("resume-default-sizes", url, CHARS_DEFAULT_SIZES),
  ];
}

for (const threads of [0, 2]) {
  describe(`splittable DoFn, threads=${threads}`, () => {
    let session: WorkerSession;
    let next = 0;
    before(async () => {
      session = await startWorkerSession({ threads });
      for (const d of descriptors(session.runner.url)) session.runner.descriptors.set(d.id, d);
    });
    after(() => session.stop());

    const run = (descriptorId: string, input: Uint8Array) =>
      runStringBundle(session, descriptorId, `sdf-${threads}-${next++}`, input);

    test("every position of every restriction is processed exactly once", async () => {
      const { response, output } = await run(
        "sdf",
        encodeGlobal(STR, ["hello", "splittable!", "x"]),
      );
      assertOk(response);
      const expected = ["hello", "splittable!", "x"].flatMap((s) =>
        [...s].map((c, i) => `${s}@${i}:${c}`),
      );
      assert.deepEqual([...output].sort(), [...expected].sort());
      assert.equal(response.process_bundle.residual_roots.length, 0);
    });

    test("a self-checkpoint hands the rest back as a delayed residual root; resuming it finishes the work", async () => {
      const { response, output } = await run("sdf", encodeGlobal(STR, ["cp-abcdefgh"]));
      assertOk(response);
      // splitRestriction made [0, 5) and [5, 11); each checkpoints after 2 claims.
      assert.deepEqual([...output].sort(), [
        "cp-abcdefgh@0:c",
        "cp-abcdefgh@1:p",
        "cp-abcdefgh@5:c",
        "cp-abcdefgh@6:d",
      ]);
      const residuals = response.process_bundle.residual_roots;
      assert.equal(residuals.length, 2);
      const sized = coderOf<WindowedValue<unknown>>(windowed(SIZED));
      const restrictions: string[] = [];
      for (const residual of residuals) {
        assert.equal(residual.application.transform_id, "process");
        assert.equal(residual.application.input_id, "in");
        assert.equal(residual.requested_time_delay.seconds, 2);
        assert.equal(residual.requested_time_delay.nanos, 500_000_000);
        const element = sized.decode(residual.application.element, "nested");
        assert.deepEqual(element.windows, [GLOBAL_WINDOW]);
        assert.deepEqual(element.pane, NO_FIRING);
        const value = element.value as {
          key: { key: string; value: { key: { start: bigint; stop: bigint }; value: null } };
          value: number;
        };
        assert.equal(value.key.key, "cp-abcdefgh");
        const r = value.key.value.key;
        assert.equal(value.value, Number(r.stop - r.start), "the residual is sized");
        restrictions.push(`[${r.start}, ${r.stop})`);
      }
      assert.deepEqual(restrictions.sort(), ["[2, 5)", "[7, 11)"]);
      // The runner resumes the residuals: their elements are the resume stage's input.
      const resumed = await run(
        "resume",
        Buffer.concat(residuals.map((r) => r.application.element)),
      );
      assertOk(resumed.response);
      // each resumed restriction claims 2 and checkpoints again
      assert.deepEqual([...resumed.output].sort(), [
        "cp-abcdefgh@2:-",
        "cp-abcdefgh@3:a",
        "cp-abcdefgh@7:e",
        "cp-abcdefgh@8:f",
      ]);
      assert.equal(resumed.response.process_bundle.residual_roots.length, 2);
    });

    /** Polls progress while a bundle of one slow element runs; returns what it reported. */
    async function progressWhileRunning(descriptorId: string, input: Uint8Array) {
      const id = `sdf-${threads}-progress-${descriptorId}`;
      const response = session.runner.processBundle(descriptorId, id);
      await session.runner.sendData(id, "source", input);
      const seen: { completed: number; remaining: number }[] = [];
      let done = false;
      void response.finally(() => (done = true));
      while (!done && seen.length < 3) {
        const progress = await session.runner.instruct(
          new fnApi.InstructionRequest({
            process_bundle_progress: new fnApi.ProcessBundleProgressRequest({ instruction_id: id }),
          }),
        );
        const infos = progress.process_bundle_progress?.monitoring_infos ?? [];
        const value = (urn: string) => {
          const info = infos.find((i) => i.urn === urn && i.labels.get("PTRANSFORM") === "process");
          if (!info) return undefined;
          assert.equal(info.type, "beam:metrics:progress:v1");
          const view = new DataView(
            info.payload.buffer,
            info.payload.byteOffset,
            info.payload.length,
          );
          assert.equal(view.getInt32(0), 1, "an iterable of one double");
          return view.getFloat64(4);
        };
        const completed = value("beam:metric:ptransform_progress:completed:v1");
        const remaining = value("beam:metric:ptransform_progress:remaining:v1");
        if (completed !== undefined && remaining !== undefined && completed > 0)
          seen.push({ completed, remaining });
        await new Promise((r) => setTimeout(r, 30));
      }
      assertOk(await response);
      assert.ok(seen.length > 0, "progress reported work while the element ran");
      return seen;
    }

    test("progress while an element runs: work completed and remaining of its restriction", async () => {
      // "slow-0123456789" (15 characters) is split into [0, 7) and [7, 15); 40 ms per claim.
      for (const p of await progressWhileRunning("sdf", encodeGlobal(STR, ["slow-0123456789"])))
        assert.ok(
          p.completed + p.remaining === 7 || p.completed + p.remaining === 8,
          `completed + remaining is the piece's size: ${JSON.stringify(p)}`,
        );
      // Fed by the data source: the built-in range in shared memory is the progress.
      const element = sizedElement("slow-abc", { start: 0n, stop: 8n });
      for (const p of await progressWhileRunning("resume-default-sizes", element))
        assert.equal(p.completed + p.remaining, 8, `the restriction's size: ${JSON.stringify(p)}`);
    });

    /** Splits a one-element bundle while it runs; checks the primary and residual hold exactly the element's positions. */
    async function splitWhileRunning(descriptorId: string) {
      const sized = coderOf<WindowedValue<unknown>>(windowed(SIZED));
      const word = "slow-abcdefghijklmno"; // 20 positions, 40 ms each
      const input = sizedElement(word, { start: 0n, stop: 20n });
      const id = `sdf-${threads}-split-${descriptorId}`;
      const response = session.runner.processBundle(descriptorId, id);
      await session.runner.sendData(id, "source", input);
      await new Promise((r) => setTimeout(r, 250)); // a few positions claimed
      const split = await session.runner.instruct(splitRequest(id, 0.5, 1));
      assertOk(split);
      const body = split.process_bundle_split;
      assert.deepEqual(
        body.channel_splits.map((c) => [
          c.transform_id,
          c.last_primary_element,
          c.first_residual_element,
        ]),
        [["source", -1, 1]],
      );
      assert.equal(body.primary_roots.length, 1);
      assert.equal(body.residual_roots.length, 1);
      const rangeOf = (bytes: Uint8Array) => {
        const v = sized.decode(bytes, "nested").value as {
          key: { key: string; value: { key: { start: bigint; stop: bigint } } };
          value: number;
        };
        assert.equal(v.key.key, word);
        const r = v.key.value.key;
        assert.equal(v.value, Number(r.stop - r.start), "sized by its range");
        return r;
      };
      assert.equal(body.primary_roots[0]!.transform_id, "process");
      assert.equal(body.primary_roots[0]!.input_id, "in");
      const primary = rangeOf(body.primary_roots[0]!.element);
      const residual = rangeOf(body.residual_roots[0]!.application.element);
      assert.equal(primary.start, 0n);
      assert.equal(primary.stop, residual.start);
      assert.equal(residual.stop, 20n);
      assert.ok(residual.start > 1n && residual.start < 20n, `split at ${residual.start}`);
      const r = await response;
      assertOk(r);
      const positions = (lines: string[]) => lines.map((l) => Number(/@(\d+):/.exec(l)![1]));
      const done = positions(valuesOf(STR, await session.runner.output(id, "sink")) as string[]);
      assert.deepEqual(
        done.sort((a, b) => a - b),
        Array.from({ length: Number(primary.stop) }, (_, i) => i),
        "the bundle processed exactly the primary",
      );
      const resumed = await run(descriptorId, body.residual_roots[0]!.application.element);
      assertOk(resumed.response);
      assert.deepEqual(
        positions(resumed.output).sort((a, b) => a - b),
        Array.from({ length: 20 - Number(residual.start) }, (_, i) => Number(residual.start) + i),
        "the residual holds exactly the rest",
      );
    }

    test("a runner's split inside the running element cuts its restriction: primary and residual roots, the rest of the input residual", async () => {
      await splitWhileRunning("resume-default-sizes");
    });

    // In a pool thread, the DoFn's own sizes keep splits between elements (README "Splittable DoFns").
    if (threads === 0)
      test("with the DoFn's own sizes the split is made with its tracker on the conductor's thread, between awaits", async () => {
        await splitWhileRunning("resume");
      });

    test("process that leaves work unclaimed fails the bundle naming the restriction; the worker goes on", async () => {
      const { response } = await run("sdf", encodeGlobal(STR, ["lazy"]));
      assert.match(response.error, /process \(restriction \[0, 2\)\)/);
      assert.match(response.error, /offsets \[1, 2\) were neither claimed nor split away/);
      const bad = await run("sdf", encodeGlobal(STR, ["bad-size"]));
      assert.match(
        bad.response.error,
        /restrictionSize returned -1 for restriction \[0, 4\): a size must be a number ≥ 0/,
      );
      const { response: ok } = await run("sdf", encodeGlobal(STR, ["fine"]));
      assertOk(ok);
    });
  });
}

test("a ParDo that is not splittable fails clearly in an SDF step", async () => {
  const session = await startWorkerSession({ threads: 0 });
  try {
    session.runner.descriptors.set(
      "plain",
      linearDescriptor({
        id: "plain",
        url: session.runner.url,
        input: STR,
        steps: [
          {
            id: "pair",
            urn: PAIR_URN,
            output: PAIRED,
            payload: dofnPayload(
              { source: "export default (s) => [s]" },
              { restriction_coder_id: RESTRICTION_CODER_ID },
            ),
          },
        ],
      }),
    );
    const response = session.runner.processBundle("plain", "plain-1");
    await session.runner.sendData("plain-1", "source", encodeGlobal(STR, ["a"]));
    assert.match((await response).error, /is not splittable: it has no initialRestriction method/);
  } finally {
    await session.stop();
  }
});
