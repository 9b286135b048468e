/**
 * Bundle finalization in the real worker process, inline and in pool
 * threads: a DoFn (plain, and splittable) that registers a callback makes the
 * bundle answer `requires_finalization`; the callback runs only when the
 * runner sends FinalizeBundle; finalizing twice, or a bundle that registered
 * nothing, is an error naming the instruction; a callback that throws fails
 * the finalize instruction, and the worker goes on.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fnApi } from "../../proto/index.js";
import { encodeGlobal, linearDescriptor, pardoStep, STR } from "../support/descriptors.js";
import { expandedDescriptor } from "../support/sdf.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, runStringBundle } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-finalize-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Registers a callback that appends "<element> finalized" to the file the element names, or throws for "boom". */
const callbackOf = `(s) => () => {
  if (s.endsWith("boom")) throw new Error("commit failed for " + s);
  fs.appendFileSync(s, "finalized\\n");
}`;
const PLAIN = `import * as fs from "node:fs";
const finalize = ${callbackOf};
export default {
  process(s, ctx) {
    if (!s.endsWith("none")) ctx.bundleFinalizer.register(finalize(s));
    return [s];
  },
};`;
const SPLITTABLE = `import * as fs from "node:fs";
const finalize = ${callbackOf};
export default {
  initialRestriction(s) { return { start: 0n, stop: 1n }; },
  process(s, ctx) {
    ctx.tracker.tryClaim(0n);
    ctx.bundleFinalizer.register(finalize(s));
    return [s];
  },
};`;

for (const threads of [0, 2]) {
  describe(`bundle finalization, threads=${threads}`, () => {
    let session: WorkerSession;
    let next = 0;
    before(async () => {
      session = await startWorkerSession({ threads });
      const url = session.runner.url;
      for (const d of [
        linearDescriptor({ id: "plain", url, input: STR, steps: [pardoStep("fin", PLAIN)] }),
        expandedDescriptor("sdf", url, SPLITTABLE),
      ])
        session.runner.descriptors.set(d.id, d);
    });
    after(() => session.stop());

    async function run(descriptorId: string, element: string) {
      const id = `fin-${threads}-${next++}`;
      const { response } = await runStringBundle(
        session,
        descriptorId,
        id,
        encodeGlobal(STR, [element]),
      );
      assertOk(response);
      return { id, response };
    }

    const finalize = (id: string) =>
      session.runner.instruct(
        new fnApi.InstructionRequest({
          finalize_bundle: new fnApi.FinalizeBundleRequest({ instruction_id: id }),
        }),
      );

    for (const [descriptorId, what] of [
      ["plain", "a DoFn"],
      ["sdf", "a splittable DoFn"],
    ] as const)
      test(`${what}: the callback runs on FinalizeBundle, not before, and once`, async () => {
        const file = path.join(root, `${descriptorId}-${threads}`);
        const { id, response } = await run(descriptorId, file);
        assert.equal(response.process_bundle.requires_finalization, true);
        assert.equal(fs.existsSync(file), false, "not finalized before the runner says so");
        assertOk(await finalize(id));
        assert.equal(fs.readFileSync(file, "utf8"), "finalized\n");
        const again = await finalize(id);
        assert.match(again.error, /no bundle awaiting finalization with instruction id "fin-/);
        assert.equal(fs.readFileSync(file, "utf8"), "finalized\n", "ran once");
      });

    test("a bundle that registered nothing does not ask; a throwing callback fails FinalizeBundle only", async () => {
      const none = await run("plain", path.join(root, "none"));
      assert.equal(none.response.process_bundle.requires_finalization, false);
      const boom = await run("plain", path.join(root, "boom"));
      assert.equal(boom.response.process_bundle.requires_finalization, true);
      assert.match((await finalize(boom.id)).error, /commit failed for .*boom/);
      const file = path.join(root, `after-${threads}`);
      const ok = await run("plain", file);
      assertOk(await finalize(ok.id));
      assert.equal(fs.readFileSync(file, "utf8"), "finalized\n");
    });
  });
}
