/**
 * Decoded side-input values, remembered per page list: the state caches
 * (the conductor's inline, a pool thread's own) hand out the same page array
 * for a cached value for as long as they hold it, so a side input decoded
 * once is not decoded again in later bundles while the cache keeps its
 * bytes. The memo is weak: when a cache drops (or replaces, on append) a
 * value, its decoded form goes with it, so it is bounded by the caches' byte
 * bounds. Callers must not change the returned array (copy it for users).
 */
import type { Coder } from "../../coders/index.js";
import { decodePages } from "./decode-pages.js";

const decoded = new WeakMap<readonly Uint8Array[], Map<Coder<unknown>, unknown[]>>();

export function decodeViewPages(pages: readonly Uint8Array[], coder: Coder<unknown>): unknown[] {
  let byCoder = decoded.get(pages);
  if (!byCoder) decoded.set(pages, (byCoder = new Map()));
  let values = byCoder.get(coder);
  if (!values) byCoder.set(coder, (values = decodePages(pages, coder)));
  return values;
}
