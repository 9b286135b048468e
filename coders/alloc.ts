/**
 * Allocation of the byte arrays coders return. Typed arrays above 64 bytes
 * get an off-heap backing store each, which costs about a microsecond; small
 * and medium arrays are cut from a shared 64 KiB slab instead (as Node's
 * `Buffer` pool does), so decoding 1 KiB values is cheap. A slab is freed
 * when no array cut from it is reachable.
 */

/** Arrays up to this size live on the V8 heap: allocate them directly. */
const ON_HEAP = 64;
/** Arrays up to this size are cut from the slab. */
const MAX_SLAB_ALLOC = 4096;
const SLAB_SIZE = 64 * 1024;

/** Uninitialized memory (callers overwrite every byte), so no zero-filling either. */
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer;
let slabUsed = 0;

/** A new plain `Uint8Array` of `n` bytes, not shared with anything live (contents unspecified: callers fill it). */
export function allocBytes(n: number): Uint8Array {
  if (n <= ON_HEAP || n > MAX_SLAB_ALLOC) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer;
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  // Keep views 8-byte aligned.
  slabUsed += (n + 7) & ~7;
  return out;
}
