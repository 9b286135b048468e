/**
 * A byte-bounded LRU cache of state values, keyed by a runner cache token and
 * the encoded state key. Only keys covered by a cache token of the current
 * bundle are cached (see `cacheTokenFor`); the runner invalidates by issuing
 * new tokens. Values larger than the capacity are not cached.
 */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

export class StateCache {
  private readonly entries = new Map<string, { pages: Uint8Array[]; bytes: number }>();
  private bytes = 0;
  readonly stats: Omit<CacheStats, "bytes" | "entries"> = { hits: 0, misses: 0, evictions: 0 };

  constructor(private readonly capacityBytes: number) {}

  get(key: string): Uint8Array[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.pages;
  }

  /** Stores a whole value (every page). */
  put(key: string, pages: Uint8Array[]): void {
    this.delete(key);
    let size = key.length + 64;
    for (const page of pages) size += page.length + 16;
    if (size > this.capacityBytes) return;
    this.entries.set(key, { pages, bytes: size });
    this.bytes += size;
    for (const [oldKey, entry] of this.entries) {
      if (this.bytes <= this.capacityBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= entry.bytes;
      this.stats.evictions++;
    }
  }

  /** Applies an append to a cached value (no-op when not cached). */
  append(key: string, data: Uint8Array): void {
    const entry = this.entries.get(key);
    if (entry) this.put(key, [...entry.pages, data]);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  snapshot(): CacheStats {
    return { ...this.stats, bytes: this.bytes, entries: this.entries.size };
  }
}
