/**
 * StateAccess for a bundle running in a pool thread: reads the thread's
 * cache answers (under the bundle's cache tokens) cost no round trip; other
 * reads go to the conductor, and concurrent reads of one key share one
 * request. Requests are pipelined: writes are posted at once and not waited
 * for one by one (the port keeps them in order before later reads);
 * `complete()` waits for every acknowledgement and throws the first failure.
 */
import type { StateAccess } from "../../operations/bundle-services.js";
import type { fnApi } from "../../proto/index.js";
import type { ThreadScope } from "./bundle-state.js";
import type { CacheScope } from "./cache-scope.js";
import type { ThreadStateCache } from "./thread-state-cache.js";

/** The conductor, as a thread's bundle reaches it (over the bundle's MessagePort). */
export interface StateTransport {
  scope(since: number, own: string | undefined): Promise<ThreadScope>;
  get(key: Uint8Array): Promise<Uint8Array[]>;
  getPage(
    key: Uint8Array,
    continuationToken: Uint8Array | undefined,
  ): Promise<{ data: Uint8Array; continuationToken: Uint8Array }>;
  write(op: "append" | "clear", key: Uint8Array, data?: Uint8Array): Promise<void>;
}

export class ThreadBundleState implements StateAccess {
  private scopeOnce: Promise<CacheScope> | undefined;
  private readonly pendingWrites = new Set<Promise<void>>();
  private writeError: { error: unknown } | undefined;

  constructor(
    private readonly instructionId: string,
    private readonly transport: StateTransport,
    private readonly cache: ThreadStateCache,
  ) {}

  async get(key: fnApi.StateKey): Promise<Uint8Array[]> {
    // Every operation awaits the scope once, so operations keep their order.
    const scope = await this.scope();
    const encoded = key.serializeBinary();
    const cacheKey = scope.cacheKeyOf(key, encoded);
    if (cacheKey === undefined) return this.transport.get(encoded);
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const pending = this.cache.pendingRead(cacheKey);
    if (pending) return pending;
    const pages = this.transport.get(encoded);
    this.cache.reading(cacheKey, pages);
    return pages;
  }

  async getPage(
    key: fnApi.StateKey,
    continuationToken: Uint8Array | undefined,
  ): Promise<{ data: Uint8Array; continuationToken: Uint8Array }> {
    await this.scope();
    return this.transport.getPage(key.serializeBinary(), continuationToken);
  }

  async append(key: fnApi.StateKey, data: Uint8Array): Promise<void> {
    const scope = await this.scope();
    const encoded = key.serializeBinary();
    const cacheKey = scope.cacheKeyOf(key, encoded);
    if (cacheKey !== undefined) {
      this.cache.append(cacheKey, data);
      this.cache.written(cacheKey);
    }
    this.track(this.transport.write("append", encoded, data));
  }

  async clear(key: fnApi.StateKey): Promise<void> {
    const scope = await this.scope();
    const encoded = key.serializeBinary();
    const cacheKey = scope.cacheKeyOf(key, encoded);
    if (cacheKey !== undefined) {
      this.cache.clear(cacheKey);
      this.cache.written(cacheKey);
    }
    this.track(this.transport.write("clear", encoded));
  }

  /** Waits for every write of the bundle; throws the first write failure. */
  async complete(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.allSettled([...this.pendingWrites]);
    if (this.writeError) throw this.writeError.error;
  }

  /** The bundle failed: its writes may not all have arrived, so the thread forgets user state. */
  abandon(): void {
    if (this.scopeOnce) this.cache.dropUserState();
  }

  private scope(): Promise<CacheScope> {
    this.scopeOnce ??= this.cache.sync(this.instructionId, (since, own) =>
      this.transport.scope(since, own),
    );
    return this.scopeOnce;
  }

  private track(write: Promise<void>): void {
    const tracked: Promise<void> = write.then(
      () => undefined,
      (error: unknown) => {
        this.writeError ??= { error };
      },
    );
    this.pendingWrites.add(tracked);
    void tracked.finally(() => this.pendingWrites.delete(tracked));
  }
}
