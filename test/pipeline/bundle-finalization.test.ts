/**
 * Bundle finalization under the local runner: a DoFn's callbacks run once
 * its bundle's outputs are committed (the runner sends FinalizeBundle, as
 * Beam's runners do), inline and in pool threads; a callback that throws
 * fails the pipeline naming the finalization.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { Pipeline } from "../../src/pipeline/index.js";
import type { PipelineResult } from "../../src/runner/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-finalize-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Registers a callback that appends the element to config.file (or throws for 13). */
const COMMITTING = {
  async process(
    x: number,
    ctx: {
      config: { file: string };
      bundleFinalizer: { register(callback: () => unknown): void };
    },
  ) {
    const fs = await import("node:fs");
    const file = ctx.config.file;
    ctx.bundleFinalizer.register(() => {
      if (x === 13) throw new Error("cannot commit 13");
      fs.appendFileSync(file, `${x}\n`);
    });
    return [x];
  },
};

for (const threads of [0, 2]) {
  test(`finalization callbacks run after their bundle, once each (threads=${threads})`, async () => {
    const file = path.join(root, `committed-${threads}`);
    const p = new Pipeline({ runner: "local", threads });
    p.create([1, 2, 3, 4, 5]).parDo(COMMITTING, { coder: "varint", config: { file } });
    const result = (await p.run()) as PipelineResult;
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    const committed = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
    assert.deepEqual(
      committed.sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
  });
}

test("a finalization callback that throws fails the pipeline, naming the finalization", async () => {
  const p = new Pipeline({ runner: "local", threads: 0 });
  p.create([12, 13]).parDo(COMMITTING, {
    coder: "varint",
    config: { file: path.join(root, "failing") },
  });
  const result = (await p.run()) as PipelineResult;
  assert.equal(result.state, "FAILED");
  assert.match(JSON.stringify(result.error), /finalizing the bundle failed: .*cannot commit 13/);
});
