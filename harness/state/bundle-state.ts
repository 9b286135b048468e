/**
 * State API access for one bundle: reads follow continuation tokens and go
 * through the cache when the bundle has a cache token covering the key;
 * writes are sent at once, applied to the cache, and tracked so that
 * `flush()` can wait for every acknowledgement before the bundle responds
 * (callers do not wait for each one: writes are pipelined).
 */
import { fnApi } from "../../proto/index.js";
import type { StateAccess } from "../../operations/bundle-services.js";
import { CacheScope, USER_STATE_PREFIX, type PlainCacheScope } from "./cache-scope.js";
import type { StateCache } from "./state-cache.js";
import type { JournalDelta } from "./user-state-journal.js";
import type { StateChannel } from "./state-channel.js";

/** A pool thread's view of its bundle's cache scope (see BundleState.threadScope). */
export interface ThreadScope {
  scope: PlainCacheScope;
  journal: JournalDelta;
  capacityBytes: number;
}

export class BundleState implements StateAccess {
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private writeError: { error: unknown } | undefined;
  private readonly scope: CacheScope;

  constructor(
    private readonly instructionId: string,
    private readonly channel: () => StateChannel,
    private readonly cache: StateCache,
    cacheTokens: readonly fnApi.ProcessBundleRequest.CacheToken[],
  ) {
    this.scope = CacheScope.fromTokens(cacheTokens);
  }

  /**
   * What a pool thread running this bundle needs for its own cache: the
   * bundle's cache tokens, the user-state writes it has not seen (since
   * journal position `since`, except those of its previous bundle `own`),
   * and the conductor cache's capacity.
   */
  threadScope(since: number, own: string | undefined): ThreadScope {
    return {
      scope: this.scope.plain(),
      journal: this.cache.journal.since(since, own),
      capacityBytes: this.cache.capacityBytes,
    };
  }

  async get(key: fnApi.StateKey): Promise<Uint8Array[]> {
    const cacheKey = this.cacheKeyOf(key);
    if (cacheKey === undefined) return this.read(key);
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const pending = this.cache.pendingRead(cacheKey);
    if (pending) return pending;
    const pages = this.read(key);
    this.cache.reading(cacheKey, pages);
    return pages;
  }

  /** Every page of `key` from the runner. */
  private async read(key: fnApi.StateKey): Promise<Uint8Array[]> {
    const pages: Uint8Array[] = [];
    const maxBytes = this.channel().maxReadBytes;
    let bytes = 0;
    let continuation: Uint8Array = new Uint8Array(0);
    do {
      const previous = continuation;
      const response = await this.channel().request(
        new fnApi.StateRequest({
          instruction_id: this.instructionId,
          state_key: key,
          get: new fnApi.StateGetRequest({ continuation_token: continuation }),
        }),
      );
      if (!response.has_get) {
        throw new Error(`state get answered without a get response (${response.response})`);
      }
      const data = response.get.data;
      if (data.length > 0) pages.push(data);
      bytes += data.length;
      continuation = response.get.continuation_token;
      if (bytes > maxBytes)
        throw new StateReadError(
          `state read of ${describeKey(key)} gathered ${bytes} bytes over ${pages.length} pages, more than ${maxBytes} (firefly_max_state_read_bytes): the runner's continuation tokens do not end`,
        );
      if (data.length === 0 && continuation.length > 0 && sameBytes(continuation, previous))
        throw new StateReadError(
          `state read of ${describeKey(key)}: the runner answered an empty page with the same continuation token again (no progress)`,
        );
    } while (continuation.length > 0);
    return pages;
  }

  async getPage(
    key: fnApi.StateKey,
    continuationToken: Uint8Array | undefined,
  ): Promise<{ data: Uint8Array; continuationToken: Uint8Array }> {
    const response = await this.channel().request(
      new fnApi.StateRequest({
        instruction_id: this.instructionId,
        state_key: key,
        get: new fnApi.StateGetRequest({
          continuation_token: continuationToken ?? new Uint8Array(0),
        }),
      }),
    );
    if (!response.has_get) {
      throw new Error(`state get answered without a get response (${response.response})`);
    }
    return { data: response.get.data, continuationToken: response.get.continuation_token };
  }

  append(key: fnApi.StateKey, data: Uint8Array): Promise<void> {
    const cacheKey = this.cacheKeyOf(key);
    if (cacheKey !== undefined) {
      this.cache.append(cacheKey, data);
      this.journalWrite(cacheKey);
    }
    return this.write(
      new fnApi.StateRequest({
        instruction_id: this.instructionId,
        state_key: key,
        append: new fnApi.StateAppendRequest({ data }),
      }),
    );
  }

  clear(key: fnApi.StateKey): Promise<void> {
    const cacheKey = this.cacheKeyOf(key);
    if (cacheKey !== undefined) {
      this.cache.put(cacheKey, []);
      this.journalWrite(cacheKey);
    }
    return this.write(
      new fnApi.StateRequest({
        instruction_id: this.instructionId,
        state_key: key,
        clear: new fnApi.StateClearRequest(),
      }),
    );
  }

  /** Waits for every write of the bundle; throws the first write failure. */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.allSettled([...this.pendingWrites]);
    if (this.writeError) throw this.writeError.error;
  }

  private write(request: fnApi.StateRequest): Promise<void> {
    const pending = this.channel()
      .request(request)
      .then(
        () => undefined,
        (error: unknown) => {
          this.writeError ??= { error };
          throw error;
        },
      );
    const tracked = pending.finally(() => this.pendingWrites.delete(tracked));
    tracked.catch(() => undefined); // surfaced by flush()
    this.pendingWrites.add(tracked);
    // Pipelined: the caller does not wait for the runner's acknowledgement
    // (later requests follow on the same stream, in order); flush() waits
    // for all of them and throws the first failure.
    return Promise.resolve();
  }

  private cacheKeyOf(key: fnApi.StateKey): string | undefined {
    return this.scope.cacheKeyOf(key);
  }

  private journalWrite(cacheKey: string): void {
    this.cache.written(cacheKey);
    if (cacheKey.startsWith(USER_STATE_PREFIX))
      this.cache.journal.record(cacheKey, this.instructionId);
  }
}

/** A state read the runner's answers cannot complete. */
export class StateReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateReadError";
  }
}

/** The kind of a state key and its ids, for errors (never the key's bytes). */
function describeKey(key: fnApi.StateKey): string {
  const kind = key.type;
  const body = (
    key as unknown as Record<
      string,
      { transform_id?: string; side_input_id?: string; user_state_id?: string }
    >
  )[kind];
  const ids = [body?.transform_id, body?.side_input_id ?? body?.user_state_id].filter(Boolean);
  return ids.length > 0 ? `${kind} ${ids.map((id) => JSON.stringify(id)).join("/")}` : kind;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
