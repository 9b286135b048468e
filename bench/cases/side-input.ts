/**
 * (e) Side input: every element looks up its key in a 10,000-entry multimap
 * side input (read lazily through the State API). Cache effectiveness:
 * bundles with the runner's cache token (the cache is warm from the warm-up
 * bundle) against bundles without one (every key fetched again).
 * apache-beam 2.49's worker implements only iterable side inputs.
 */
import { coderFromSpec } from "../../coders/index.js";
import { fnApi, pipelineApi } from "../../proto/index.js";
import { STR, VARINT } from "../../test/support/descriptors.js";
import { GLOBAL_WINDOW_BYTES } from "../../test/integration/support.js";
import { MULTIMAP_LOOKUP } from "../driver/dofns.js";
import { chainDescriptor, keyOf, KV, medianBundle, sized, smallKvs } from "../driver/pipelines.js";
import { result, row, unsupported, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession, type BenchSession } from "../driver/session.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const ENTRIES = 10_000;

function loadSideInput(session: BenchSession): void {
  const str = coderFromSpec(STR);
  const varint = coderFromSpec(VARINT);
  for (let i = 0; i < ENTRIES; i++) {
    const key = new fnApi.StateKey({
      multimap_side_input: new fnApi.StateKey.MultimapSideInput({
        transform_id: "pardo0",
        side_input_id: "side",
        window: GLOBAL_WINDOW_BYTES,
        key: str.encode(keyOf(i), "nested"),
      }),
    });
    session.runner.state.set(Buffer.from(key.serializeBinary()).toString("base64"), [
      varint.encode(i, "nested"),
    ]);
  }
}

const TOKEN = new fnApi.ProcessBundleRequest.CacheToken({
  token: new TextEncoder().encode("side-v1"),
  side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
    transform_id: "pardo0",
    side_input_id: "side",
  }),
});

async function sideInputOf(
  profile: Profile,
  cached: boolean,
): Promise<SideResult & { stateGetsPerBundle: number }> {
  const input = encodeChunks(KV, smallKvs(sized(profile, 100_000, 1_000_000), ENTRIES));
  return withSession("firefly", { threads: 0 }, async (session) => {
    loadSideInput(session);
    session.register(
      chainDescriptor({
        id: "side",
        kind: "firefly",
        url: session.url,
        dofn: MULTIMAP_LOOKUP,
        state: true,
        extraPCollections: { sidePc: KV },
        sideInputs: { side: "sidePc" },
        extra: {
          side_inputs: new Map([
            [
              "side",
              new pipelineApi.SideInput({
                access_pattern: new pipelineApi.FunctionSpec({
                  urn: "beam:side_input:multimap:v1",
                }),
              }),
            ],
          ]),
        },
      }),
    );
    const cacheTokens = cached ? [TOKEN] : [];
    const warmup = encodeChunks(KV, smallKvs(ENTRIES * 2, ENTRIES));
    await session.bundle("side", warmup.chunks, cacheTokens);
    const before = session.runner.stateRequests.get;
    const m = await medianBundle(session, "side", input, {
      reps: 1,
      cacheTokens,
    });
    return {
      label: `Firefly ${cached ? "with" : "without"} cache token`,
      ...m,
      stateGetsPerBundle: session.runner.stateRequests.get - before,
    };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const cached = await sideInputOf(profile, true);
  const uncached = await sideInputOf(profile, false);
  const variant = `${cached.elements?.toLocaleString("en-US")} elements, multimap lookups in ${ENTRIES.toLocaleString("en-US")} entries`;
  return result(
    [
      row("side input", variant, cached, uncached),
      row(
        "side input",
        variant,
        cached,
        unsupported(
          "apache-beam 2.49",
          "its worker implements only beam:side_input:iterable:v1 (worker/pardo_context.js createStateKey throws 'Unimplemented access pattern')",
        ),
      ),
    ],
    {
      stateGetsPerBundle: {
        cached: cached.stateGetsPerBundle,
        uncached: uncached.stateGetsPerBundle,
      },
    },
  );
}
