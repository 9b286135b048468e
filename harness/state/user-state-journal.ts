/**
 * The user-state writes the conductor saw, in order, so that pool threads
 * keep their caches coherent: a thread caches user state under the runner's
 * user-state token across bundles, and another thread's bundle may write the
 * same key in between. At the start of each bundle a thread asks for the
 * writes since its last look (`since`) and drops those keys, except the
 * writes of its own previous bundle (it applied them itself, as the
 * conductor's cache did). Bounded: a thread further behind than the journal
 * reaches drops all its user state.
 */

/** What a thread must drop: keys, or all user state. */
export interface JournalDelta {
  /** The journal position the thread has now seen. */
  seq: number;
  invalidate: string[] | "all";
}

export const DEFAULT_JOURNAL_ENTRIES = 16_384;

export class UserStateJournal {
  private readonly keys: string[] = [];
  private readonly writers: string[] = [];
  /** Sequence number of the first retained entry. */
  private first = 1;
  /** Sequence number of the last entry (0: none). */
  private last = 0;

  constructor(private readonly maxEntries = DEFAULT_JOURNAL_ENTRIES) {}

  get position(): number {
    return this.last;
  }

  /** Records a write (append or clear) of `cacheKey` by bundle `writer`. */
  record(cacheKey: string, writer: string): void {
    // Consecutive writes of one key by one bundle (clear + append) need one entry.
    const n = this.keys.length;
    if (n > 0 && this.keys[n - 1] === cacheKey && this.writers[n - 1] === writer) return;
    this.keys.push(cacheKey);
    this.writers.push(writer);
    this.last++;
    if (this.keys.length > this.maxEntries) {
      const drop = this.keys.length - Math.floor(this.maxEntries / 2);
      this.keys.splice(0, drop);
      this.writers.splice(0, drop);
      this.first += drop;
    }
  }

  /**
   * The keys written after position `since` by bundles other than `own`
   * (undefined: every writer); `since` < 0 means the thread has seen nothing.
   */
  since(since: number, own: string | undefined): JournalDelta {
    if (since < 0) return { seq: this.last, invalidate: "all" };
    if (since >= this.last) return { seq: this.last, invalidate: [] };
    if (since + 1 < this.first) return { seq: this.last, invalidate: "all" };
    const invalidate = new Set<string>();
    for (let i = since + 1 - this.first; i < this.keys.length; i++) {
      if (this.writers[i] !== own) invalidate.add(this.keys[i]!);
    }
    return { seq: this.last, invalidate: [...invalidate] };
  }
}
