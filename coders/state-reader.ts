/**
 * State-backed iterables: a runner may send a large iterable (e.g. the values
 * of one key after a GroupByKey) as a prefix of elements plus a state token;
 * the rest is read through the Fn State API (`StateKey.Runner{key: token}`)
 * page by page. The harness implements {@link StateBackedIterableReader}.
 */
import type { Coder } from "./coder.js";
import { StreamDecoder } from "./stream-decoder.js";

/** One page of state. */
export interface StatePage {
  /** Elements, nested-encoded and concatenated (an element may span pages). */
  data: Uint8Array;
  /** Present and non-empty when more pages follow. */
  continuationToken?: Uint8Array | undefined;
}

/** Reads the pages of a runner-side iterable (implemented by the harness's state client). */
export interface StateBackedIterableReader {
  /**
   * Fetches one page of the iterable named by `token`; `continuationToken` is
   * undefined for the first page, then the previous page's token.
   */
  readPage(token: Uint8Array, continuationToken: Uint8Array | undefined): Promise<StatePage>;
}

/**
 * The decoded value of an iterable that carries a state token: the prefix
 * that came inline, then the pages read on demand. Iterate it with
 * `for await`, or `await it.toArray()`. Each iteration reads the pages again.
 */
export class StateBackedIterable<T> implements AsyncIterable<T> {
  constructor(
    /** The elements sent inline before the token. */
    readonly prefix: readonly T[],
    /** The runner's state token for the rest. */
    readonly token: Uint8Array,
    private readonly elementCoder: Coder<T>,
    private readonly reader: StateBackedIterableReader,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* this.prefix;
    const decoder = new StreamDecoder(this.elementCoder, { stateReader: this.reader });
    let continuation: Uint8Array | undefined;
    do {
      const page = await this.reader.readPage(this.token, continuation);
      decoder.push(page.data);
      for (let v = decoder.next(); v !== undefined; v = decoder.next()) yield v;
      continuation = page.continuationToken;
    } while (continuation !== undefined && continuation.length > 0);
    decoder.finish();
  }

  /** All elements: the prefix and every page. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const v of this) out.push(v);
    return out;
  }
}
