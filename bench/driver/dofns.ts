/**
 * The DoFns of the benchmarks, in each worker's own payload format:
 *   - Firefly: `firefly:dofn:v1` with an ES module `source` (DESIGN.md).
 *   - apache-beam 2.49: `beam:dofn:serialized_js_dofn_info:v1` whose payload
 *     is `serializeFn({ doFn, context })` (serialize-closures JSON), as its
 *     `parDo` transform writes it (transforms/pardo.js).
 * Both run user code per element (Beam's special identity URN
 * `beam:dofn:identity:0.1` skips user code, so it is not used).
 */
import { createRequire } from "node:module";
import { pipelineApi } from "../../proto/index.js";
import { dofnPayload } from "../../test/support/descriptors.js";
import type { WorkerKind } from "./worker-launch.js";

export const PARDO_URN = "beam:transform:pardo:v1";
const BEAM_DOFN_URN = "beam:dofn:serialized_js_dofn_info:v1";

const require = createRequire(import.meta.url);
const beamSerialize = require("apache-beam/internal/serialize") as {
  serializeFn(obj: unknown): Uint8Array;
};

/** One DoFn in both formats; `beam` undefined when the peer cannot run it. */
export interface BenchDoFn {
  /** `batch` makes it a batch DoFn (README "Vectorized DoFns"). */
  firefly: { source: string; config?: unknown; batch?: object };
  beam?: (element: unknown) => unknown[];
}

/** Passes every element through (user code returning `[x]`). */
export const IDENTITY: BenchDoFn = {
  firefly: { source: "export default (x) => [x];" },
  beam: function (x: unknown) {
    return [x];
  },
};

/**
 * A CPU-heavy DoFn: `rounds` of FNV-1a over the element's key, per element
 * (pure JavaScript, as user code is). Input and output kv(string, varint).
 */
export function cpuHeavy(rounds: number): BenchDoFn {
  return {
    firefly: {
      source: `export default (e, ctx) => [{ key: e.key, value: (${fnvRounds.toString()})(e.key, ctx.config.rounds) }];`,
      config: { rounds },
    },
  };
}

/** FNV-1a over `s`, `rounds` times (also run on the driver to calibrate). */
export function fnvRounds(s: string, rounds: number): number {
  let h = 2166136261;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i) + r;
      h = Math.imul(h, 16777619);
    }
  }
  return h >>> 0;
}

/** Reads `get(key)` of multimap side input `side` per kv element; emits kv(key, count of values). */
export const MULTIMAP_LOOKUP: BenchDoFn = {
  firefly: {
    source:
      "export default async (e, ctx) => { const view = await ctx.sideInput('side'); const vs = await view.get(e.key); return [{ key: e.key, value: vs.length }]; };",
  },
};

/** Bag state `seen` per key: reads the bag, adds the value, emits kv(key, size before). */
export const BAG_COUNTER: BenchDoFn = {
  firefly: {
    source:
      "export default async (e, ctx) => { const bag = ctx.state('seen'); const before = await bag.read(); bag.add(e.value); return [{ key: e.key, value: before.length }]; };",
  },
};

/**
 * The ParDoPayload bytes of `dofn` for a worker `kind`; `extra` adds side
 * inputs / state specs (Firefly only).
 */
export function pardoPayload(
  kind: WorkerKind,
  dofn: BenchDoFn,
  extra: Partial<ConstructorParameters<typeof pipelineApi.ParDoPayload>[0] & object> = {},
): Uint8Array {
  // The echo worker never reads the payload: any well-formed one will do.
  if (kind !== "beam") return dofnPayload(dofn.firefly, extra);
  if (!dofn.beam) throw new Error("apache-beam cannot run this DoFn (no payload in its format)");
  return new pipelineApi.ParDoPayload({
    do_fn: new pipelineApi.FunctionSpec({
      urn: BEAM_DOFN_URN,
      payload: beamSerialize.serializeFn({ doFn: { process: dofn.beam }, context: {} }),
    }),
    ...extra,
  }).serializeBinary();
}
