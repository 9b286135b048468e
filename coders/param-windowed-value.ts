/**
 * `beam:coder:param_windowed_value:v1`: only the value is encoded (in the
 * given context); the timestamp, windows and pane are constants from the
 * payload, itself a `windowed_value(bytes, window)` encoding of an empty value.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BytesCoder } from "./bytes.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { buildError } from "./errors.js";
import { registerCoder } from "./registry.js";
import type { BoundedWindow, PaneInfo, Timestamp, WindowedValue } from "./values.js";
import { WindowedValueCoder } from "./windowed-value.js";

export const PARAM_WINDOWED_VALUE_URN = "beam:coder:param_windowed_value:v1";

/** The constant parts of a param windowed value. */
export interface WindowedValueParams {
  readonly timestamp: Timestamp;
  readonly windows: readonly BoundedWindow[];
  readonly pane: PaneInfo;
}

/** Decodes the payload of a param windowed value coder. */
export function parseParamWindowedValuePayload(
  payload: Uint8Array,
  windowCoder: Coder<BoundedWindow>,
  coderId?: string,
): WindowedValueParams {
  const coder = new WindowedValueCoder(new BytesCoder(), windowCoder);
  const params = ({ timestamp, windows, pane }: WindowedValueParams): WindowedValueParams =>
    Object.freeze({ timestamp, windows, pane });
  try {
    return params(coder.decode(payload, "nested"));
  } catch (nestedErr) {
    try {
      return params(coder.decode(payload, "outer"));
    } catch {
      throw buildError(
        PARAM_WINDOWED_VALUE_URN,
        coderId,
        "a payload encoding windowed_value(bytes, window) of an empty value",
        nestedErr instanceof Error ? nestedErr.message : String(nestedErr),
        nestedErr,
      );
    }
  }
}

/** Windowed values whose timestamp, windows and pane are fixed by the coder's payload. */
export class ParamWindowedValueCoder<T> extends BaseCoder<WindowedValue<T>> {
  readonly urn = PARAM_WINDOWED_VALUE_URN;
  readonly minSize: number;
  readonly valueCoder: Coder<T>;
  readonly params: WindowedValueParams;

  constructor(
    valueCoder: Coder<T>,
    windowCoder: Coder<BoundedWindow>,
    params: WindowedValueParams,
    coderId?: string,
  ) {
    super([valueCoder, windowCoder], coderId);
    this.valueCoder = valueCoder;
    this.params = params;
    this.minSize = valueCoder.minSize;
  }

  /** Encodes the value only (the timestamp, windows and pane given are ignored, as in Beam). */
  encodeTo(wv: WindowedValue<T>, writer: ByteWriter, context: Context): void {
    this.valueCoder.encodeTo(wv.value, writer, context);
  }

  decodeFrom(reader: ByteReader, context: Context): WindowedValue<T> {
    const value = this.valueCoder.decodeFrom(reader, context);
    const p = this.params;
    return { value, timestamp: p.timestamp, windows: p.windows, pane: p.pane };
  }
}

registerCoder(PARAM_WINDOWED_VALUE_URN, ({ components, coderId, payload }) => {
  const [v, w] = components;
  if (components.length !== 2 || !v || !w) {
    throw new TypeError(`param_windowed_value needs 2 components, got ${components.length}`);
  }
  const params = parseParamWindowedValuePayload(payload, w as Coder<BoundedWindow>, coderId);
  return new ParamWindowedValueCoder(v, w as Coder<BoundedWindow>, params, coderId);
});
