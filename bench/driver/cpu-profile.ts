/**
 * Reads V8 `.cpuprofile` files (written by a worker started with
 * `--cpu-prof --cpu-prof-dir=DIR`) and sums self time per function.
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  ms: number;
  percent: number;
}

/** Frames that are waiting, not working (idle loop, piscina threads parked on Atomics.wait). */
const WAITING = /^(\(idle\)|atomicsWaitLoop )/;

/** The top `n` functions by self time over every profile in `dir` (waiting excluded). */
export function topSelfTime(dir: string, n = 15): SelfTime[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    const names = new Map(profile.nodes.map((node) => [node.id, frameName(node)]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const name = names.get(id) ?? "?";
      if (WAITING.test(name)) return;
      totals.set(name, (totals.get(name) ?? 0) + us);
      all += us;
    });
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: us / 1000, percent: (100 * us) / Math.max(all, 1) }));
}

function frameName({ callFrame: f }: ProfileNode): string {
  const file = f.url
    ? `${f.url.replace(/^.*\/(dist|node_modules)\//, "$1/")}:${f.lineNumber + 1}`
    : "";
  return `${f.functionName || "(anonymous)"}${file ? ` ${file}` : ""}`;
}
