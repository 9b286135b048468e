/**
 * The floor for the windowed KV workload of the coders benchmark: the
 * least JavaScript that turns these values into these bytes and back (same
 * value model: bigint timestamps, `{key, value}`, the shared global-window
 * and pane objects), written by hand for exactly this shape — no checks for
 * other values, no errors, no streaming. No coder can be faster in the same
 * process, so apache-beam's time divided by this one bounds the speed-up any
 * JavaScript coder can show in that run.
 */
import { int64Of, putInt64 } from "../../coders/int64.js";
import { GLOBAL_WINDOWS, NO_FIRING } from "../../coders/index.js";

interface WindowedKv {
  value: { key: string; value: number };
  timestamp: bigint;
}

/** Encodes a batch into `out` (large enough); returns the bytes written. */
export function floorEncode(values: readonly unknown[], out: Buffer): number {
  let p = 0;
  for (let i = 0; i < values.length; i++) {
    const wv = values[i] as WindowedKv;
    putInt64(out, p, wv.timestamp, 0x80);
    out[p + 8] = 0;
    out[p + 9] = 0;
    out[p + 10] = 0;
    out[p + 11] = 1;
    out[p + 12] = 0x0f;
    p += 13;
    const key = wv.value.key;
    const n = key.length;
    out[p++] = n;
    for (let j = 0; j < n; j++) out[p++] = key.charCodeAt(j);
    let x = wv.value.value;
    while (x >= 0x80) {
      out[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    out[p++] = x;
  }
  return p;
}

/** The last decoded element. */
export let sink: unknown;

/** Decodes every element of `bytes` (20-character ASCII keys); returns the count. */
export function floorDecode(bytes: Buffer): number {
  const b = bytes;
  const end = b.length;
  let p = 0;
  let count = 0;
  let lastHi = 0;
  let lastLo = 0;
  let lastTs = 0n;
  while (p < end) {
    const hi = ((b[p]! ^ 0x80) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    if (hi !== lastHi || lo !== lastLo) {
      lastTs = int64Of(hi, lo);
      lastHi = hi;
      lastLo = lo;
    }
    p += 14; // timestamp, global window, pane, key length (20)
    // prettier-ignore
    const key = String.fromCharCode(
      b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!,
      b[p + 15]!, b[p + 16]!, b[p + 17]!, b[p + 18]!, b[p + 19]!,
    );
    p += 20;
    // The values are below 2^35: at most five bytes.
    let x = b[p]!;
    let value = x & 0x7f;
    if (x < 0x80) p += 1;
    else {
      x = b[p + 1]!;
      value |= (x & 0x7f) << 7;
      if (x < 0x80) p += 2;
      else {
        x = b[p + 2]!;
        value |= (x & 0x7f) << 14;
        if (x < 0x80) p += 3;
        else {
          x = b[p + 3]!;
          value |= (x & 0x7f) << 21;
          if (x < 0x80) p += 4;
          else {
            value += b[p + 4]! * 268435456;
            p += 5;
          }
        }
      }
    }
    // Kept, as a decoder's caller would keep it (so the allocation cannot be optimised away).
    sink = { value: { key, value }, timestamp: lastTs, windows: GLOBAL_WINDOWS, pane: NO_FIRING };
    count++;
  }
  return count;
}
