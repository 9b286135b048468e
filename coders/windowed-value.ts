/**
 * `beam:coder:windowed_value:v1`: timestamp (8 bytes, sign bit flipped),
 * windows (4-byte count + each window nested), pane info, then the value in
 * the given context. Components: value coder, window coder.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { DecodeGen, EncodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { int64Of, isInt64, putInt64 } from "./int64.js";
import { readPane, writePane } from "./pane-info.js";
import { registerCoder } from "./registry.js";
import { GLOBAL_WINDOWS, NO_FIRING, type BoundedWindow, type WindowedValue } from "./values.js";
import { WindowsCodec } from "./windows.js";

export const WINDOWED_VALUE_URN = "beam:coder:windowed_value:v1";

/** Windowed values ↔ `{value, timestamp, windows, pane}` (timestamps may be given as numbers). */
export class WindowedValueCoder<T>
  extends BaseCoder<WindowedValue<T>>
  implements InlineCoder<WindowedValue<T>>
{
  readonly urn = WINDOWED_VALUE_URN;
  readonly minSize: number;
  readonly valueCoder: Coder<T>;
  readonly windowCoder: Coder<BoundedWindow>;
  private readonly windows: WindowsCodec;

  constructor(valueCoder: Coder<T>, windowCoder: Coder<BoundedWindow>, coderId?: string) {
    super([valueCoder, windowCoder], coderId);
    this.valueCoder = valueCoder;
    this.windowCoder = windowCoder;
    this.windows = new WindowsCodec(windowCoder, this);
    this.minSize = 8 + 4 + 1 + valueCoder.minSize;
  }

  encodeTo(wv: WindowedValue<T>, writer: ByteWriter, context: Context): void {
    if (typeof wv !== "object" || wv === null)
      throw encodeError(this, "a {value, timestamp, windows, pane} object", wv);
    const ts = wv.timestamp;
    if (typeof ts !== "bigint" && typeof ts !== "number")
      throw encodeError(this, "a bigint timestamp", ts);
    writer.writeTimestamp(ts);
    this.windows.write(writer, wv.windows);
    writePane(writer, wv.pane, this);
    this.valueCoder.encodeTo(wv.value, writer, context);
  }

  decodeFrom(reader: ByteReader, context: Context): WindowedValue<T> {
    const timestamp = reader.readTimestamp();
    const windows = this.windows.read(reader);
    const pane = readPane(reader, this);
    const value = this.valueCoder.decodeFrom(reader, context);
    return { value, timestamp, windows, pane };
  }

  /** Inline: the timestamp, a single global window and the default pane in place. */
  emitDecode(g: DecodeGen, context: Context): string {
    const ts = g.local("ts");
    const hi = g.local("hi");
    const lo = g.local("lo");
    g.line(`let ${ts};`);
    g.branch(
      "p + 8 <= end",
      () => {
        g.line(
          `const ${hi} = ((b[p] ^ 0x80) << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];`,
        );
        g.line(
          `const ${lo} = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;`,
        );
        g.line(`if (${hi} === r.lastTsHi && ${lo} === r.lastTsLo) ${ts} = r.lastTs;`);
        g.line(
          `else { ${ts} = ${g.ref(int64Of)}(${hi}, ${lo}); r.lastTsHi = ${hi}; r.lastTsLo = ${lo}; r.lastTs = ${ts}; }`,
        );
        g.line("p += 8;");
      },
      () => g.call(`${ts} = r.readTimestamp()`),
    );
    const windows = g.local("ws");
    g.line(`let ${windows};`);
    const read = (): void => g.call(`${windows} = ${g.ref(this.windows)}.read(r)`);
    if (this.windows.global) {
      g.branch(
        "p + 4 <= end && b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 0 && b[p + 3] === 1",
        () => g.line(`${windows} = ${g.ref(GLOBAL_WINDOWS)}; p += 4;`),
        read,
      );
    } else {
      read();
    }
    const pane = g.local("pane");
    g.line(`let ${pane};`);
    g.branch(
      "p < end && b[p] === 0x0f",
      () => g.line(`${pane} = ${g.ref(NO_FIRING)}; p += 1;`),
      () => g.call(`${pane} = ${g.ref(readPane)}(r, ${g.ref(this)})`),
    );
    const value = g.decode(this.valueCoder, context);
    const wv = g.local("wv");
    g.line(
      `const ${wv} = { value: ${value}, timestamp: ${ts}, windows: ${windows}, pane: ${pane} };`,
    );
    return wv;
  }

  /** Inline: as the interpreted `encodeTo`, with the global window and default pane in place. */
  emitEncode(g: EncodeGen, wv: string, context: Context): void {
    const ts = g.local("ts");
    g.line(
      `const ${ts} = typeof ${wv} === "object" && ${wv} !== null ? ${wv}.timestamp : undefined;`,
    );
    g.branch(
      `typeof ${ts} === "bigint" || typeof ${ts} === "number"`,
      () => {
        g.branch(
          `typeof ${ts} === "bigint" && ${g.ref(isInt64)}(${ts})`,
          () => {
            g.ensure("8");
            g.line(`${g.ref(putInt64)}(b, p, ${ts}, 0x80); p += 8;`);
          },
          () => g.call(`w.writeTimestamp(${ts})`),
        );
        const windows = g.local("ws");
        g.line(`const ${windows} = ${wv}.windows;`);
        const write = (): void => g.call(`${g.ref(this.windows)}.write(w, ${windows})`);
        if (this.windows.global) {
          g.branch(
            `${windows} === ${g.ref(GLOBAL_WINDOWS)}`,
            () => {
              g.ensure("4");
              g.line("b[p] = 0; b[p + 1] = 0; b[p + 2] = 0; b[p + 3] = 1; p += 4;");
            },
            write,
          );
        } else {
          write();
        }
        const pane = g.local("pane");
        g.line(`const ${pane} = ${wv}.pane;`);
        g.branch(
          `${pane} === ${g.ref(NO_FIRING)}`,
          () => {
            g.ensure("1");
            g.line("b[p++] = 0x0f;");
          },
          () => g.call(`${g.ref(writePane)}(w, ${pane}, ${g.ref(this)})`),
        );
        const value = g.local("v");
        g.line(`const ${value} = ${wv}.value;`);
        g.encode(this.valueCoder, value, context);
      },
      () => g.interpret(this, wv, context),
    );
  }
}

registerCoder(WINDOWED_VALUE_URN, ({ components, coderId }) => {
  const [v, w] = components;
  if (components.length !== 2 || !v || !w)
    throw new TypeError(`windowed_value needs 2 components, got ${components.length}`);
  return new WindowedValueCoder(v, w as Coder<BoundedWindow>, coderId);
});
