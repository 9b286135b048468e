/**
 * PCollections that cross stage boundaries. A producer (a stage's sink, a
 * runner primitive) writes each bundle's byte stream of nested-encoded
 * windowed values through `open()`; every consumer registered on the channel
 * (a stored copy for stages and side inputs, a GroupByKey buffer, a flatten
 * forwarding to another channel) receives the same bytes.
 */
import {
  ByteReader,
  StreamDecoder,
  type Coder,
  type DecodeOptions,
} from "../../../coders/index.js";

/**
 * Decodes in this process take a state-backed group's token but never read
 * its pages (workers do): cutting bundles only needs element boundaries.
 */
const TOKENS_ONLY: DecodeOptions = {
  stateReader: {
    readPage: () =>
      Promise.reject(new Error("the local runner does not read state-backed iterables itself")),
  },
};

/** One bundle's stream of bytes into a consumer. */
export interface BundleWriter {
  write(chunk: Uint8Array): void;
  /** The bundle's stream is complete. */
  end(): void;
}

export interface ChannelConsumer {
  open(): BundleWriter;
}

export class PCollectionChannel {
  private readonly consumers: ChannelConsumer[] = [];
  /** Elements written by runner primitives (stages report theirs through metrics). */
  elements = 0;

  constructor(
    readonly pcollectionId: string,
    /** The windowed-value coder of the PCollection's elements. */
    readonly coder: Coder<unknown>,
  ) {}

  attach(consumer: ChannelConsumer): void {
    this.consumers.push(consumer);
  }

  open(): BundleWriter {
    const writers = this.consumers.map((c) => c.open());
    if (writers.length === 1) return writers[0];
    return {
      write: (chunk) => {
        for (const w of writers) w.write(chunk);
      },
      end: () => {
        for (const w of writers) w.end();
      },
    };
  }
}

/**
 * A PCollection kept whole, as element-aligned segments (one per producing
 * bundle): the input of a downstream stage, or a side input.
 */
export class SegmentStore implements ChannelConsumer {
  readonly segments: Uint8Array[] = [];
  bytes = 0;

  constructor(readonly coder: Coder<unknown>) {}

  open(): BundleWriter {
    const chunks: Uint8Array[] = [];
    return {
      write: (chunk) => void chunks.push(chunk.slice()),
      end: () => {
        const segment = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (segment.length === 0) return;
        this.segments.push(segment);
        this.bytes += segment.length;
      },
    };
  }

  /** Every element, decoded. */
  *values(): Generator<unknown> {
    for (const segment of this.segments) {
      const reader = new ByteReader(segment, TOKENS_ONLY);
      while (reader.pos < reader.end) yield this.coder.decodeFrom(reader, "nested");
    }
  }

  /**
   * Cuts the stored elements into about `parts` groups of segments of similar
   * size (segments larger than the share are cut at element boundaries).
   */
  bundles(parts: number, minBundleBytes: number): Uint8Array[][] {
    const share = Math.max(minBundleBytes, Math.ceil(this.bytes / Math.max(1, parts)));
    const pieces: Uint8Array[] = [];
    for (const segment of this.segments) {
      if (segment.length <= share * 1.5) pieces.push(segment);
      else pieces.push(...cutAtElements(segment, this.coder, share));
    }
    const out: Uint8Array[][] = [];
    let current: Uint8Array[] = [];
    let size = 0;
    for (const piece of pieces) {
      if (size > 0 && size + piece.length > share) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(piece);
      size += piece.length;
    }
    if (current.length > 0) out.push(current);
    return out;
  }
}

/** Cuts a segment into pieces of about `share` bytes at element boundaries. */
export function cutAtElements(
  segment: Uint8Array,
  coder: Coder<unknown>,
  share: number,
): Uint8Array[] {
  const reader = new ByteReader(segment, TOKENS_ONLY);
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (reader.pos < reader.end) {
    coder.decodeFrom(reader, "nested");
    if (reader.pos - start >= share) {
      pieces.push(segment.subarray(start, reader.pos));
      start = reader.pos;
    }
  }
  if (start < segment.length) pieces.push(segment.subarray(start));
  return pieces;
}

/** Decodes one bundle's stream element by element (elements may span chunks). */
export function decodingWriter(
  coder: Coder<unknown>,
  onValue: (value: unknown) => void,
  onEnd: () => void = () => undefined,
): BundleWriter {
  const decoder = new StreamDecoder(coder, TOKENS_ONLY);
  const drain = () => {
    for (let v = decoder.next(); v !== undefined; v = decoder.next()) onValue(v);
  };
  return {
    write: (chunk) => {
      decoder.push(chunk);
      drain();
    },
    end: () => {
      drain();
      decoder.finish();
      onEnd();
    },
  };
}

/** Elements [from, to) of a bundle's element-aligned input parts, as one buffer per part they touch. */
export function elementsBetween(
  parts: readonly Uint8Array[],
  coder: Coder<unknown>,
  from: number,
  to: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let index = 0;
  for (const part of parts) {
    if (index >= to) break;
    const reader = new ByteReader(part, TOKENS_ONLY);
    let start = -1;
    let end = -1;
    while (reader.pos < reader.end && index < to) {
      const at = reader.pos;
      coder.decodeFrom(reader, "nested");
      if (index >= from) {
        if (start < 0) start = at;
        end = reader.pos;
      }
      index++;
    }
    if (start >= 0) out.push(part.subarray(start, end));
  }
  return out;
}

/** How many elements a bundle's element-aligned input parts hold. */
export function countElements(parts: readonly Uint8Array[], coder: Coder<unknown>): number {
  let n = 0;
  for (const part of parts) {
    const reader = new ByteReader(part, TOKENS_ONLY);
    while (reader.pos < reader.end) {
      coder.decodeFrom(reader, "nested");
      n++;
    }
  }
  return n;
}
