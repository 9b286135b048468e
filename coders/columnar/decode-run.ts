/**
 * The compiled inner loop of the columnar decoder: one generated function
 * per decoder that decodes element after element of a byte range into the
 * columns, with the element's shape written out (timestamp, the window
 * list of its window coder, the pane, then each column's read in order) and
 * each column decoder called from a call site only that decoder uses, so V8
 * inlines the reads (an interpreted loop over `columns[c].read` is a
 * megamorphic call per cell). As in coders/codegen.ts, the generated code
 * holds no text from the input or the pipeline: only numbers, and the
 * columns and helpers passed in as arguments.
 *
 * A run stops when the batch is full (rows or bytes), when the next element
 * has another window set or pane than the batch (its encoded bytes differ),
 * or when the bytes end inside an element; `RunState.pos` is then the start
 * of the first element not decoded.
 */
import { CoderError } from "../errors.js";
import { ROW_URN } from "../row.js";
import type { ColumnDecoder } from "./column-decoders.js";
import { INCOMPLETE, lastRead, readUVarInt32, skipVarInt } from "./varint-read.js";

/** Returned by a run when the current batch must be taken before the element at `pos`. */
export const BATCH_FULL = -2;

/** The decoder's state that a run reads and advances. */
export class RunState {
  rows = 0;
  bytes = 0;
  /** Where the run stopped. */
  pos = 0;
  /** The encoded window set and pane of the batch's rows (set by its first row). */
  header: Uint8Array | undefined = undefined;
  /** Timestamps as int64 halves (low, high), row by row. */
  ts: Int32Array;

  constructor(
    readonly maxRows: number,
    readonly maxBytes: number,
  ) {
    this.ts = new Int32Array(maxRows * 2);
  }
}

/** Decodes elements from `b[p, end)`; returns BATCH_FULL or INCOMPLETE (see the module doc). */
export type DecodeRun = (b: Uint8Array, p: number, end: number, s: RunState) => number;

/** How an element's value lays out in columns. */
export type ValueLayout =
  /** Each column read in turn (a KV's key and value, or a single value). */
  | { kind: "columns" }
  /** A schema row: field count, null bitmap, then field `order[k]` at encoding position k. */
  | { kind: "row"; order: readonly number[] };

export interface RunPlan {
  /** Fixed bytes of one window before its varint (0: global windows, which have no bytes). */
  windowBytes: number;
  value: ValueLayout;
  columns: readonly ColumnDecoder[];
  /** For rows: one validity byte per row and column (1: the cell was read). */
  validity?: readonly Uint8Array[];
}

function tooManyFields(offset: number, count: number, fields: number): CoderError {
  return new CoderError({
    urn: ROW_URN,
    offset,
    expected: `at most ${fields} fields (the schema's)`,
    actual: `${count} fields`,
  });
}

const HELPERS = {
  skipVarInt,
  readUVarInt32,
  lastRead,
  tooManyFields,
  slice: (b: Uint8Array, from: number, to: number): Uint8Array =>
    Uint8Array.prototype.slice.call(b, from, to),
};

function windowsCode(windowBytes: number): string[] {
  if (windowBytes === 0) return [];
  return [
    `for (let w = 0; w < wc && q >= 0; w++) { q += ${windowBytes}; q = q > end ? -1 : skipVarInt(b, q, end); }`,
    `if (q < 0) break;`,
  ];
}

function valueCode(plan: RunPlan): string[] {
  const { columns, value } = plan;
  if (value.kind === "columns")
    return columns.map((_, c) => `q = c${c}.read(b, q, end, rows); if (q < 0) break;`);
  const n = columns.length;
  const lines = [
    `q = readUVarInt32(b, q, end, ROW); if (q < 0) break;`,
    `const fc = lastRead.length;`,
    `if (fc > ${n}) throw tooManyFields(q, fc, ${n});`,
    `q = readUVarInt32(b, q, end, ROW); if (q < 0) break;`,
    `const nb = lastRead.length, bm = q; q += nb; if (q > end) break;`,
  ];
  value.order.forEach((i, k) => {
    const skip = columns[i]!.skip ? ` c${i}.skip(rows);` : "";
    lines.push(
      `if (${k} < fc && !(${i >> 3} < nb && ((b[bm + ${i >> 3}] >> ${i & 7}) & 1) === 1)) {`,
      `  q = c${i}.read(b, q, end, rows); if (q < 0) break; v${i}[rows] = 1;`,
      `} else { v${i}[rows] = 0;${skip} }`,
    );
  });
  return lines;
}

/** Compiles the run of a plan. */
export function compileRun(plan: RunPlan): DecodeRun {
  const columnNames = plan.columns.map((_, c) => `c${c}`);
  const validityNames = (plan.validity ?? []).map((_, c) => `v${c}`);
  const body = [
    `"use strict";`,
    `const { skipVarInt, readUVarInt32, lastRead, tooManyFields, slice } = H;`,
    `const ROW = ${JSON.stringify(ROW_URN)};`,
    `return function decodeRun(b, p, end, s) {`,
    `let rows = s.rows, bytes = s.bytes, header = s.header, status = ${INCOMPLETE};`,
    `const maxRows = s.maxRows, maxBytes = s.maxBytes, ts = s.ts;`,
    `for (;;) {`,
    `if (rows === maxRows || bytes >= maxBytes) { status = ${BATCH_FULL}; break; }`,
    // After the first row, an element whose bytes after the timestamp start
    // with the batch's window set and pane is read from there on (the same
    // bytes parse the same); any other is parsed, and ends the batch.
    `let q = -1, h = p + 8, hn = 0;`,
    `if (rows > 0) {`,
    `  hn = header.length;`,
    `  if (h + hn <= end) { let k = 0; while (k < hn && b[h + k] === header[k]) k++; if (k === hn) q = h + hn; }`,
    `}`,
    `if (q < 0) {`,
    `q = p + 12;`,
    `if (q > end) break;`,
    `const wc = ((b[p + 8] << 24) | (b[p + 9] << 16) | (b[p + 10] << 8) | b[p + 11]) >>> 0;`,
    ...windowsCode(plan.windowBytes),
    `if (q >= end) break;`,
    `{ const pk = b[q] >> 4; q++; for (let k = 0; k < pk && q >= 0; k++) q = skipVarInt(b, q, end); }`,
    `if (q < 0) break;`,
    `if (rows > 0) { status = ${BATCH_FULL}; break; }`,
    `hn = q - h;`,
    `}`,
    ...valueCode(plan),
    `if (rows === 0) s.header = header = slice(b, h, h + hn);`,
    `ts[rows * 2 + 1] = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) ^ 0x80000000;`,
    `ts[rows * 2] = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];`,
    `rows++; bytes += q - p; p = q;`,
    // Stored as each row ends (not in a finally: a try around the loop costs
    // more than the stores), so that when a read throws, the rows before the
    // bad element stay and `pos` is its start.
    `s.rows = rows; s.bytes = bytes; s.pos = p;`,
    `}`,
    `s.pos = p;`,
    `return status;`,
    `};`,
  ].join("\n");
  const factory = new Function(...columnNames, ...validityNames, "H", body) as (
    ...args: unknown[]
  ) => DecodeRun;
  const run = factory(...plan.columns, ...(plan.validity ?? []), HELPERS);
  // Both ways out, before the loop is first optimized: a loop optimized
  // (on stack) before its exit ever ran has no feedback for the state's
  // fields and deoptimizes on leaving, batch after batch. V8 allocates a
  // function's feedback only after some calls, hence the repeats.
  const probe = new RunState(1, 1);
  const none = new Uint8Array(0);
  for (let i = 0; i < 64; i++) {
    probe.rows = i & 1;
    run(none, 0, 0, probe);
  }
  return run;
}
