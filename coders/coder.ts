/**
 * The `Coder` interface and the base class every Firefly coder extends.
 *
 * Contexts: Beam encodes a value either *nested* (followed by more data, so it
 * must be self-delimiting) or *outer* (the value takes the rest of the
 * stream, so e.g. bytes and strings carry no length). Data-plane elements are
 * nested; `Elements.Data` payload streams are concatenations of them.
 */
import { ByteReader, type DecodeOptions } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { ByteUnderflow, CoderError, describeValue, type CoderIdentity } from "./errors.js";

/** `"nested"`: followed by more data; `"outer"`: the value takes the rest of the stream. */
export type Context = "nested" | "outer";

/** A coder of values of type `T`. */
export interface Coder<T> extends CoderIdentity {
  /** The coder's URN, e.g. `beam:coder:kv:v1`. */
  readonly urn: string;
  /** The coder's id in the pipeline's `Components`, when built by `coderFromProto`. */
  readonly coderId: string | undefined;
  /** The component coders, in the order of the coder spec. */
  readonly components: readonly Coder<unknown>[];
  /** A lower bound on the size of the nested encoding of any value (0 for the global window). */
  readonly minSize: number;
  /** Encodes a value into a new byte array. @param context @default "nested" */
  encode(value: T, context?: Context): Uint8Array;
  /**
   * Decodes one value that must take all of `bytes`: truncated input, malformed
   * bytes and trailing bytes are a `CoderError`. @param context @default "nested"
   */
  decode(bytes: Uint8Array, context?: Context, options?: DecodeOptions): T;
  /** Appends the encoding of `value` to `writer`. */
  encodeTo(value: T, writer: ByteWriter, context: Context): void;
  /** Reads one value at the reader's position (throws `ByteUnderflow` when the input ends early). */
  decodeFrom(reader: ByteReader, context: Context): T;
}

let scratch: ByteWriter | undefined;

/** The base of Firefly's coders: `encode`/`decode` on top of `encodeTo`/`decodeFrom`. */
export abstract class BaseCoder<T> implements Coder<T> {
  abstract readonly urn: string;
  readonly components: readonly Coder<unknown>[];
  readonly coderId: string | undefined;
  abstract readonly minSize: number;

  constructor(components: readonly Coder<unknown>[] = [], coderId?: string) {
    this.components = components;
    this.coderId = coderId;
  }

  abstract encodeTo(value: T, writer: ByteWriter, context: Context): void;
  abstract decodeFrom(reader: ByteReader, context: Context): T;

  encode(value: T, context: Context = "nested"): Uint8Array {
    // One scratch writer serves all top-level encodes; a re-entrant encode
    // (a coder calling `encode` inside `encodeTo`) gets its own.
    const w = scratch ?? new ByteWriter(1024);
    scratch = undefined;
    try {
      w.reset();
      this.encodeTo(value, w, context);
      return w.toBytes();
    } catch (err) {
      throw asEncodeError(err, this, value);
    } finally {
      if (w.buf.length <= 1 << 20) scratch = w;
    }
  }

  decode(bytes: Uint8Array, context: Context = "nested", options?: DecodeOptions): T {
    const reader = new ByteReader(bytes, options);
    let value: T;
    try {
      value = this.decodeFrom(reader, context);
    } catch (err) {
      throw asDecodeError(err, this, reader);
    }
    if (reader.pos !== reader.end) {
      throw new CoderError({
        urn: this.urn,
        coderId: this.coderId,
        offset: reader.pos,
        expected: "the end of the input",
        actual: `${reader.end - reader.pos} more bytes`,
      });
    }
    return value;
  }

  /** `urn` or `urn (coder "id")`, for messages. */
  toString(): string {
    return this.coderId === undefined
      ? this.urn
      : `${this.urn} (coder ${JSON.stringify(this.coderId)})`;
  }
}

/**
 * Turns anything a one-shot decode threw into a `CoderError`: an underflow
 * means truncated input; other exceptions (which a correct coder never
 * throws) are wrapped with their cause.
 */
export function asDecodeError(err: unknown, coder: CoderIdentity, reader: ByteReader): CoderError {
  if (err instanceof CoderError) return err;
  if (err instanceof ByteUnderflow) {
    return new CoderError({
      urn: coder.urn,
      coderId: coder.coderId,
      offset: err.offset,
      expected: `${err.needed - err.offset} more bytes (truncated input)`,
      actual: `${Math.max(0, reader.end - err.offset)} bytes`,
    });
  }
  return new CoderError({
    urn: coder.urn,
    coderId: coder.coderId,
    offset: reader.pos,
    expected: "decodable bytes",
    actual: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    cause: err,
  });
}

/** Turns anything an encode threw into a `CoderError` naming the coder. */
export function asEncodeError(err: unknown, coder: CoderIdentity, value: unknown): CoderError {
  if (err instanceof CoderError) return err;
  return new CoderError({
    urn: coder.urn,
    coderId: coder.coderId,
    operation: "encode",
    expected: `a value this coder can encode (${err instanceof Error ? err.message : String(err)})`,
    actual: describeValue(value),
    cause: err,
  });
}
