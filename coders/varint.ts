/** `beam:coder:varint:v1`: an int64 as a varint (two's complement: -1 is ten bytes). */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { DecodeGen, EncodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { isInt64 } from "./int64.js";
import { registerCoder } from "./registry.js";

export const VARINT_URN = "beam:coder:varint:v1";

/** Integers ↔ varint: decodes to a `number` when safe, else a `bigint`; encodes either. */
export class VarIntCoder
  extends BaseCoder<number | bigint>
  implements InlineCoder<number | bigint>
{
  readonly urn = VARINT_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: number | bigint, writer: ByteWriter): void {
    if (typeof value === "number") {
      if (value >>> 0 === value) {
        writer.writeUVarInt32(value);
        return;
      }
      if (value >>> 0 !== value && !Number.isSafeInteger(value)) {
        throw encodeError(this, "a safe integer or an int64 bigint", value);
      }
    } else if (typeof value !== "bigint" || !isInt64(value)) {
      throw encodeError(this, "a safe integer or an int64 bigint", value);
    }
    writer.writeVarInt(value);
  }

  decodeFrom(reader: ByteReader): number | bigint {
    return reader.readVarInt(this);
  }

  /** Inline: values below 2^35 (five bytes) in place; the rest through the reader. */
  emitDecode(g: DecodeGen): string {
    const v = g.local("n");
    const x = g.local("x");
    const slow = (): void => g.call(`${v} = r.readVarInt(${g.ref(this)})`);
    g.line(`let ${v};`);
    g.branch(
      "p + 5 <= end",
      () => {
        g.line(`let ${x} = b[p];`);
        g.line(`if (${x} < 0x80) { ${v} = ${x}; p += 1; }`);
        g.line(`else { ${v} = ${x} & 0x7f; ${x} = b[p + 1]; ${v} |= (${x} & 0x7f) << 7;`);
        g.line(` if (${x} < 0x80) p += 2;`);
        g.line(` else { ${x} = b[p + 2]; ${v} |= (${x} & 0x7f) << 14;`);
        g.line(`  if (${x} < 0x80) p += 3;`);
        g.line(`  else { ${x} = b[p + 3]; ${v} |= (${x} & 0x7f) << 21;`);
        g.line(`   if (${x} < 0x80) p += 4;`);
        g.line(`   else { ${x} = b[p + 4];`);
        g.line(`    if (${x} < 0x80) { ${v} += ${x} * 268435456; p += 5; }`);
        g.line(`    else { r.pos = p; ${v} = r.readVarInt(${g.ref(this)}); p = r.pos; } } } } }`);
      },
      slow,
    );
    return v;
  }

  /** Inline: unsigned 32-bit numbers in place; the rest (and errors) interpreted. */
  emitEncode(g: EncodeGen, value: string, context: Context): void {
    g.branch(
      `typeof ${value} === "number" && ${value} >>> 0 === ${value}`,
      () => {
        const x = g.local("x");
        g.ensure("5");
        g.line(`let ${x} = ${value};`);
        g.line(`while (${x} >= 0x80) { b[p++] = (${x} & 0x7f) | 0x80; ${x} >>>= 7; }`);
        g.line(`b[p++] = ${x};`);
      },
      () => g.interpret(this, value, context),
    );
  }
}

registerCoder(VARINT_URN, ({ coderId }) => new VarIntCoder(coderId));
