/**
 * A byte-bounded LRU cache of state values, keyed by a runner cache token and
 * the encoded state key. Only keys covered by a cache token of the current
 * bundle are cached (see `cacheTokenFor`); the runner invalidates by issuing
 * new tokens. Values larger than the capacity are not cached.
 */
import { UserStateJournal } from "./user-state-journal.js";

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
  /** Keys being read from the runner, and whether they were written meanwhile. */
  private readonly reads = new Map<string, { written: boolean; pages: Promise<Uint8Array[]> }>();
  readonly stats: Omit<CacheStats, "bytes" | "entries"> = { hits: 0, misses: 0, evictions: 0 };

  /** User-state writes in order (pool threads' caches follow it; see user-state-journal.ts). */
  readonly journal = new UserStateJournal();

  constructor(readonly capacityBytes: number) {}

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

  /**
   * Registers a read of `key` from the runner: its answer is cached unless
   * the key is written (`written`) while the read is in flight (the answer
   * may predate the write); until then concurrent readers share it
   * (`pendingRead`).
   */
  reading(key: string, pages: Promise<Uint8Array[]>): void {
    const read = { written: false, pages };
    this.reads.set(key, read);
    pages
      .then(
        (answer) => {
          if (!read.written) this.put(key, answer);
        },
        () => undefined,
      )
      .finally(() => {
        if (this.reads.get(key) === read) this.reads.delete(key);
      });
  }

  /** The answer of a read of `key` in flight that no write has overtaken. */
  pendingRead(key: string): Promise<Uint8Array[]> | undefined {
    const read = this.reads.get(key);
    return read && !read.written ? read.pages : undefined;
  }

  /** A write of `key` was applied: reads in flight must not cache their answers. */
  written(key: string): void {
    const read = this.reads.get(key);
    if (read) read.written = true;
  }

  /** Drops every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  snapshot(): CacheStats {
    return { ...this.stats, bytes: this.bytes, entries: this.entries.size };
  }
}
