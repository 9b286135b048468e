/**
 * A pool thread's own cache of state reads (one per thread, kept across
 * bundles), so that side-input and user-state reads the conductor's cache
 * would answer do not cost a MessagePort round trip each. Entries are keyed
 * exactly as the conductor's (cache-scope.ts): a key is cached only under a
 * cache token of the current bundle, so nothing is reused across bundles
 * without one. At the first state access of each bundle the thread syncs
 * with the conductor: it gets the bundle's cache scope and drops the user
 * state that other bundles wrote since its last sync (user-state-journal.ts);
 * its own writes it applies itself, as the conductor's cache does.
 *
 * Byte-bounded: each thread holds up to the conductor cache's capacity
 * divided by the machine's cores (the default thread count), at least 1 MiB.
 */
import { availableParallelism } from "node:os";
import type { ThreadScope } from "./bundle-state.js";
import { CacheScope, USER_STATE_PREFIX } from "./cache-scope.js";
import { StateCache } from "./state-cache.js";

const MIN_THREAD_CACHE_BYTES = 1024 * 1024;

/** A thread cache's share of the conductor cache's capacity. */
export function threadCacheCapacity(
  conductorBytes: number,
  cores = availableParallelism(),
): number {
  return Math.min(
    conductorBytes,
    Math.max(MIN_THREAD_CACHE_BYTES, Math.floor(conductorBytes / Math.max(1, cores))),
  );
}

export class ThreadStateCache {
  private entries: StateCache | undefined;
  /** The journal position this thread has seen (-1: nothing yet). */
  private seen = -1;
  /** The bundle of this thread's last sync: its writes this cache applied itself. */
  private lastInstruction: string | undefined;

  constructor(
    private readonly capacityOf: (conductorBytes: number) => number = threadCacheCapacity,
  ) {}

  /** Brings the cache up to date for bundle `instructionId`; returns its cache scope. */
  async sync(
    instructionId: string,
    fetchScope: (since: number, own: string | undefined) => Promise<ThreadScope>,
  ): Promise<CacheScope> {
    const reply = await fetchScope(this.seen, this.lastInstruction);
    this.seen = reply.journal.seq;
    this.lastInstruction = instructionId;
    const capacity = this.capacityOf(reply.capacityBytes);
    if (this.entries?.capacityBytes !== capacity) this.entries = new StateCache(capacity);
    else if (reply.journal.invalidate === "all") this.entries.deletePrefix(USER_STATE_PREFIX);
    else for (const key of reply.journal.invalidate) this.entries.delete(key);
    return CacheScope.fromPlain(reply.scope);
  }

  get(cacheKey: string): Uint8Array[] | undefined {
    return this.entries?.get(cacheKey);
  }

  put(cacheKey: string, pages: Uint8Array[]): void {
    this.entries?.put(cacheKey, pages);
  }

  /** Reads in flight: shared by concurrent readers, cached unless overtaken by a write (StateCache.reading). */
  reading(cacheKey: string, pages: Promise<Uint8Array[]>): void {
    this.entries?.reading(cacheKey, pages);
  }

  pendingRead(cacheKey: string): Promise<Uint8Array[]> | undefined {
    return this.entries?.pendingRead(cacheKey);
  }

  written(cacheKey: string): void {
    this.entries?.written(cacheKey);
  }

  /** Applies an append, as the conductor's cache does (no-op when not cached). */
  append(cacheKey: string, data: Uint8Array): void {
    this.entries?.append(cacheKey, data);
  }

  /** Applies a clear, as the conductor's cache does (the value is now empty). */
  clear(cacheKey: string): void {
    this.entries?.put(cacheKey, []);
  }

  /**
   * Forgets all user state (a bundle of this thread failed: its writes may
   * not all have reached the conductor).
   */
  dropUserState(): void {
    this.entries?.deletePrefix(USER_STATE_PREFIX);
    this.lastInstruction = undefined;
  }

  snapshot() {
    return this.entries?.snapshot();
  }
}
