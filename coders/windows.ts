/**
 * The list of windows inside windowed values and timers: Beam's
 * `CollectionCoder` of the window coder (a 4-byte count, or the block form).
 * A single global window is the common case and takes a fast path with the
 * shared frozen {@link GLOBAL_WINDOWS} array.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { Coder } from "./coder.js";
import { decodeError, encodeError, type CoderIdentity } from "./errors.js";
import { GLOBAL_WINDOW_URN } from "./global-window.js";
import { IterableCoder } from "./iterable.js";
import { GLOBAL_WINDOWS, type BoundedWindow } from "./values.js";

/** Encodes and decodes window lists for a window coder. */
export class WindowsCodec {
  private readonly list: IterableCoder<BoundedWindow>;
  /** True when the window coder is the global window's. */
  readonly global: boolean;

  constructor(
    readonly windowCoder: Coder<BoundedWindow>,
    private readonly owner: CoderIdentity,
  ) {
    this.list = new IterableCoder(windowCoder, owner.coderId);
    this.global = windowCoder.urn === GLOBAL_WINDOW_URN;
  }

  /** The least bytes a window list takes. */
  get minSize(): number {
    return 4;
  }

  write(writer: ByteWriter, windows: readonly BoundedWindow[]): void {
    if (!Array.isArray(windows)) throw encodeError(this.owner, "an array of windows", windows);
    if (this.global && windows.length === 1) writer.writeInt32BE(1);
    else this.list.encodeTo(windows as BoundedWindow[], writer);
  }

  read(reader: ByteReader): readonly BoundedWindow[] {
    if (this.global) {
      const p = reader.pos;
      const b = reader.buf;
      if (p + 4 <= reader.end && b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 0 && b[p + 3] === 1) {
        reader.pos = p + 4;
        return GLOBAL_WINDOWS;
      }
    }
    const at = reader.pos;
    const windows = this.list.decodeFrom(reader);
    if (!Array.isArray(windows))
      throw decodeError(this.owner, at, "a list of windows", "a state-backed iterable");
    return windows;
  }
}
