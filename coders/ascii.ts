/**
 * Fast decoding of short ASCII strings. `String.fromCharCode` with a fixed
 * number of arguments is about twice as fast as any native slice for short
 * strings (no call into C++), but JavaScript cannot spread a byte range into
 * arguments cheaply; so one function per length is generated once, each
 * passing its bytes as explicit arguments.
 */

/** The longest string decoded this way. */
export const MAX_ASCII_FAST = 32;

type AsciiAt = (bytes: Uint8Array, offset: number) => string;

const BY_LENGTH: readonly AsciiAt[] = Array.from({ length: MAX_ASCII_FAST + 1 }, (_, n) => {
  const args = Array.from({ length: n }, (_, i) => `b[p + ${i}]`).join(", ");
  const make = new Function("f", `return function ascii${n}(b, p) { return f(${args}); };`) as (
    f: typeof String.fromCharCode,
  ) => AsciiAt;
  return make(String.fromCharCode);
});

/**
 * The string of `n` (at most {@link MAX_ASCII_FAST}) bytes at `offset` if
 * they are all ASCII, else `undefined`.
 */
export function shortAscii(bytes: Uint8Array, offset: number, n: number): string | undefined {
  let any = 0;
  for (let i = 0; i < n; i++) any |= bytes[offset + i]!;
  return any < 0x80 ? BY_LENGTH[n]!(bytes, offset) : undefined;
}
