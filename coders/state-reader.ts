/**
 * State-backed iterables: a runner may send a large iterable (e.g. the values
 * of one key after a GroupByKey) as a prefix of elements plus a state token;
 * the rest is read through the Fn State API (`StateKey.Runner{key: token}`)
 * page by page. The harness implements {@link StateBackedIterableReader}.
 *
 * The write side (what a runner does): {@link StateWritingIterable} values
 * encode as Beam's `StateBackedIterableCoder` with a state writer does —
 * blocks until the threshold, then the rest stored under a token.
 */
import type { Coder } from "./coder.js";
import { StreamDecoder } from "./stream-decoder.js";

export const STATE_BACKED_ITERABLE_URN = "beam:coder:state_backed_iterable:v1";

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
 * How many bytes of pages one reading may take (shared by the iterables of
 * one element); reading past `limitBytes` throws {@link IterableTooLargeError}.
 */
export interface IterableReadBudget {
  readonly limitBytes: number;
  readBytes: number;
}

/** A state-backed iterable read whole was larger than its {@link IterableReadBudget}. */
export class IterableTooLargeError extends Error {
  constructor(
    readonly limitBytes: number,
    readonly readBytes: number,
  ) {
    super(
      `a state-backed iterable is larger than ${limitBytes} bytes (${readBytes} bytes of pages read)`,
    );
    this.name = "IterableTooLargeError";
  }
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

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.values(undefined);
  }

  /** All elements: the prefix and every page (at most `budget.limitBytes` of pages when given). */
  async toArray(budget?: IterableReadBudget): Promise<T[]> {
    const out: T[] = [];
    for await (const v of this.values(budget)) out.push(v);
    return out;
  }

  private async *values(budget: IterableReadBudget | undefined): AsyncGenerator<T> {
    yield* this.prefix;
    const decoder = new StreamDecoder(this.elementCoder, { stateReader: this.reader });
    let continuation: Uint8Array | undefined;
    do {
      const page = await this.reader.readPage(this.token, continuation);
      if (budget !== undefined) {
        budget.readBytes += page.data.length;
        if (budget.readBytes > budget.limitBytes)
          throw new IterableTooLargeError(budget.limitBytes, budget.readBytes);
      }
      decoder.push(page.data);
      for (let v = decoder.next(); v !== undefined; v = decoder.next()) yield v;
      continuation = page.continuationToken;
    } while (continuation !== undefined && continuation.length > 0);
    decoder.finish();
  }
}

/** Where an encoder stores the tail of a large iterable (a runner's state). */
export interface IterableStateWriter {
  /** Stores the elements (nested-encoded, concatenated); returns the state token naming them. */
  write(encodedElements: Uint8Array): Uint8Array;
}

/**
 * Values that a `beam:coder:state_backed_iterable:v1` coder encodes as Beam
 * Python's `StateBackedIterableCoder` with a state writer does (the runner
 * side of state-backed iterables): count `-1`, blocks of elements, each cut
 * once it exceeds `min(64 KiB, thresholdBytes)`; once the blocks exceed
 * `thresholdBytes` the remaining elements go to `stateWriter` and a `-1`
 * marker and the length-prefixed token end the encoding, else a `0` does.
 * A plain iterable coder encodes the values as an array.
 */
export class StateWritingIterable<T> {
  constructor(
    readonly values: readonly T[],
    readonly thresholdBytes: number,
    readonly stateWriter: IterableStateWriter,
  ) {}
}
