/**
 * What the cases share: the element type and its generator, ParDo-chain
 * descriptors in each worker's format, sizes by profile, and the standard
 * "warm up, then measure the median of a few bundles" loop.
 */
import type { fnApi, pipelineApi } from "../../proto/index.js";
import {
  kv,
  linearDescriptor,
  STR,
  VARINT,
  type CoderSpec,
} from "../../test/support/descriptors.js";
import type { Profile } from "../measure.js";
import { PARDO_URN, pardoPayload, type BenchDoFn } from "./dofns.js";
import { encodeChunks, type BenchSession, type Measured } from "./session.js";
import type { WorkerKind } from "./worker-launch.js";

/** The benchmarks' element: kv(string_utf8, varint). */
export const KV: CoderSpec = kv(STR, VARINT);

/** `quick` in the quick profile, `full` in the full one. */
export function sized<T>(profile: Profile, quick: T, full: T): T {
  return profile.name === "full" ? full : quick;
}

/** n small kv elements: 8-character keys from `keys` distinct ones, varint values. */
export function* smallKvs(n: number, keys = 100_000): Generator<{ key: string; value: number }> {
  for (let i = 0; i < n; i++) yield { key: keyOf(i % keys), value: i };
}

export function keyOf(i: number): string {
  return `k${String(i).padStart(7, "0")}`;
}

export type Encoded = ReturnType<typeof encodeChunks>;

/** A descriptor source → `length` ParDos of `dofn` → sink, in the worker's format. */
export function chainDescriptor(options: {
  id: string;
  kind: WorkerKind;
  url: string;
  dofn: BenchDoFn;
  length?: number;
  input?: CoderSpec;
  extra?: Partial<ConstructorParameters<typeof pipelineApi.ParDoPayload>[0] & object>;
  sideInputs?: Record<string, string>;
  extraPCollections?: Record<string, CoderSpec>;
  state?: boolean;
}): fnApi.ProcessBundleDescriptor {
  const payload = pardoPayload(options.kind, options.dofn, options.extra);
  return linearDescriptor({
    id: options.id,
    url: options.url,
    input: options.input ?? KV,
    state: options.state,
    extraPCollections: options.extraPCollections,
    steps: Array.from({ length: options.length ?? 1 }, (_, i) => ({
      id: `pardo${i}`,
      urn: PARDO_URN,
      payload,
      sideInputs: options.sideInputs,
    })),
  });
}

/**
 * Runs a warm-up bundle, then `reps` bundles of `input`; returns the
 * measurement of the median bundle. With `expectOutputBytes`, checks every
 * bundle's output size (an identity chain outputs its input).
 */
export async function medianBundle(
  session: BenchSession,
  descriptorId: string,
  input: Encoded,
  options: {
    reps: number;
    warmup?: Encoded;
    expectOutputBytes?: number;
    cacheTokens?: fnApi.ProcessBundleRequest.CacheToken[];
  },
): Promise<Measured> {
  if (options.warmup)
    await session.bundle(descriptorId, options.warmup.chunks, options.cacheTokens);
  const runs: Measured[] = [];
  for (let i = 0; i < options.reps; i++) {
    runs.push(
      await session.measure(input.elements, input.bytes, async () => {
        const { outputBytes } = await session.bundle(
          descriptorId,
          input.chunks,
          options.cacheTokens,
        );
        if (options.expectOutputBytes !== undefined && outputBytes !== options.expectOutputBytes)
          throw new Error(
            `${session.label}: bundle output ${outputBytes} bytes, expected ${options.expectOutputBytes}`,
          );
      }),
    );
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[runs.length >> 1]!;
}
