/**
 * Apache Beam's own TypeScript coders (`apache-beam` 2.49, a dev dependency)
 * as an independent implementation to cross-check bytes against, and a
 * translation of Firefly values into Beam's value model (Long timestamps,
 * window classes).
 */
import { createRequire } from "node:module";
import type { CoderSpec } from "../../../coders/index.js";

const require = createRequire(import.meta.url);
const beamMain = require.resolve("apache-beam");
const beamRequire = createRequire(beamMain);

/** A Beam TypeScript coder (protobufjs `Writer`/`Reader` based). */
export interface BeamCoder {
  encode(value: unknown, writer: BeamWriter, context: string): void;
  decode(reader: BeamReader, context: string): unknown;
}
export interface BeamWriter {
  finish(): Uint8Array;
}
export interface BeamReader {
  pos: number;
  len: number;
}

interface LongStatic {
  fromString(s: string): unknown;
}

const coders = require("apache-beam/coders/coders") as {
  Context: { wholeStream: string; needsDelimiters: string };
};
const standard = require("apache-beam/coders/standard_coders") as Record<
  string,
  new (...args: unknown[]) => BeamCoder
>;
const rowCoders = require("apache-beam/coders/row_coder") as {
  RowCoder: new (schema: Uint8Array) => BeamCoder;
};
const values = require("apache-beam/values") as {
  GlobalWindow: new () => object;
  IntervalWindow: new (start: unknown, end: unknown) => object;
};
const protobuf = beamRequire("protobufjs") as {
  Writer: { create(): BeamWriter };
  Reader: { create(bytes: Uint8Array): BeamReader };
};
const Long = beamRequire("long") as LongStatic;

/** Beam's context names. */
export function beamContext(context: "nested" | "outer"): string {
  return context === "nested" ? coders.Context.needsDelimiters : coders.Context.wholeStream;
}

/** Builds Beam's coder for a spec (only the URNs Beam's TypeScript SDK implements). */
export function beamCoder(spec: CoderSpec): BeamCoder {
  const c = (spec.components ?? []).map(beamCoder);
  switch (spec.urn) {
    case "beam:coder:bytes:v1":
      return new standard.BytesCoder!();
    case "beam:coder:string_utf8:v1":
      return new standard.StrUtf8Coder!();
    case "beam:coder:varint:v1":
      return new standard.VarIntCoder!();
    case "beam:coder:bool:v1":
      return new standard.BoolCoder!();
    case "beam:coder:double:v1":
      return new standard.DoubleCoder!();
    case "beam:coder:kv:v1":
      return new standard.KVCoder!(c[0], c[1]);
    case "beam:coder:iterable:v1":
      return new standard.IterableCoder!(c[0]);
    case "beam:coder:nullable:v1":
      return new standard.NullableCoder!(c[0]);
    case "beam:coder:length_prefix:v1":
      return new standard.LengthPrefixedCoder!(c[0]);
    case "beam:coder:global_window:v1":
      return new standard.GlobalWindowCoder!();
    case "beam:coder:interval_window:v1":
      return new standard.IntervalWindowCoder!();
    case "beam:coder:windowed_value:v1":
      return new standard.FullWindowedValueCoder!(c[0], c[1]);
    case "beam:coder:row:v1":
      return new rowCoders.RowCoder(spec.payload!);
    default:
      throw new Error(`apache-beam has no coder for ${spec.urn}`);
  }
}

/** Translates a Firefly value of `spec` into Beam's value model. */
export function toBeamValue(spec: CoderSpec, value: unknown): unknown {
  const comps = spec.components ?? [];
  switch (spec.urn) {
    case "beam:coder:kv:v1": {
      const kv = value as { key: unknown; value: unknown };
      return { key: toBeamValue(comps[0]!, kv.key), value: toBeamValue(comps[1]!, kv.value) };
    }
    case "beam:coder:iterable:v1":
      return (value as unknown[]).map((v) => toBeamValue(comps[0]!, v));
    case "beam:coder:nullable:v1":
      return value === null ? null : toBeamValue(comps[0]!, value);
    case "beam:coder:length_prefix:v1":
      return toBeamValue(comps[0]!, value);
    case "beam:coder:global_window:v1":
      return new values.GlobalWindow();
    case "beam:coder:interval_window:v1": {
      const w = value as { start: bigint; end: bigint };
      return new values.IntervalWindow(
        Long.fromString(w.start.toString()),
        Long.fromString(w.end.toString()),
      );
    }
    case "beam:coder:windowed_value:v1": {
      const wv = value as { value: unknown; timestamp: bigint; windows: unknown[]; pane: object };
      return {
        value: toBeamValue(comps[0]!, wv.value),
        timestamp: Long.fromString(wv.timestamp.toString()),
        windows: wv.windows.map((w) => toBeamValue(comps[1]!, w)),
        pane: { ...wv.pane },
      };
    }
    default:
      return value;
  }
}

/** Encodes with Beam's coder. */
export function beamEncode(
  coder: BeamCoder,
  value: unknown,
  context: "nested" | "outer",
): Uint8Array {
  const writer = protobuf.Writer.create();
  coder.encode(value, writer, beamContext(context));
  return writer.finish();
}

/** A new protobufjs writer (Beam's coders write into one). */
export function beamWriter(): BeamWriter {
  return protobuf.Writer.create();
}

/** A protobufjs reader over `bytes`. */
export function beamReader(bytes: Uint8Array): BeamReader {
  return protobuf.Reader.create(bytes);
}

/** Decodes with Beam's coder. */
export function beamDecode(
  coder: BeamCoder,
  bytes: Uint8Array,
  context: "nested" | "outer",
): unknown {
  return coder.decode(protobuf.Reader.create(bytes), beamContext(context));
}

export { Long };
