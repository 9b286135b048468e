/**
 * (k) Reading one large text file with `readText` on the local runner
 * (issue 21): a generated file of short lines, counted (lines and bytes per
 * line length class, so every line must be read once), read
 *   - in byte ranges (the splittable ReadLines, 32 MiB pieces) with 2 threads and with 1,
 *   - as one whole-file piece (splitBytes past the file size) with 2 threads,
 *     without dynamic splits (what readText did before it was splittable) and
 *     with them (the local runner splits the running piece for the idle thread).
 * Firefly only (the apache-beam worker cannot run Firefly pipelines).
 * Target: ranges with 2 threads ≥ 1.5x ranges with 1 thread and ≥ 1.5x the whole file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Pipeline } from "../../src/pipeline/index.js";
import { runPipeline, type PipelineResult } from "../../src/runner/index.js";
import { result, row, type SideResult } from "../driver/report.js";
import { sized } from "../driver/pipelines.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

/** Writes `bytes` of lines "line <n> <padding>" (20–60 bytes); returns the line count. */
function writeFile(file: string, bytes: number): number {
  const fd = fs.openSync(file, "w");
  let written = 0;
  let lines = 0;
  const chunk: string[] = [];
  let chunkBytes = 0;
  while (written + chunkBytes < bytes) {
    const line = `line ${lines} ${"x".repeat(lines % 41)}\n`;
    chunk.push(line);
    chunkBytes += line.length;
    lines++;
    if (chunkBytes > 1 << 20) {
      fs.writeSync(fd, chunk.join(""));
      written += chunkBytes;
      chunk.length = 0;
      chunkBytes = 0;
    }
  }
  fs.writeSync(fd, chunk.join(""));
  fs.closeSync(fd);
  return lines;
}

async function readOnce(
  label: string,
  file: string,
  lines: number,
  bytes: number,
  threads: number,
  splitBytes: number | undefined,
  dynamicSplits = true,
): Promise<SideResult> {
  const p = new Pipeline({});
  p.readText(file, splitBytes === undefined ? {} : { splitBytes })
    .map((line: string) => ({ key: String(line.length % 7), value: 1 }), {
      coder: { urn: "beam:coder:kv:v1", components: ["string", "varint"] },
    })
    .combinePerKey("sum");
  const started = process.hrtime.bigint();
  const run = (await runPipeline(p.toProto(), { threads, dynamicSplits })) as PipelineResult;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.state !== "DONE") throw new Error(`${label}: ${JSON.stringify(run.error)}`);
  const read = Object.values(run.elementCounts).reduce((max, n) => Math.max(max, n), 0);
  if (read < lines)
    throw new Error(`${label}: counted at most ${read} elements, the file has ${lines} lines`);
  return {
    label,
    elements: lines,
    bytes,
    seconds,
    elementsPerSec: lines / seconds,
    mbPerSec: bytes / 1e6 / seconds,
  };
}

export async function run(profile: Profile): Promise<BenchResult> {
  const bytes = sized(profile, 100, 400) * 1e6;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-bench-read-"));
  try {
    const file = path.join(dir, "big.txt");
    const lines = writeFile(file, bytes);
    const variant = `${(bytes / 1e6).toFixed(0)} MB, ${lines.toLocaleString("en-US")} lines, readText → count by length`;
    const two = await readOnce("ranges, threads=2", file, lines, bytes, 2, undefined);
    const one = await readOnce("ranges, threads=1", file, lines, bytes, 1, undefined);
    const whole = await readOnce(
      "whole file, no dynamic splits, threads=2",
      file,
      lines,
      bytes,
      2,
      2 * bytes,
      false,
    );
    const split = await readOnce(
      "whole file, dynamic splits, threads=2",
      file,
      lines,
      bytes,
      2,
      2 * bytes,
    );
    const rows = [row("read-text", variant, two, one), row("read-text", variant, two, whole)];
    for (const r of rows) r.target = { text: "≥ 1.5x", met: (r.ratio ?? 0) >= 1.5 };
    return result([...rows, row("read-text", variant, split, whole)]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
