/** `beam:coder:bool:v1`: one byte, 0 or 1. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { DecodeGen, EncodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder, type Context } from "./coder.js";
import { decodeError, encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const BOOL_URN = "beam:coder:bool:v1";

/** Booleans ↔ one byte; any byte but 0 and 1 is a `CoderError`. */
export class BoolCoder extends BaseCoder<boolean> implements InlineCoder<boolean> {
  readonly urn = BOOL_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: boolean, writer: ByteWriter): void {
    if (typeof value !== "boolean") throw encodeError(this, "a boolean", value);
    writer.writeByte(value ? 1 : 0);
  }

  decodeFrom(reader: ByteReader): boolean {
    const b = reader.readByte();
    if (b === 0) return false;
    if (b === 1) return true;
    throw decodeError(this, reader.pos - 1, "a bool byte 0 or 1", `0x${b.toString(16)}`);
  }

  emitDecode(g: DecodeGen, context: Context): string {
    const v = g.local("t");
    g.line(`let ${v};`);
    g.branch(
      "p < end && b[p] <= 1",
      () => g.line(`${v} = b[p++] === 1;`),
      () => g.interpretInto(v, this, context),
    );
    return v;
  }

  emitEncode(g: EncodeGen, value: string, context: Context): void {
    g.branch(
      `typeof ${value} === "boolean"`,
      () => {
        g.ensure("1");
        g.line(`b[p++] = ${value} ? 1 : 0;`);
      },
      () => g.interpret(this, value, context),
    );
  }
}

registerCoder(BOOL_URN, ({ coderId }) => new BoolCoder(coderId));
