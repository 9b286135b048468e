/**
 * google-protobuf 3.x decodes a string field by looping over as many bytes as
 * its length prefix claims, without checking the prefix against the message:
 * a forged length (bad bytes in a transform payload, say) makes
 * `deserializeBinary` spin for minutes and freezes the worker. Its bytes
 * reader does check. This module makes the string reader check too: a length
 * past the end of the message throws, like any other malformed input, and the
 * caller's error handling names what was being parsed.
 *
 * The decoder class is not exported, so it is reached through a reader
 * instance; its method is patched under both of its names (the exported
 * `readString` and the minified alias the generated readers call).
 */
import * as jspb from "google-protobuf";

interface Decoder {
  getCursor(): number;
  getEnd(): number;
  readString(length: number): string;
}

export class ProtobufLengthError extends Error {
  constructor(length: number, available: number) {
    super(
      `malformed protobuf: a string field claims ${length} bytes, but only ${available} remain in its message`,
    );
    this.name = "ProtobufLengthError";
  }
}

function hardenStringDecoding(): void {
  const reader = new jspb.BinaryReader(new Uint8Array(0)) as unknown as Record<string, unknown>;
  const decoder = Object.values(reader).find(
    (v): v is Decoder =>
      v !== null && typeof v === "object" && typeof (v as Decoder).readString === "function",
  );
  if (!decoder) throw new Error("google-protobuf: cannot find the binary decoder to harden");
  const proto = Object.getPrototypeOf(decoder) as Record<string, unknown>;
  const original = proto.readString as Decoder["readString"] & { hardened?: boolean };
  if (original.hardened) return;
  const checked = function (this: Decoder, length: number): string {
    const available = this.getEnd() - this.getCursor();
    if (!(length >= 0 && length <= available)) throw new ProtobufLengthError(length, available);
    return original.call(this, length);
  };
  Object.assign(checked, { hardened: true });
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (proto[name] === original) proto[name] = checked;
  }
}

hardenStringDecoding();
