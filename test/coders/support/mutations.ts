/**
 * Mutations of valid encodings for fuzz-style property tests: flipped bytes,
 * truncation, insertion and forged lengths.
 */
import fc from "fast-check";

export type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert" | "forge"; at: number; bytes: Uint8Array };

/** Mutations of a valid encoding: flipped bytes, truncation, insertion, forged lengths. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 10 }),
  }),
  fc.record({
    kind: fc.constant("forge" as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07),
      Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    ),
  }),
);

export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = m.at % (bytes.length + 1);
  const out = Buffer.from(bytes);
  switch (m.kind) {
    case "flip":
      if (bytes.length > 0) out[at % bytes.length] = m.byte;
      return out;
    case "truncate":
      return out.subarray(0, at);
    case "insert":
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    case "forge":
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at + m.bytes.length)]);
  }
}
