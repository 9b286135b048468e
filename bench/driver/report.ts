/**
 * Result rows of the runner-side cases: a subject (Firefly) against a
 * baseline (the apache-beam worker, or another Firefly setting), with the
 * ratio that says how much better the subject is (> 1 = better).
 */
import type { BenchResult } from "../main.js";
import type { Measured } from "./session.js";

/** One side of a comparison: measured, or a reason it could not run. */
export interface SideResult extends Partial<Measured> {
  label: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Set when this side cannot run the case: why. */
  unsupported?: string;
}

/** What the ratio compares. */
export type RatioOf = "elements/s" | "p50 latency";

export interface Row {
  case: string;
  variant: string;
  subject: SideResult;
  baseline: SideResult;
  ratioOf: RatioOf;
  /** subject/baseline throughput or baseline/subject latency; null if a side did not run. */
  ratio: number | null;
  /** A target from the issue and whether it was met. */
  target?: { text: string; met: boolean };
}

export function row(
  caseName: string,
  variant: string,
  subject: SideResult,
  baseline: SideResult,
  ratioOf: RatioOf = "elements/s",
): Row {
  return {
    case: caseName,
    variant,
    subject,
    baseline,
    ratioOf,
    ratio: ratioOfSides(subject, baseline, ratioOf),
  };
}

function ratioOfSides(subject: SideResult, baseline: SideResult, of: RatioOf): number | null {
  if (of === "p50 latency")
    return subject.p50Ms && baseline.p50Ms ? baseline.p50Ms / subject.p50Ms : null;
  return subject.elementsPerSec && baseline.elementsPerSec
    ? subject.elementsPerSec / baseline.elementsPerSec
    : null;
}

export function unsupported(label: string, why: string): SideResult {
  return { label, unsupported: why };
}

/** The p-th percentile (0..100) of `xs` (nearest rank). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** The case's printable table and JSON data. */
export function result(rows: Row[], extra: Record<string, unknown> = {}): BenchResult {
  return { table: table(rows), data: { ...extra, rows } };
}

function side(s: SideResult): string {
  if (s.unsupported) return `${s.label}: cannot run (${s.unsupported})`;
  const parts = [`${s.label}: ${fmt(s.elementsPerSec)} el/s`];
  if (s.mbPerSec !== undefined) parts.push(`${fmt(s.mbPerSec)} MB/s`);
  if (s.p50Ms !== undefined) parts.push(`p50 ${s.p50Ms.toFixed(3)} ms`);
  if (s.p99Ms !== undefined) parts.push(`p99 ${s.p99Ms.toFixed(3)} ms`);
  if (s.cpuNsPerElement !== undefined) parts.push(`${fmt(s.cpuNsPerElement)} CPU ns/el`);
  if (s.peakRssMb !== undefined) parts.push(`RSS ${s.peakRssMb.toFixed(0)} MB`);
  if (s.runnerCpuNsPerElement !== undefined)
    parts.push(`(runner ${fmt(s.runnerCpuNsPerElement)} CPU ns/el)`);
  return parts.join(", ");
}

export function table(rows: Row[]): string {
  return [
    "| case | variant | subject | baseline | ratio | target |",
    "| --- | --- | --- | --- | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.case} | ${r.variant} | ${side(r.subject)} | ${side(r.baseline)} | ${
          r.ratio === null ? "n/a" : `${r.ratio.toFixed(2)}x (${r.ratioOf})`
        } | ${r.target ? `${r.target.met ? "met" : "MISSED"}: ${r.target.text}` : ""} |`,
    ),
  ].join("\n");
}

function fmt(x: number | undefined): string {
  if (x === undefined) return "-";
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(3);
}
