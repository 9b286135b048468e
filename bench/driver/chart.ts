/**
 * `bench/results/latest.html`: a self-contained page (inline SVG, no
 * scripts) with one chart per case from the newest result file of each case:
 * a pair of bars per row (subject vs baseline, each scaled to the larger of
 * the two) labelled with the values and the ratio.
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Bar {
  label: string;
  subject: string;
  baseline: string;
  /** Bar lengths 0..1 (the better side is not necessarily the longer one). */
  subjectLength: number;
  baselineLength: number;
  ratio: string;
}

interface ResultFileLike {
  case: string;
  date: string;
  profile: { name: string };
  machine: { cores: number; cpuModel: string; node: string };
  data: { rows?: Record<string, unknown>[] };
}

interface SideLike {
  label: string;
  elementsPerSec?: number;
  p50Ms?: number;
  unsupported?: string;
}

const BAR_WIDTH = 420;
const ROW_HEIGHT = 58;

/** Writes latest.html into `dir` from the JSON results there; returns its path. */
export function writeChart(dir: string): string {
  const newest = new Map<string, ResultFileLike>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json") && !f.includes("-cpu-prof"))) {
    const result = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as ResultFileLike;
    const seen = newest.get(result.case);
    if (!seen || seen.date < result.date) newest.set(result.case, result);
  }
  const sections = [...newest.values()].map(section).join("\n");
  const out = path.join(dir, "latest.html");
  fs.writeFileSync(out, page(sections));
  return out;
}

function bars(result: ResultFileLike): Bar[] {
  return (result.data.rows ?? []).map((r) => ("fireflyNs" in r ? coderBar(r) : comparisonBar(r)));
}

/** A coders row: ns per element (shorter is better). */
function coderBar(r: Record<string, unknown>): Bar {
  const f = Number(r.fireflyNs);
  const b = Number(r.beamNs);
  const max = Math.max(f, b);
  return {
    label: `${String(r.workload)} — ${String(r.op)}`,
    subject: `Firefly ${f.toFixed(0)} ns/el`,
    baseline: `apache-beam ${b.toFixed(0)} ns/el`,
    subjectLength: f / max,
    baselineLength: b / max,
    ratio: `${Number(r.ratio).toFixed(1)}x faster`,
  };
}

/** A runner-side row: elements/s (longer is better) or p50 latency (shorter is better). */
function comparisonBar(r: Record<string, unknown>): Bar {
  const subject = r.subject as SideLike;
  const baseline = r.baseline as SideLike;
  const latency = r.ratioOf === "p50 latency";
  const value = (s: SideLike) => (latency ? s.p50Ms : s.elementsPerSec) ?? 0;
  const text = (s: SideLike) =>
    s.unsupported
      ? `${s.label}: cannot run`
      : `${s.label}: ${latency ? `p50 ${value(s).toFixed(3)} ms` : `${Math.round(value(s)).toLocaleString("en-US")} el/s`}`;
  const max = Math.max(value(subject), value(baseline), 1e-9);
  const ratio = r.ratio as number | null;
  return {
    label: `${String(r.variant)}`,
    subject: text(subject),
    baseline: text(baseline),
    subjectLength: value(subject) / max,
    baselineLength: value(baseline) / max,
    ratio: ratio === null ? "n/a" : `${ratio.toFixed(2)}x (${String(r.ratioOf)})`,
  };
}

function section(result: ResultFileLike): string {
  const rows = bars(result);
  const height = rows.length * ROW_HEIGHT + 10;
  const svgRows = rows
    .map((b, i) => {
      const y = i * ROW_HEIGHT + 14;
      return [
        `<text x="0" y="${y}" class="label">${esc(b.label)} — <tspan class="ratio">${esc(b.ratio)}</tspan></text>`,
        `<rect x="0" y="${y + 5}" width="${(b.subjectLength * BAR_WIDTH).toFixed(1)}" height="14" class="subject"/>`,
        `<text x="${BAR_WIDTH + 10}" y="${y + 16}">${esc(b.subject)}</text>`,
        `<rect x="0" y="${y + 22}" width="${(b.baselineLength * BAR_WIDTH).toFixed(1)}" height="14" class="baseline"/>`,
        `<text x="${BAR_WIDTH + 10}" y="${y + 33}">${esc(b.baseline)}</text>`,
      ].join("");
    })
    .join("\n");
  const m = result.machine;
  return `<h2>${esc(result.case)}</h2>
<p class="meta">${esc(result.date)} · ${esc(result.profile.name)} profile · ${esc(m.cpuModel)}, ${m.cores} cores, Node ${esc(m.node)}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${height}">${svgRows}</svg>`;
}

function page(body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Firefly benchmarks</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
.meta { color: #666; margin-top: -0.5em; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
svg .label { font-weight: 600; }
svg .ratio { fill: #0a6; }
.subject { fill: #f5a623; } .baseline { fill: #4a7bd0; }
</style></head><body>
<h1>Firefly benchmarks</h1>
<p>Orange: the subject (Firefly); blue: the baseline (the apache-beam 2.49 worker, or another Firefly setting).
Ratios &gt; 1 mean Firefly is better. Results are from <code>npm run bench</code>; see the JSON files beside this page.</p>
${body}
</body></html>
`;
}

function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
