/**
 * Fast decoding of short ASCII strings. `String.fromCharCode` with a fixed
 * number of arguments is about twice as fast as any native slice for short
 * strings (no call into C++), but JavaScript cannot spread a byte range into
 * arguments cheaply; so one function per length is generated once, each
 * passing its bytes as explicit arguments.
 */

/** The longest string decoded this way. */
export const MAX_ASCII_FAST = 32;

type AsciiAt = (bytes: Uint8Array, offset: number) => string | undefined;

const BY_LENGTH: readonly AsciiAt[] = Array.from({ length: MAX_ASCII_FAST + 1 }, (_, n) => {
  const names = Array.from({ length: n }, (_, i) => `c${i}`);
  const body =
    n === 0
      ? `return "";`
      : `${names.map((c, i) => `const ${c} = b[p + ${i}];`).join(" ")}
         return (${names.join(" | ")}) < 0x80 ? f(${names.join(", ")}) : undefined;`;
  const make = new Function("f", `return function ascii${n}(b, p) { ${body} };`) as (
    f: typeof String.fromCharCode,
  ) => AsciiAt;
  return make(String.fromCharCode);
});

/**
 * The string of `n` (at most {@link MAX_ASCII_FAST}) bytes at `offset` if
 * they are all ASCII, else `undefined`. Each byte is read once.
 */
export function shortAscii(bytes: Uint8Array, offset: number, n: number): string | undefined {
  return BY_LENGTH[n]!(bytes, offset);
}

/**
 * The nested (length-prefixed) string at `offset` when its length fits one
 * varint byte, is at most {@link MAX_ASCII_FAST}, lies before `end` and its
 * bytes are ASCII; else `undefined`. Its encoded size is `1 + length`.
 */
export function shortAsciiNested(
  bytes: Uint8Array,
  offset: number,
  end: number,
): string | undefined {
  if (offset >= end) return undefined;
  const n = bytes[offset]!;
  if (n > MAX_ASCII_FAST || offset + 1 + n > end) return undefined;
  return shortAscii(bytes, offset + 1, n);
}

/**
 * Writes the UTF-16 units of `s` as bytes at `offset` (the caller made room
 * for `s.length` bytes) and returns true when they are all ASCII; stops and
 * returns false at the first unit that is not.
 */
export function writeAscii(bytes: Uint8Array, offset: number, s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return false;
    bytes[offset + i] = c;
  }
  return true;
}
