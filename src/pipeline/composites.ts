/**
 * Composite transforms built from other transforms:
 *   combinePerKey   `beam:transform:combine_per_key:v1` = GroupByKey + combine_grouped_values
 *   combineGlobally KeyWithVoid + CombinePerKey + UnKey (no output for an empty input)
 *   writeText       AssignShards (+ ShardSeeds) → Flatten → GroupByKey → WriteShards
 */
import * as path from "node:path";
import { pipelineApi } from "../../proto/index.js";
import { kv, kvComponents, nullable } from "./coder-types.js";
import { combineFnSpec, type CombineFnArg, type CombineOptions } from "./combine-fns.js";
import type { PCollection } from "./pcollection.js";
import type { NameOption } from "./pipeline.js";
import { assignShardsDoFn, shardSeedsDoFn, writeShardsDoFn } from "./text-io.js";
import { globalWindows } from "./windowing.js";

export const COMBINE_PER_KEY_URN = "beam:transform:combine_per_key:v1";
export const COMBINE_GROUPED_VALUES_URN = "beam:transform:combine_grouped_values:v1";

type AnyPC = PCollection<unknown>;

export function combinePerKey(
  input: AnyPC,
  fn: CombineFnArg,
  options: NameOption & CombineOptions,
): AnyPC {
  const name = options.name ?? "CombinePerKey";
  const [k, v] = input.keyed(name);
  const combine = combineFnSpec(fn, v, name, options);
  const graph = input.pipeline.graph;
  const payload = new pipelineApi.CombinePayload({
    combine_fn: combine.spec,
    accumulator_coder_id: graph.coderId(combine.accumulatorCoder),
  }).serializeBinary();
  return graph.composite(
    name,
    options.name !== undefined,
    () => {
      const grouped = input.groupByKey() as AnyPC;
      return input.pipeline.addPrimitive(
        {
          name: "Combine",
          explicitName: false,
          urn: COMBINE_GROUPED_VALUES_URN,
          payload,
          inputs: { input: grouped },
          usesEnvironment: true,
        },
        {
          out: {
            coder: kv(k, combine.outputCoder),
            declared: true,
            windowFn: grouped.windowFn,
            alreadyMerged: grouped.alreadyMerged,
          },
        },
      ).out;
    },
    (pc) => ({ out: pc.id }),
    { urn: COMBINE_PER_KEY_URN, payload, usesEnvironment: true },
  );
}

export function combineGlobally(
  input: AnyPC,
  fn: CombineFnArg,
  options: NameOption & CombineOptions,
): AnyPC {
  return input.pipeline.graph.composite(
    options.name ?? "CombineGlobally",
    options.name !== undefined,
    () => {
      const keyed = input.map((value) => ({ key: new Uint8Array(0), value }), {
        name: "KeyWithVoid",
        coder: kv("bytes", input.coder),
      });
      const combined = combinePerKey(keyed as AnyPC, fn, { ...options, name: "CombinePerKey" });
      const [, out] = kvComponents(combined.coder);
      return combined.map((pair) => (pair as { value: unknown }).value, {
        name: "UnKey",
        coder: out,
      }) as AnyPC;
    },
    (pc) => ({ out: pc.id }),
  );
}

export interface WriteTextOptions extends NameOption {
  /** Number of output files. @default 1 */
  shards?: number;
  /** Appended to each file name (e.g. ".txt"). @default "" */
  suffix?: string;
}

export function writeText(
  input: AnyPC,
  prefix: string,
  options: WriteTextOptions,
): PCollection<string> {
  const shards = options.shards ?? 1;
  if (!Number.isSafeInteger(shards) || shards < 1)
    throw new TypeError(`writeText: shards must be a positive integer, got ${shards}`);
  if (typeof prefix !== "string" || prefix === "")
    throw new TypeError("writeText(prefix): prefix must be a non-empty string");
  const absolute = path.resolve(prefix);
  const pipeline = input.pipeline;
  const global = globalWindows();
  const lines = { coder: kv("varint", nullable("string")), declared: true, windowFn: global };
  return pipeline.graph.composite(
    options.name ?? "WriteText",
    options.name !== undefined,
    () => {
      const rewindowed =
        input.windowFn.kind === "global" ? input : input.windowInto(global, { name: "Rewindow" });
      const assigned = pipeline.addParDo(
        rewindowed,
        { name: "AssignShards", explicitName: false },
        assignShardsDoFn(shards),
        { out: lines },
      ).out;
      const seeds = pipeline.addParDo(
        pipeline.impulse(),
        { name: "ShardSeeds", explicitName: false },
        shardSeedsDoFn(shards),
        { out: lines },
      ).out;
      const grouped = pipeline.flatten([seeds, assigned], { name: "WithSeeds" }).groupByKey();
      const string = { urn: "beam:coder:string_utf8:v1" };
      return pipeline.addParDo(
        grouped as AnyPC,
        { name: "WriteShards", explicitName: false },
        writeShardsDoFn(absolute, options.suffix ?? "", shards),
        { out: { coder: string, declared: true, windowFn: global } },
      ).out as PCollection<string>;
    },
    (pc) => ({ out: pc.id }),
  );
}
