/**
 * The compiled loop of the columnar encoder: one generated function per
 * shape of batch (cached by the encoder) that writes rows `[from, to)` of a
 * batch — each row's
 * timestamp, the batch's constant bytes (window set, pane, and for rows the
 * field count and, when no cell of the batch is null, the empty null
 * bitmap), a per-row null bitmap when some column has nulls, then each
 * non-null cell through its column's cell encoder, called from a call site
 * of its own. As in decode-run.ts, the code holds only numbers; columns,
 * bitmaps and bytes are passed in.
 */
import type { ByteWriter } from "../byte-writer.js";
import type { CellEncoder } from "./column-encoders.js";

/** What one batch's rows are written from (the refs of a compiled loop). */
export interface BatchRefs {
  /** Bytes every row has after its timestamp. */
  constant: Uint8Array;
  /** Timestamps as int64 halves (low, high int32 pairs). */
  halves: Int32Array;
  /** The cell encoders, in the order their cells are written. */
  cells: readonly CellEncoder[];
  /** Each cell's validity (rows with null cells only; undefined: never null). */
  validity?: readonly (Validity | undefined)[];
}

/**
 * Writes rows from `from` on, until row `to` or until the writer holds
 * `until` bytes; returns the row after the last one written.
 */
export type EncodeRows = (
  from: number,
  to: number,
  w: ByteWriter,
  until: number,
  refs: BatchRefs,
) => number;

/** A column's validity: Arrow's bitmap (bit set: valid) and the column's offset into it. */
export interface Validity {
  bitmap: Uint8Array;
  offset: number;
}

/** The shape of the rows a loop writes (batches of one shape share a compiled loop). */
export interface EncodeShape {
  cells: number;
  /**
   * For rows with null cells: which cells may be null, each cell's field
   * index, and the bytes of the per-row null bitmap.
   */
  nulls?: { nullable: readonly boolean[]; fields: readonly number[]; bitmapBytes: number };
}

/** A key naming the shape (for a cache of compiled loops). */
export function shapeKey(shape: EncodeShape): string {
  const n = shape.nulls;
  return n
    ? `${shape.cells}:${n.nullable.map(Number).join("")}:${n.fields.join(",")}:${n.bitmapBytes}`
    : `${shape.cells}`;
}

function nullBitmapCode(shape: EncodeShape): string[] {
  const nulls = shape.nulls;
  if (!nulls) return [];
  const lines: string[] = [];
  const bits: string[][] = Array.from({ length: nulls.bitmapBytes }, () => []);
  nulls.nullable.forEach((nullable, c) => {
    if (!nullable) return;
    const f = nulls.fields[c]!;
    lines.push(`const j${c} = o${c} + i, z${c} = ((m${c}[j${c} >> 3] >> (j${c} & 7)) & 1) ^ 1;`);
    bits[f >> 3]!.push(`(z${c} << ${f & 7})`);
  });
  const any = nulls.nullable.flatMap((v, c) => (v ? [`z${c}`] : [])).join(" | ");
  lines.push(`if ((${any}) === 0) { b[p++] = 0; } else {`, `b[p++] = ${nulls.bitmapBytes};`);
  for (const byte of bits) lines.push(`b[p++] = ${byte.length > 0 ? byte.join(" | ") : "0"};`);
  lines.push(`}`);
  return lines;
}

/** Compiles the row loop of a shape. */
export function compileEncodeRows(shape: EncodeShape): EncodeRows {
  const cells = Array.from({ length: shape.cells }, (_, c) => c);
  const nullable = shape.nulls?.nullable ?? [];
  const extra = shape.nulls ? 1 + shape.nulls.bitmapBytes : 0;
  const body = [
    `"use strict";`,
    `return function encodeRows(from, to, w, until, refs) {`,
    `const H = refs.constant, T = refs.halves, hn = H.length, E = refs.cells, V = refs.validity;`,
    ...cells.map((c) => `const e${c} = E[${c}];`),
    ...nullable.flatMap((v, c) =>
      v ? [`const m${c} = V[${c}].bitmap, o${c} = V[${c}].offset;`] : [],
    ),
    `for (let i = from; i < to; i++) {`,
    `w.ensure(8 + hn + ${extra});`,
    `const b = w.buf; let p = w.pos;`,
    `const hi = (T[i * 2 + 1] ^ 0x80000000) >>> 0, lo = T[i * 2] >>> 0;`,
    `b[p] = hi >>> 24; b[p + 1] = hi >>> 16; b[p + 2] = hi >>> 8; b[p + 3] = hi;`,
    `b[p + 4] = lo >>> 24; b[p + 5] = lo >>> 16; b[p + 6] = lo >>> 8; b[p + 7] = lo;`,
    `p += 8;`,
    `for (let k = 0; k < hn; k++) b[p + k] = H[k];`,
    `p += hn;`,
    ...nullBitmapCode(shape),
    `w.pos = p;`,
    ...cells.map((c) =>
      nullable[c] ? `if (z${c} === 0) e${c}.write(i, w);` : `e${c}.write(i, w);`,
    ),
    `if (w.pos >= until) return i + 1;`,
    `}`,
    `return to;`,
    `};`,
  ].join("\n");
  return new Function(body)() as EncodeRows;
}
