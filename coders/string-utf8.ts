/** `beam:coder:string_utf8:v1`: UTF-8 text; nested, it is prefixed with its byte length. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { MAX_ASCII_FAST, shortAscii, shortAsciiNested, writeAscii } from "./ascii.js";
import type { DecodeGen, EncodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const STRING_UTF8_URN = "beam:coder:string_utf8:v1";

/**
 * Strings ↔ UTF-8. Invalid UTF-8 decodes with U+FFFD replacements and lone
 * surrogates encode as U+FFFD (as Beam Java does).
 */
export class StringUtf8Coder extends BaseCoder<string> implements InlineCoder<string> {
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

  /** Inline: short ASCII strings in place; the rest through the interpreted coder. */
  emitDecode(g: DecodeGen, context: Context): string {
    const s = g.local("s");
    if (context === "nested") {
      g.line(`let ${s} = ${g.ref(shortAsciiNested)}(b, p, end);`);
      g.branch(
        `${s} !== undefined`,
        () => g.line(`p += 1 + ${s}.length;`),
        () => g.interpretInto(s, this, context),
      );
    } else {
      g.line(
        `let ${s} = end - p <= ${MAX_ASCII_FAST} ? ${g.ref(shortAscii)}(b, p, end - p) : undefined;`,
      );
      g.branch(
        `${s} !== undefined`,
        () => g.line("p = end;"),
        () => g.interpretInto(s, this, context),
      );
    }
    return s;
  }

  /** Inline: ASCII strings of up to 127 units in place; the rest (and errors) interpreted. */
  emitEncode(g: EncodeGen, value: string, context: Context): void {
    const prefix = context === "nested" ? 1 : 0;
    const write = g.ref(writeAscii);
    g.branch(
      `typeof ${value} === "string" && ${value}.length < 128`,
      () => {
        g.ensure(`${prefix} + ${value}.length`);
        g.branch(
          `${write}(b, p + ${prefix}, ${value})`,
          () => {
            if (prefix === 1) g.line(`b[p] = ${value}.length;`);
            g.line(`p += ${prefix} + ${value}.length;`);
          },
          () => g.interpret(this, value, context),
        );
      },
      () => g.interpret(this, value, context),
    );
  }
}

registerCoder(STRING_UTF8_URN, ({ coderId }) => new StringUtf8Coder(coderId));
