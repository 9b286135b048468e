/**
 * Errors of the coder layer.
 *
 * `CoderError` is the one typed error every coder throws: for bytes that do
 * not decode (truncated, malformed, forged lengths), for values that do not
 * encode, and for coder specs that cannot be built (unknown URN, bad payload).
 *
 * `ByteUnderflow` is not an error: it is the signal a `ByteReader` throws when
 * a read needs bytes past the end of its input. One-shot `decode` turns it
 * into a `CoderError` (truncated input); `StreamDecoder` catches it and waits
 * until `needed` bytes are buffered before retrying.
 */

/** What the coder was doing when it failed. */
export type CoderOperation = "decode" | "encode" | "build";

/** The identity of a coder as errors report it. */
export interface CoderIdentity {
  readonly urn: string;
  readonly coderId?: string | undefined;
}

/** Fields of a {@link CoderError}. */
export interface CoderErrorDetails {
  /** The URN of the coder that failed (the innermost one that knows). */
  urn: string;
  /** The coder's id in the pipeline's `Components`, when it was built from a proto. */
  coderId?: string | undefined;
  /** @default "decode" */
  operation?: CoderOperation;
  /** Byte offset in the input (decode) or output (encode) where it failed. */
  offset?: number | undefined;
  /** What the coder expected to find, e.g. `"a varint of at most 10 bytes"`. */
  expected: string;
  /** What it found instead, when that helps, e.g. `"byte 0x07"`. */
  actual?: string | undefined;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** The plain-object form of a {@link CoderError} (`toJSON()`), safe to post between threads. */
export interface CoderErrorJson {
  name: "CoderError";
  message: string;
  urn: string;
  coderId?: string | undefined;
  operation: CoderOperation;
  offset?: number | undefined;
  expected: string;
  actual?: string | undefined;
  stack?: string | undefined;
}

function describe(d: CoderErrorDetails): string {
  const op = d.operation ?? "decode";
  const who = d.coderId === undefined ? d.urn : `${d.urn} (coder ${JSON.stringify(d.coderId)})`;
  const where = d.offset === undefined ? "" : ` at byte ${d.offset}`;
  const got = d.actual === undefined ? "" : `, got ${d.actual}`;
  return `cannot ${op} ${who}${where}: expected ${d.expected}${got}`;
}

/**
 * Thrown when bytes do not decode, a value does not encode, or a coder spec
 * cannot be built. Never thrown for "not enough bytes yet" inside a
 * `StreamDecoder` (that waits), only when the stream ends truncated.
 *
 * `name` is an own property `"CoderError"`. Structured clone (`postMessage`)
 * keeps only `message` and `stack` of an Error: post `err.toJSON()` and use
 * {@link CoderError.fromJSON} (or {@link isCoderError}) on the other side.
 */
export class CoderError extends Error {
  readonly urn: string;
  readonly coderId: string | undefined;
  readonly operation: CoderOperation;
  readonly offset: number | undefined;
  readonly expected: string;
  readonly actual: string | undefined;

  constructor(details: CoderErrorDetails, message: string = describe(details)) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    Object.defineProperty(this, "name", {
      value: "CoderError",
      enumerable: false,
      writable: true,
      configurable: true,
    });
    this.urn = details.urn;
    this.coderId = details.coderId;
    this.operation = details.operation ?? "decode";
    this.offset = details.offset;
    this.expected = details.expected;
    this.actual = details.actual;
  }

  /** A copy of this error with another offset (e.g. relative to a whole stream). */
  withOffset(offset: number, prefix = ""): CoderError {
    const details: CoderErrorDetails = { ...this.details(), offset, cause: this };
    return new CoderError(details, prefix + describe(details));
  }

  /** The fields of this error. */
  details(): CoderErrorDetails {
    return {
      urn: this.urn,
      coderId: this.coderId,
      operation: this.operation,
      offset: this.offset,
      expected: this.expected,
      actual: this.actual,
    };
  }

  /** A plain object that survives structured clone. */
  toJSON(): CoderErrorJson {
    return {
      name: "CoderError",
      message: this.message,
      stack: this.stack,
      ...this.details(),
    } as CoderErrorJson;
  }

  /** Rebuilds a `CoderError` from {@link CoderError.toJSON}'s output. */
  static fromJSON(json: CoderErrorJson): CoderError {
    const err = new CoderError(json, json.message);
    if (json.stack !== undefined) err.stack = json.stack;
    return err;
  }
}

/**
 * True for a `CoderError`, its `toJSON()` form, or an Error that crossed a
 * thread boundary by structured clone (its stack still starts with `CoderError:`).
 */
export function isCoderError(err: unknown): boolean {
  if (err instanceof CoderError) return true;
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; stack?: unknown };
  return (
    e.name === "CoderError" || (typeof e.stack === "string" && e.stack.startsWith("CoderError:"))
  );
}

/**
 * Thrown by `ByteReader` when a read runs past the end of its input. Not an
 * Error (no stack is captured: it is cheap and expected while streaming).
 * `needed` is the input length (in the reader's coordinates, i.e. an index
 * into its bytes) the failed read requires.
 */
export class ByteUnderflow {
  constructor(
    /** The end index the failed read needs the input to reach. */
    readonly needed: number,
    /** Where the failed read started. */
    readonly offset: number,
  ) {}
}

/** Builds a decode `CoderError` for `coder` at `offset`. */
export function decodeError(
  coder: CoderIdentity,
  offset: number,
  expected: string,
  actual?: string,
): CoderError {
  return new CoderError({ urn: coder.urn, coderId: coder.coderId, offset, expected, actual });
}

/** Builds an encode `CoderError` for `coder`: the value did not fit the coder. */
export function encodeError(coder: CoderIdentity, expected: string, value: unknown): CoderError {
  return new CoderError({
    urn: coder.urn,
    coderId: coder.coderId,
    operation: "encode",
    expected,
    actual: describeValue(value),
  });
}

/** Builds a build-time `CoderError` (bad spec, unknown URN, bad payload). */
export function buildError(
  urn: string,
  coderId: string | undefined,
  expected: string,
  actual?: string,
  cause?: unknown,
): CoderError {
  return new CoderError({ urn, coderId, operation: "build", expected, actual, cause });
}

/** A short description of a value for error messages (never the whole value). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "bigint":
      return `bigint ${value}`;
    case "number":
    case "boolean":
      return `${typeof value} ${value}`;
    case "string":
      return `string of length ${value.length}`;
    case "object":
      if (value instanceof Uint8Array) return `Uint8Array of length ${value.length}`;
      if (Array.isArray(value)) return `array of length ${value.length}`;
      return `object ${value.constructor?.name ?? "(no prototype)"}`;
    default:
      return typeof value;
  }
}
