/**
 * `beam:transform:to_string:v1` (no payload): input `KV<nonce, element>`,
 * output `KV<nonce, string>`, a best-effort human-readable form of the
 * element. Strings are themselves; an object whose class defines its own
 * `toString` gets it called; everything else is rendered by `util.inspect`
 * (numbers, bigints such as `5n`, byte arrays, `{key, value}` KVs, rows).
 */
import { inspect } from "node:util";
import type { WindowedValue } from "../coders/index.js";
import { errorMessage, OperationError } from "./errors.js";
import { kvInput, onlyOutput } from "./flatten.js";
import { type MaybePromise, type Operation, type Receiver, withValue } from "./operation.js";
import { registerOperation, type OperationContext } from "./registry.js";

export const TO_STRING_URN = "beam:transform:to_string:v1";

/** The human-readable form of a decoded value. */
export function humanReadable(value: unknown): string {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object") {
    const toString = (value as { toString?: unknown }).toString;
    if (
      typeof toString === "function" &&
      toString !== Object.prototype.toString &&
      toString !== Array.prototype.toString &&
      !ArrayBuffer.isView(value)
    ) {
      return String(toString.call(value));
    }
  }
  return inspect(value, { depth: 8, breakLength: Infinity, maxArrayLength: 1000 });
}

export class ToStringOperation implements Operation {
  readonly urn = TO_STRING_URN;

  constructor(
    readonly transformId: string,
    private readonly out: Receiver,
  ) {}

  process(element: WindowedValue<unknown>): MaybePromise {
    const kv = kvInput(this.transformId, this.urn, element, "KV<nonce, value>");
    let text: string;
    try {
      text = humanReadable(kv.value);
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot render the element: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return this.out.process(withValue(element, { key: kv.key, value: text }));
  }
}

registerOperation(
  TO_STRING_URN,
  (op: OperationContext) => new ToStringOperation(op.transformId, onlyOutput(op, TO_STRING_URN)),
);
