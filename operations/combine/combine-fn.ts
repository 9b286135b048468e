/**
 * CombineFns (`firefly:combinefn:v1`): an object with `createAccumulator`,
 * `addInput`, `mergeAccumulators`, `extractOutput` and optional `compact`
 * (synchronous: combining is a hot path), named like a DoFn
 * (`{"module"|"source", "export", "config"}`) or a built-in by name
 * (`{"builtin": "sum" | "count" | "min" | "max" | "mean" | "top", "config": {"n": 3}}`).
 * A class export is instantiated; `setup(config)` is called if present.
 */
import type { pipelineApi } from "../../proto/index.js";
import { loadUserExport } from "../user-code/load-user-code.js";
import { parseUserCodeSpec, UserCodeSpecError } from "../user-code/user-code-spec.js";
import { builtinCombineFn } from "./builtin-combine-fns.js";

export const FIREFLY_COMBINEFN_URN = "firefly:combinefn:v1";

export interface CombineFn {
  createAccumulator(): unknown;
  addInput(accumulator: unknown, input: unknown): unknown;
  mergeAccumulators(accumulators: unknown[]): unknown;
  extractOutput(accumulator: unknown): unknown;
  compact?(accumulator: unknown): unknown;
}

const METHODS = ["createAccumulator", "addInput", "mergeAccumulators", "extractOutput"] as const;

export function validateCombineFn(fn: unknown, what: string): CombineFn {
  if (fn === null || typeof fn !== "object")
    throw new UserCodeSpecError(`${what} is not a CombineFn object`);
  for (const method of METHODS) {
    if (typeof (fn as Record<string, unknown>)[method] !== "function") {
      throw new UserCodeSpecError(
        `${what} has no ${method} method (a CombineFn needs ${METHODS.join(", ")})`,
      );
    }
  }
  return fn as CombineFn;
}

/** The `{builtin, config}` a CombineFn spec names, or undefined for a user CombineFn. */
export function builtinSpecOf(
  spec: pipelineApi.FunctionSpec,
): { builtin: string; config: unknown } | undefined {
  let json: { builtin?: unknown; config?: unknown } | undefined;
  try {
    json = JSON.parse(Buffer.from(spec.payload).toString("utf8")) as typeof json;
  } catch {
    return undefined; // parseUserCodeSpec reports it
  }
  return json && typeof json.builtin === "string"
    ? { builtin: json.builtin, config: json.config }
    : undefined;
}

/** Loads the CombineFn a FunctionSpec names. */
export async function loadCombineFn(
  spec: pipelineApi.FunctionSpec | undefined,
): Promise<CombineFn> {
  if (!spec || spec.urn !== FIREFLY_COMBINEFN_URN) {
    throw new UserCodeSpecError(
      `CombineFn URN ${JSON.stringify(spec?.urn ?? "")} is not supported: Firefly runs ${FIREFLY_COMBINEFN_URN}`,
    );
  }
  const builtin = builtinSpecOf(spec);
  if (builtin) return builtinCombineFn(builtin.builtin, builtin.config);
  const userSpec = parseUserCodeSpec(spec.payload, "CombineFn");
  const exported = await loadUserExport(userSpec);
  let fn: unknown = exported;
  if (typeof exported === "function") fn = new (exported as new () => unknown)();
  else if (exported !== null && typeof exported === "object") fn = Object.create(exported);
  const combineFn = validateCombineFn(fn, `CombineFn ${JSON.stringify(userSpec.export)}`);
  const setup = (combineFn as { setup?: (config: unknown) => unknown }).setup;
  if (typeof setup === "function") await setup.call(combineFn, userSpec.config);
  return combineFn;
}
