/** `beam:coder:global_window:v1`: the global window, encoded as nothing. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { DecodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder } from "./coder.js";
import { registerCoder } from "./registry.js";
import { GLOBAL_WINDOW, type GlobalWindow } from "./values.js";

export const GLOBAL_WINDOW_URN = "beam:coder:global_window:v1";

/** Decodes to the {@link GLOBAL_WINDOW} singleton; encodes any value as zero bytes. */
export class GlobalWindowCoder
  extends BaseCoder<GlobalWindow>
  implements InlineCoder<GlobalWindow>
{
  readonly urn = GLOBAL_WINDOW_URN;
  readonly minSize = 0;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(_value: GlobalWindow, _writer: ByteWriter): void {}

  decodeFrom(_reader: ByteReader): GlobalWindow {
    return GLOBAL_WINDOW;
  }

  emitDecode(g: DecodeGen): string {
    return g.ref(GLOBAL_WINDOW);
  }

  emitEncode(): void {}
}

registerCoder(GLOBAL_WINDOW_URN, ({ coderId }) => new GlobalWindowCoder(coderId));
