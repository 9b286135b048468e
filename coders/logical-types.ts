/**
 * Schema logical types. A logical type is encoded with the coder of its
 * representation type, except where Beam SDKs agree on something else:
 * - `beam:logical_type:millis_instant:v1` → `bigint` millis, 8 bytes like a
 *   timestamp (Java's `InstantCoder`, as Java encodes `DATETIME` fields);
 * - `beam:logical_type:micros_instant:v1` → `bigint` micros, encoded as its
 *   representation row `{seconds: INT64, micros: INT64}`;
 * - `beam:logical_type:decimal:v1` → {@link Decimal}, encoded as Java's
 *   `BigDecimalCoder`: the scale as an int32 varint, then the unscaled value
 *   as length-prefixed big-endian two's complement bytes.
 * Any other URN decodes to its representation's value (e.g. `fixed_char` and
 * `var_char` to strings, `fixed_bytes` and `var_bytes` to `Uint8Array`).
 * Plugins add more with {@link registerLogicalType}.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { decodeError, encodeError } from "./errors.js";
import { parseDecimal, type Decimal } from "./values.js";

/** Builds the coder of a logical type from its representation's coder. */
export type LogicalTypeFactory = (
  representation: Coder<unknown> | undefined,
  path: string,
) => Coder<unknown>;

const logicalTypes = new Map<string, LogicalTypeFactory>();

/** Registers (or replaces) the coder of a logical type URN. */
export function registerLogicalType(urn: string, factory: LogicalTypeFactory): void {
  logicalTypes.set(urn, factory);
}

/** The coder of a logical type: registered, or its representation's. */
export function logicalTypeCoder(
  urn: string,
  representation: Coder<unknown> | undefined,
  path: string,
): Coder<unknown> {
  const factory = logicalTypes.get(urn);
  if (factory !== undefined) return factory(representation, path);
  if (representation === undefined)
    throw new TypeError(`logical type ${urn} has no representation type`);
  return representation;
}

export const MILLIS_INSTANT_URN = "beam:logical_type:millis_instant:v1";
export const MICROS_INSTANT_URN = "beam:logical_type:micros_instant:v1";
export const DECIMAL_URN = "beam:logical_type:decimal:v1";

/** `millis_instant` ↔ `bigint` millis (numbers accepted when encoding). */
export class MillisInstantCoder extends BaseCoder<bigint> {
  readonly urn = MILLIS_INSTANT_URN;
  readonly minSize = 8;
  encodeTo(v: bigint, w: ByteWriter): void {
    if (typeof v !== "bigint" && !Number.isSafeInteger(v))
      throw encodeError(this, "bigint millis", v);
    w.writeTimestamp(v);
  }
  decodeFrom(r: ByteReader): bigint {
    return r.readTimestamp();
  }
}

const MICROS = 1000000n;

/** `micros_instant` ↔ `bigint` micros since the epoch (via the `{seconds, micros}` representation). */
export class MicrosInstantCoder extends BaseCoder<bigint> {
  readonly urn = MICROS_INSTANT_URN;
  readonly minSize: number;
  constructor(
    private readonly representation: Coder<unknown>,
    coderId?: string,
  ) {
    super([representation], coderId);
    this.minSize = representation.minSize;
  }
  encodeTo(v: bigint, w: ByteWriter): void {
    if (typeof v !== "bigint" && !Number.isSafeInteger(v))
      throw encodeError(this, "bigint micros", v);
    const micros = BigInt(v);
    let seconds = micros / MICROS;
    let rest = micros % MICROS;
    if (rest < 0n) {
      seconds -= 1n;
      rest += MICROS;
    }
    this.representation.encodeTo({ seconds: asNumber(seconds), micros: Number(rest) }, w, "nested");
  }
  decodeFrom(r: ByteReader): bigint {
    const at = r.pos;
    const rep = this.representation.decodeFrom(r, "nested") as {
      seconds?: unknown;
      micros?: unknown;
    } | null;
    const s = rep?.seconds;
    const m = rep?.micros;
    if (
      (typeof s !== "number" && typeof s !== "bigint") ||
      (typeof m !== "number" && typeof m !== "bigint")
    ) {
      throw decodeError(this, at, "a {seconds, micros} row without nulls");
    }
    return BigInt(s) * MICROS + BigInt(m);
  }
}

function asNumber(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** `decimal` ↔ {@link Decimal} (strings such as `"3.1415"` accepted when encoding). */
export class DecimalCoder extends BaseCoder<Decimal> {
  readonly urn = DECIMAL_URN;
  readonly minSize = 2;
  encodeTo(v: Decimal | string, w: ByteWriter): void {
    let d: Decimal;
    try {
      d = typeof v === "string" ? parseDecimal(v) : v;
    } catch {
      throw encodeError(this, "a decimal string", v);
    }
    if (
      typeof d !== "object" ||
      d === null ||
      typeof d.unscaled !== "bigint" ||
      (d.scale | 0) !== d.scale
    ) {
      throw encodeError(this, "a {unscaled: bigint, scale: int32} decimal", v);
    }
    w.writeUVarInt32(d.scale >>> 0);
    w.writeLengthPrefixed(twosComplementBytes(d.unscaled));
  }
  decodeFrom(r: ByteReader): Decimal {
    const at = r.pos;
    const scaleRaw = r.readVarInt(this);
    if (typeof scaleRaw !== "number" || scaleRaw < -0x80000000 || scaleRaw > 0xffffffff) {
      throw decodeError(this, at, "an int32 scale", String(scaleRaw));
    }
    const bytesAt = r.pos;
    const bytes = r.readLengthPrefixed(this);
    if (bytes.length === 0)
      throw decodeError(this, bytesAt, "at least one byte of unscaled value", "none");
    return { unscaled: fromTwosComplement(bytes), scale: scaleRaw | 0 };
  }
}

/** Minimal big-endian two's complement bytes of `v` (Java's `BigInteger.toByteArray`). */
export function twosComplementBytes(v: bigint): Uint8Array {
  let n = 1;
  while (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1)) n++;
  let u = BigInt.asUintN(8 * n, v);
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

/** Parses big-endian two's complement bytes. */
export function fromTwosComplement(bytes: Uint8Array): bigint {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  return BigInt.asIntN(bytes.length * 8, BigInt(`0x${hex}`));
}

registerLogicalType(MILLIS_INSTANT_URN, (_rep, path) => new MillisInstantCoder([], path));
registerLogicalType(MICROS_INSTANT_URN, (rep, path) => {
  if (rep === undefined)
    throw new TypeError(`${MICROS_INSTANT_URN} needs its representation row type`);
  return new MicrosInstantCoder(rep, path);
});
registerLogicalType(DECIMAL_URN, (_rep, path) => new DecimalCoder([], path));
