/**
 * `firefly:coder:json:v1`: a JSON value as UTF-8 JSON text (nested: prefixed
 * with its byte length, like `string_utf8`). The pipeline builder's default
 * coder for values whose type is not declared. Values are what
 * `JSON.stringify` keeps: objects, arrays, strings, finite numbers, booleans
 * and null; bigints, `undefined`, functions and non-finite numbers are
 * refused (they would not round-trip). Not a Beam standard coder: runners
 * length-prefix it and pass the bytes through.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Context } from "./coder.js";
import { decodeError, encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const JSON_URN = "firefly:coder:json:v1";

function refuseLossy(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") throw new TypeError("a bigint has no JSON form");
  if (typeof value === "number" && !Number.isFinite(value))
    throw new TypeError(`${value} has no JSON form`);
  return value;
}

export class JsonCoder extends BaseCoder<unknown> {
  readonly urn = JSON_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: unknown, writer: ByteWriter, context: Context): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(value, refuseLossy);
    } catch {
      text = undefined;
    }
    if (text === undefined) throw encodeError(this, "a JSON value", value);
    if (context === "nested") writer.writeUtf8LengthPrefixed(text);
    else writer.writeUtf8(text);
  }

  decodeFrom(reader: ByteReader, context: Context): unknown {
    const start = reader.pos;
    const n = context === "nested" ? reader.readLength(this) : reader.end - reader.pos;
    const text = reader.readUtf8(n);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw decodeError(this, start, "JSON text", err instanceof Error ? err.message : String(err));
    }
  }
}

registerCoder(JSON_URN, ({ coderId }) => new JsonCoder(coderId));
