/**
 * Distinct byte strings (the UTF-8 keys of a dictionary-encoded column),
 * each stored once and found again by its bytes: an open-addressing hash
 * table whose entries keep their first eight bytes as two 32-bit words and
 * their length, so that a lookup of a string of up to 8 bytes (most keys)
 * hashes and compares two words instead of every byte. Longer strings
 * compare their remaining bytes too.
 */
export class ByteDictionary {
  /** Start of entry e's bytes in `bytes` (entry e ends where e + 1 starts). */
  offsets: Int32Array = new Int32Array(65);
  bytes: Uint8Array = new Uint8Array(512);
  private first: Int32Array = new Int32Array(64);
  private second: Int32Array = new Int32Array(64);
  /** Entries so far. */
  size = 0;
  /** Entry index + 1 by hash slot (0: free). */
  private slots = new Int32Array(256);

  /** The index of the string `b[p, p + n)`, added if it is new. */
  entryOf(b: Uint8Array, p: number, n: number): number {
    let w0 = 0;
    let w1 = 0;
    if (n >= 8) {
      w0 = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
      w1 = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    } else {
      for (let k = 0; k < n; k++) {
        if (k < 4) w0 |= b[p + k]! << (k << 3);
        else w1 |= b[p + k]! << ((k - 4) << 3);
      }
    }
    let h = Math.imul(w0 ^ n, 0xcc9e2d51);
    h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ w1;
    for (let k = 8; k < n; k++) h = Math.imul(h ^ b[p + k]!, 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    h ^= h >>> 16;
    const slots = this.slots;
    const mask = slots.length - 1;
    const offsets = this.offsets;
    const first = this.first;
    const second = this.second;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s]! - 1;
      if (e < 0) break;
      if (first[e] !== w0 || second[e] !== w1) continue;
      const start = offsets[e]!;
      if (offsets[e + 1]! - start !== n) continue;
      if (n <= 8 || this.restEquals(start, b, p, n)) return e;
    }
    return this.add(b, p, n, w0, w1, h);
  }

  private restEquals(start: number, b: Uint8Array, p: number, n: number): boolean {
    const bytes = this.bytes;
    for (let k = 8; k < n; k++) if (bytes[start + k] !== b[p + k]) return false;
    return true;
  }

  private add(b: Uint8Array, p: number, n: number, w0: number, w1: number, h: number): number {
    const e = this.size++;
    if (e + 1 >= this.offsets.length) {
      this.offsets = grownInt32(this.offsets, this.offsets.length * 2);
      this.first = grownInt32(this.first, this.offsets.length);
      this.second = grownInt32(this.second, this.offsets.length);
    }
    const start = this.offsets[e]!;
    this.bytes = roomFor(this.bytes, start, n);
    this.bytes.set(b.subarray(p, p + n), start);
    this.offsets[e + 1] = start + n;
    this.first[e] = w0;
    this.second[e] = w1;
    if (this.size * 4 > this.slots.length) this.rehash();
    else this.place(h, e);
    return e;
  }

  private place(h: number, e: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = h & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = e + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.size; e++) this.place(this.hashOf(e), e);
  }

  /** The hash of entry e (from its stored bytes, as `entryOf` computes it). */
  private hashOf(e: number): number {
    const start = this.offsets[e]!;
    const n = this.offsets[e + 1]! - start;
    let h = Math.imul(this.first[e]! ^ n, 0xcc9e2d51);
    h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ this.second[e]!;
    for (let k = 8; k < n; k++) h = Math.imul(h ^ this.bytes[start + k]!, 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return h ^ (h >>> 16);
  }
}

function grownInt32(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(length);
  grown.set(a);
  return grown;
}

/** `bytes`, or a copy of its first `used` bytes grown (doubling) to hold `n` more. */
export function roomFor(bytes: Uint8Array, used: number, n: number): Uint8Array {
  if (used + n <= bytes.length) return bytes;
  let cap = bytes.length * 2;
  while (cap < used + n) cap *= 2;
  const grown = new Uint8Array(cap);
  grown.set(bytes.subarray(0, used));
  return grown;
}
