/**
 * Loads Beam's cross-SDK coder vectors (`../shared/conformance/standard_coders.yaml`)
 * and converts their JSON-ish value notation to Firefly's value model, the
 * way Beam's `standard_coders_test.py` parses it for Python.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import {
  GLOBAL_WINDOW,
  parseDecimal,
  parseSchemaProto,
  type CoderSpec,
  type PaneInfo,
  type PaneTiming,
  type RowFieldType,
  type RowSchema,
  type StateBackedIterableReader,
} from "../../../coders/index.js";
import { repoRoot } from "../../support/paths.js";

/** Where CI checks out `shared/` beside the repository. */
export const STANDARD_CODERS_YAML = path.join(
  repoRoot,
  "..",
  "shared",
  "conformance",
  "standard_coders.yaml",
);

/** A coder spec as the YAML writes it (payload as a latin1 string). */
export interface YamlCoderSpec {
  urn: string;
  payload?: string;
  components?: YamlCoderSpec[];
  non_deterministic?: boolean;
  state?: Record<string, string>;
}

/** One example: bytes and the value they encode. */
export interface ConformanceExample {
  bytes: Uint8Array;
  value: unknown;
  /** The YAML notation of the value (for messages). */
  raw: unknown;
}

/** One section of the YAML. */
export interface ConformanceCase {
  index: number;
  name: string;
  spec: CoderSpec;
  yamlSpec: YamlCoderSpec;
  /** The contexts the examples hold in. */
  contexts: ("nested" | "outer")[];
  nonDeterministic: boolean;
  examples: ConformanceExample[];
  /** State pages by token, for state-backed iterables. */
  state: Map<string, Uint8Array> | undefined;
}

/** Bytes of a latin1 string (each char one byte), as the YAML encodes byte strings. */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`not a latin1 byte string: char ${c} at ${i}`);
    out[i] = c;
  }
  return out;
}

function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "utf8"));
}

/** A YAML integer (a bigint under `intAsBigInt`) in the value model: number when safe. */
function int(v: unknown): number | bigint {
  const b = BigInt(v as bigint);
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

function toSpec(y: YamlCoderSpec): CoderSpec {
  return {
    urn: y.urn,
    payload: y.payload === undefined ? undefined : latin1(y.payload),
    components: (y.components ?? []).map(toSpec),
  };
}

function pane(p: Record<string, unknown>): PaneInfo {
  return {
    isFirst: p.is_first as boolean,
    isLast: p.is_last as boolean,
    timing: p.timing as PaneTiming,
    index: Number(p.index),
    onTimeIndex: Number(p.on_time_index),
  };
}

type Parser = (x: unknown) => unknown;

function parserFor(y: YamlCoderSpec): Parser {
  const c = (y.components ?? []).map(parserFor);
  switch (y.urn) {
    case "beam:coder:bytes:v1":
      return (x) => utf8(x as string);
    case "beam:coder:bool:v1":
    case "beam:coder:string_utf8:v1":
      return (x) => x;
    case "beam:coder:varint:v1":
      return int;
    case "beam:coder:double:v1":
      return (x) => Number.parseFloat(x as string);
    case "beam:coder:kv:v1":
      return (x) => {
        const o = x as { key: unknown; value: unknown };
        return { key: c[0]!(o.key), value: c[1]!(o.value) };
      };
    case "beam:coder:interval_window:v1":
      return (x) => {
        const o = x as { end: bigint; span: bigint };
        const end = BigInt(o.end);
        return { start: end - BigInt(o.span), end, maxTimestamp: end - 1n };
      };
    case "beam:coder:iterable:v1":
    case "beam:coder:state_backed_iterable:v1":
      return (x) => (x as unknown[]).map(c[0]!);
    case "beam:coder:global_window:v1":
      return () => GLOBAL_WINDOW;
    case "beam:coder:windowed_value:v1":
    case "beam:coder:param_windowed_value:v1":
      return (x) => {
        const o = x as Record<string, unknown>;
        return {
          value: c[0]!(o.value),
          timestamp: BigInt(o.timestamp as bigint),
          windows: (o.windows as unknown[]).map(c[1]!),
          pane: pane(o.pane as Record<string, unknown>),
        };
      };
    case "beam:coder:timer:v1":
      return (x) => {
        const o = x as Record<string, unknown>;
        const base = {
          userKey: c[0]!(o.userKey),
          dynamicTimerTag: o.dynamicTimerTag,
          windows: (o.windows as unknown[]).map(c[1]!),
        };
        if (o.clearBit) return { ...base, clearBit: true };
        return {
          ...base,
          clearBit: false,
          fireTimestamp: BigInt(o.fireTimestamp as bigint),
          holdTimestamp: BigInt(o.holdTimestamp as bigint),
          pane: pane(o.pane as Record<string, unknown>),
        };
      };
    case "beam:coder:sharded_key:v1":
      return (x) => {
        const o = x as { shardId: string; key: unknown };
        return { shardId: utf8(o.shardId), key: c[0]!(o.key) };
      };
    case "beam:coder:custom_window:v1":
      return (x) => {
        const window = c[0]!((x as { window: unknown }).window) as { maxTimestamp: bigint };
        return { maxTimestamp: window.maxTimestamp, window };
      };
    case "beam:coder:nullable:v1":
      return (x) => (x === null ? null : c[0]!(x));
    case "beam:coder:row:v1":
      return rowParser(parseSchemaProto(latin1(y.payload ?? "")));
    default:
      throw new Error(`no YAML value parser for ${y.urn}`);
  }
}

function rowParser(schema: RowSchema): Parser {
  const fields = schema.fields.map((f) => ({ name: f.name, parse: fieldParser(f.type) }));
  return (x) => {
    const o = x as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !fields.some((f) => f.name === k));
    if (extra.length > 0)
      throw new Error(`example has fields not in the schema: ${extra.join(", ")}`);
    const row: Record<string, unknown> = {};
    for (const f of fields)
      row[f.name] = o[f.name] === null || o[f.name] === undefined ? null : f.parse(o[f.name]);
    return row;
  };
}

function fieldParser(t: RowFieldType): Parser {
  const nonNull = nonNullFieldParser(t);
  return (x) => (x === null || x === undefined ? null : nonNull(x));
}

function nonNullFieldParser(t: RowFieldType): Parser {
  switch (t.kind) {
    case "atomic":
      switch (t.atomic) {
        case "BYTES":
          return (x) => utf8(x as string);
        case "FLOAT":
          return (x) => Math.fround(Number.parseFloat(String(x)));
        case "DOUBLE":
          return (x) => Number.parseFloat(String(x));
        case "BYTE":
        case "INT16":
        case "INT32":
          return (x) => Number(x);
        case "INT64":
          return int;
        default:
          return (x) => x;
      }
    case "array":
    case "iterable": {
      const e = fieldParser(t.element);
      return (x) => (x as unknown[]).map(e);
    }
    case "map": {
      const k = fieldParser(t.key);
      const v = fieldParser(t.value);
      return (x) =>
        new Map(Object.entries(x as Record<string, unknown>).map(([a, b]) => [k(a), v(b)]));
    }
    case "row":
      return rowParser(t.schema);
    case "logical":
      switch (t.urn) {
        case "beam:logical_type:millis_instant:v1":
          // The YAML holds the raw big-endian int64 of Java's InstantCoder (sign bit flipped).
          return (x) => BigInt.asIntN(64, BigInt.asUintN(64, BigInt(x as bigint)) ^ (1n << 63n));
        case "beam:logical_type:micros_instant:v1":
          return (x) => {
            const o = x as { seconds: bigint; micros: bigint };
            return BigInt(o.seconds) * 1000000n + BigInt(o.micros);
          };
        case "beam:logical_type:decimal:v1":
          return (x) => parseDecimal(String(x));
        default:
          if (!t.representation) throw new Error(`logical type ${t.urn} without representation`);
          return nonNullFieldParser(t.representation);
      }
  }
}

/** Loads every section of the YAML (a clear error when the file is missing). */
export function loadConformanceCases(file: string = STANDARD_CODERS_YAML): ConformanceCase[] {
  if (!fs.existsSync(file)) {
    throw new Error(
      `Beam's coder vectors are missing: expected ${file} (CI checks out shared/ beside the repository; ` +
        "check out ../shared/conformance/standard_coders.yaml next to this repository)",
    );
  }
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"), { intAsBigInt: true });
  const cases: ConformanceCase[] = [];
  for (const [index, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0)
      throw new Error(`section ${index} of ${file}: ${doc.errors[0]!.message}`);
    const section = doc.toJS() as {
      coder: YamlCoderSpec;
      nested?: boolean;
      examples: Record<string, unknown>;
    } | null;
    if (!section?.coder) continue;
    const parse = parserFor(section.coder);
    const name = `#${index} ${section.coder.urn.split(":")[2]}`;
    cases.push({
      index,
      name,
      spec: toSpec(section.coder),
      yamlSpec: section.coder,
      contexts:
        section.nested === undefined ? ["nested", "outer"] : [section.nested ? "nested" : "outer"],
      nonDeterministic: section.coder.non_deterministic === true,
      examples: Object.entries(section.examples ?? {}).map(([bytes, raw]) => ({
        bytes: latin1(bytes),
        value: parse(raw),
        raw,
      })),
      state:
        section.coder.state === undefined
          ? undefined
          : new Map(Object.entries(section.coder.state).map(([k, v]) => [k, latin1(v)])),
    });
  }
  return cases;
}

/** The coder spec with the runner's state for tokens (each state value served as two pages). */
export function stateReaderFor(state: Map<string, Uint8Array>): StateBackedIterableReader {
  return {
    async readPage(token, continuation) {
      const data = state.get(Buffer.from(token).toString("latin1"));
      if (data === undefined)
        throw new Error(`unknown state token ${Buffer.from(token).toString("latin1")}`);
      const half = data.length >> 1;
      if (continuation === undefined)
        return { data: data.subarray(0, half), continuationToken: new Uint8Array([1]) };
      return { data: data.subarray(half) };
    },
  };
}

/** Every coder URN the YAML uses (components included). */
export function urnsUsed(cases: readonly ConformanceCase[]): Set<string> {
  const urns = new Set<string>();
  const visit = (s: CoderSpec): void => {
    urns.add(s.urn);
    for (const c of s.components ?? []) visit(c);
  };
  for (const c of cases) visit(c.spec);
  return urns;
}
