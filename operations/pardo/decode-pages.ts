/**
 * Decodes the values of a State API response: the pages concatenated form a
 * stream of nested-context encoded values (a value may span pages).
 */
import { StreamDecoder, type Coder } from "../../coders/index.js";

export function decodePages<T>(pages: readonly Uint8Array[], coder: Coder<T>): T[] {
  const decoder = new StreamDecoder(coder);
  const values: T[] = [];
  for (const page of pages) {
    decoder.push(page);
    for (let v = decoder.next(); v !== undefined; v = decoder.next()) values.push(v);
  }
  decoder.finish();
  return values;
}
