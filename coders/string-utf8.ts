/** `beam:coder:string_utf8:v1`: UTF-8 text; nested, it is prefixed with its byte length. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const STRING_UTF8_URN = "beam:coder:string_utf8:v1";

/**
 * Strings ↔ UTF-8. Invalid UTF-8 decodes with U+FFFD replacements and lone
 * surrogates encode as U+FFFD (as Beam Java does).
 */
export class StringUtf8Coder extends BaseCoder<string> {
  readonly urn = STRING_UTF8_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: string, writer: ByteWriter, context: Context): void {
    if (typeof value !== "string") throw encodeError(this, "a string", value);
    if (context === "nested") writer.writeUtf8LengthPrefixed(value);
    else writer.writeUtf8(value);
  }

  decodeFrom(reader: ByteReader, context: Context): string {
    const n = context === "nested" ? reader.readLength(this) : reader.end - reader.pos;
    return reader.readUtf8(n);
  }
}

registerCoder(STRING_UTF8_URN, ({ coderId }) => new StringUtf8Coder(coderId));
