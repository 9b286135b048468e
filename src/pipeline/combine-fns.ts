/**
 * CombineFns as the builder takes them: a built-in by name (`"sum"`,
 * `"count"`, `"min"`, `"max"`, `"mean"`, `"top(3)"` or `top(3)`), a CombineFn
 * object or class (`createAccumulator`, `addInput`, `mergeAccumulators`,
 * `extractOutput`, optional `compact`; shipped by source), or a
 * `{module, export}` reference. Each becomes a `firefly:combinefn:v1`
 * FunctionSpec (payload as operations/combine/combine-fn.ts reads it), with
 * the accumulator and output coders for an input coder.
 */
import { pipelineApi } from "../../proto/index.js";
import {
  DEFAULT_CODER,
  iterable,
  nullable,
  normalizeCoder,
  type CoderProtoSpec,
  type CoderType,
} from "./coder-types.js";
import { isClass, isModuleRef, shipUserCode, type ModuleRef } from "./ship-function.js";

export const FIREFLY_COMBINEFN_URN = "firefly:combinefn:v1";

export type BuiltinCombineName = "sum" | "count" | "min" | "max" | "mean";

/** A built-in CombineFn by name, with its config (`top` needs `{n}`). */
export interface BuiltinCombineFn {
  builtin: BuiltinCombineName | "top";
  config?: unknown;
}

/** A user CombineFn object (methods are shipped by source; keep them self-contained). */
export interface CombineFnObject<I = unknown, A = unknown, O = unknown> {
  createAccumulator(): A;
  addInput(accumulator: A, input: I): A;
  mergeAccumulators(accumulators: A[]): A;
  extractOutput(accumulator: A): O;
  compact?(accumulator: A): A;
}

export type CombineFnArg =
  | BuiltinCombineName
  | `top(${number})`
  | BuiltinCombineFn
  | CombineFnObject
  | ModuleRef
  | (new () => CombineFnObject);

/** The top `n` values (largest first). */
export const top = (n: number): BuiltinCombineFn => {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new TypeError(`top(n) needs a positive integer n, got ${n}`);
  return { builtin: "top", config: { n } };
};

const BUILTINS = new Set(["sum", "count", "min", "max", "mean", "top"]);

function builtinOf(fn: CombineFnArg): BuiltinCombineFn | undefined {
  if (typeof fn === "string") {
    const m = /^top\((\d+)\)$/.exec(fn);
    if (m) return top(Number(m[1]));
    if (!BUILTINS.has(fn) || (fn as string) === "top")
      throw new TypeError(
        `unknown built-in CombineFn ${JSON.stringify(fn)} (sum, count, min, max, mean, top(n))`,
      );
    return { builtin: fn as BuiltinCombineName };
  }
  if (fn !== null && typeof fn === "object" && "builtin" in fn) {
    if (!BUILTINS.has(fn.builtin))
      throw new TypeError(
        `unknown built-in CombineFn ${JSON.stringify(fn.builtin)} (sum, count, min, max, mean, top(n))`,
      );
    if (fn.builtin === "top") top((fn.config as { n?: number } | undefined)?.n as number);
    return fn;
  }
  return undefined;
}

export interface CombineOptions {
  /** The coder of the combined values (user CombineFns; built-ins know theirs). @default json */
  coder?: CoderType;
  /** The coder of the accumulators (user CombineFns). @default json */
  accumulatorCoder?: CoderType;
  /** Handed to the CombineFn's `setup(config)` (user CombineFns). */
  config?: unknown;
}

export interface CombineFnSpec {
  spec: pipelineApi.FunctionSpec;
  accumulatorCoder: CoderProtoSpec;
  outputCoder: CoderProtoSpec;
}

const payload = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));

/** Accumulator and output coders of a built-in for an input coder. */
function builtinCoders(
  name: string,
  input: CoderProtoSpec,
): { accumulatorCoder: CoderProtoSpec; outputCoder: CoderProtoSpec } {
  const numeric = input.urn === "beam:coder:varint:v1" || input.urn === "beam:coder:double:v1";
  switch (name) {
    case "sum":
      return numeric
        ? { accumulatorCoder: input, outputCoder: input }
        : { accumulatorCoder: DEFAULT_CODER, outputCoder: DEFAULT_CODER };
    case "count":
      return {
        accumulatorCoder: { urn: "beam:coder:varint:v1" },
        outputCoder: { urn: "beam:coder:varint:v1" },
      };
    case "min":
    case "max":
      return { accumulatorCoder: nullable(input), outputCoder: input };
    case "mean":
      return {
        accumulatorCoder: iterable({ urn: "beam:coder:double:v1" }),
        outputCoder: nullable({ urn: "beam:coder:double:v1" }),
      };
    default: // top
      return { accumulatorCoder: iterable(input), outputCoder: iterable(input) };
  }
}

const METHODS = ["createAccumulator", "addInput", "mergeAccumulators", "extractOutput"];

/** A user CombineFn must be a class, an object with the four methods, or a module reference. */
function checkCombineFn(fn: unknown, what: string): void {
  if (isModuleRef(fn)) return;
  if (typeof fn === "function") {
    if (!isClass(fn))
      throw new TypeError(
        `${what}: a CombineFn is an object with ${METHODS.join(", ")} (or a class of such objects), not a plain function`,
      );
    return;
  }
  const missing = METHODS.filter(
    (m) => typeof (fn as Record<string, unknown> | null)?.[m] !== "function",
  );
  if (fn === null || typeof fn !== "object" || missing.length > 0)
    throw new TypeError(
      `${what}: a CombineFn needs ${METHODS.join(", ")} (missing: ${missing.join(", ")})`,
    );
}

/** The FunctionSpec and coders of a CombineFn applied to values of `inputCoder`. */
export function combineFnSpec(
  fn: CombineFnArg,
  inputCoder: CoderProtoSpec,
  what: string,
  options: CombineOptions = {},
): CombineFnSpec {
  const builtin = builtinOf(fn);
  if (builtin) {
    const json = builtin.config === undefined ? { builtin: builtin.builtin } : builtin;
    const coders = builtinCoders(builtin.builtin, inputCoder);
    return {
      spec: new pipelineApi.FunctionSpec({ urn: FIREFLY_COMBINEFN_URN, payload: payload(json) }),
      accumulatorCoder: options.accumulatorCoder
        ? normalizeCoder(options.accumulatorCoder, `${what} accumulatorCoder`)
        : coders.accumulatorCoder,
      outputCoder: options.coder
        ? normalizeCoder(options.coder, `${what} coder`)
        : coders.outputCoder,
    };
  }
  checkCombineFn(fn, what);
  const shipped = shipUserCode(fn, what, options.config);
  return {
    spec: new pipelineApi.FunctionSpec({ urn: FIREFLY_COMBINEFN_URN, payload: payload(shipped) }),
    accumulatorCoder: normalizeCoder(
      options.accumulatorCoder ?? DEFAULT_CODER,
      `${what} accumulatorCoder`,
    ),
    outputCoder: normalizeCoder(options.coder ?? DEFAULT_CODER, `${what} coder`),
  };
}
