/**
 * (h) State and side inputs from pool threads (issue 19): the same work at
 * threads=2 against inline (threads=0), in one run.
 *   - side-input join: every element looks up its key in a 40-key multimap
 *     side input (`await (await ctx.sideInput("x")).get(key)`), then a SUM
 *     CombineFn precombines per key; bundles carry the side input's cache
 *     token (as Beam's runners send it), two bundles in flight at a time.
 *   - user state: bag read + add per element over 1,000 keys, bundles with a
 *     user-state cache token, two in flight (disjoint key sets).
 * Target: the join at threads=2 within 1.2x of inline (ratio ≥ 0.83).
 */
import { coderFromSpec } from "../../coders/index.js";
import { fnApi, pipelineApi } from "../../proto/index.js";
import { linearDescriptor, STR, VARINT } from "../../test/support/descriptors.js";
import { GLOBAL_WINDOW_BYTES } from "../../test/integration/support.js";
import { PARDO_URN, pardoPayload, type BenchDoFn } from "../driver/dofns.js";
import { KV, sized } from "../driver/pipelines.js";
import { result, row, type Row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession, type BenchSession } from "../driver/session.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const SIDE_KEYS = 40;
const IN_FLIGHT = 2;
const STATE_KEYS = 1000;

/** Looks up the element's key in multimap side input `x`; emits kv(key, value × price). */
const JOIN: BenchDoFn = {
  firefly: {
    source:
      "export default async (e, ctx) => { const [price] = await (await ctx.sideInput('x')).get(e.key); return [{ key: e.key, value: e.value * (price ?? 0) }]; };",
  },
};

/** Bag state `seen` per key: reads the bag, adds the value, emits kv(key, size before). */
const BAG: BenchDoFn = {
  firefly: {
    source:
      "export default async (e, ctx) => { const bag = ctx.state('seen'); const before = await bag.read(); bag.add(e.value % 7); return [{ key: e.key, value: before.length }]; };",
  },
};

const SUM_PAYLOAD = new pipelineApi.CombinePayload({
  combine_fn: new pipelineApi.FunctionSpec({
    urn: "firefly:combinefn:v1",
    payload: new TextEncoder().encode(JSON.stringify({ builtin: "sum" })),
  }),
  accumulator_coder_id: "varint",
}).serializeBinary();

const sideKey = (i: number) => `item${i % SIDE_KEYS}`;

function joinDescriptor(url: string): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id: "join",
    url,
    input: KV,
    state: true,
    extraPCollections: { sidePc: KV },
    steps: [
      {
        id: "join",
        urn: PARDO_URN,
        payload: pardoPayload("firefly", JOIN, {
          side_inputs: new Map([
            [
              "x",
              new pipelineApi.SideInput({
                access_pattern: new pipelineApi.FunctionSpec({
                  urn: "beam:side_input:multimap:v1",
                }),
              }),
            ],
          ]),
        }),
        sideInputs: { x: "sidePc" },
      },
      { id: "sum", urn: "beam:transform:combine_per_key_precombine:v1", payload: SUM_PAYLOAD },
    ],
  });
}

function bagDescriptor(url: string): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id: "bag",
    url,
    input: KV,
    state: true,
    steps: [
      {
        id: "bag",
        urn: PARDO_URN,
        payload: pardoPayload("firefly", BAG, {
          state_specs: new Map([
            [
              "seen",
              new pipelineApi.StateSpec({
                bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: "varint" }),
              }),
            ],
          ]),
        }),
      },
    ],
  });
}

function loadSideInput(session: BenchSession): void {
  const str = coderFromSpec(STR);
  const varint = coderFromSpec(VARINT);
  for (let i = 0; i < SIDE_KEYS; i++) {
    const key = new fnApi.StateKey({
      multimap_side_input: new fnApi.StateKey.MultimapSideInput({
        transform_id: "join",
        side_input_id: "x",
        window: GLOBAL_WINDOW_BYTES,
        key: str.encode(sideKey(i), "nested"),
      }),
    });
    session.runner.state.set(Buffer.from(key.serializeBinary()).toString("base64"), [
      varint.encode(i + 1, "nested"),
    ]);
  }
}

const SIDE_TOKEN = new fnApi.ProcessBundleRequest.CacheToken({
  token: new TextEncoder().encode("x-v1"),
  side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
    transform_id: "join",
    side_input_id: "x",
  }),
});

const USER_TOKEN = new fnApi.ProcessBundleRequest.CacheToken({
  token: new TextEncoder().encode("user-v1"),
  user_state: new fnApi.ProcessBundleRequest.CacheToken.UserState(),
});

type Encoded = ReturnType<typeof encodeChunks>;

interface Shape {
  /** Inputs of the bundles (in order; IN_FLIGHT run at once). */
  bundles: Encoded[];
  elements: number;
  bytes: number;
}

function shapeOf(bundles: Encoded[]): Shape {
  return {
    bundles,
    elements: bundles.reduce((n, b) => n + b.elements, 0),
    bytes: bundles.reduce((n, b) => n + b.bytes, 0),
  };
}

/** Runs the bundles IN_FLIGHT at a time. */
async function runAll(
  session: BenchSession,
  descriptorId: string,
  shape: Shape,
  tokens: fnApi.ProcessBundleRequest.CacheToken[],
): Promise<void> {
  for (let i = 0; i < shape.bundles.length; i += IN_FLIGHT) {
    await Promise.all(
      shape.bundles
        .slice(i, i + IN_FLIGHT)
        .map((b) => session.bundle(descriptorId, b.chunks, tokens)),
    );
  }
}

async function measured(
  threads: number,
  descriptor: (url: string) => fnApi.ProcessBundleDescriptor,
  setup: (session: BenchSession) => void,
  shape: Shape,
  warmup: Shape,
  tokens: fnApi.ProcessBundleRequest.CacheToken[],
): Promise<SideResult & { stateRequests: { get: number; append: number; clear: number } }> {
  return withSession("firefly", { threads }, async (session) => {
    const d = descriptor(session.url);
    session.register(d);
    setup(session);
    await runAll(session, d.id, warmup, tokens);
    const before = { ...session.runner.stateRequests };
    const m = await session.measure(shape.elements, shape.bytes, () =>
      runAll(session, d.id, shape, tokens),
    );
    const after = session.runner.stateRequests;
    return {
      label: threads === 0 ? "Firefly inline" : `Firefly threads=${threads}`,
      ...m,
      stateRequests: {
        get: after.get - before.get,
        append: after.append - before.append,
        clear: after.clear - before.clear,
      },
    };
  });
}

function* joinInput(n: number, offset: number): Generator<{ key: string; value: number }> {
  for (let i = 0; i < n; i++) yield { key: sideKey(i + offset), value: i % 100 };
}

/** Bundle b touches the keys of its slot (b % IN_FLIGHT): bundles in flight never share a key. */
function* bagInput(n: number, slot: number): Generator<{ key: string; value: number }> {
  const perSlot = STATE_KEYS / IN_FLIGHT;
  for (let i = 0; i < n; i++) yield { key: `u${slot * perSlot + (i % perSlot)}`, value: i };
}

export async function run(profile: Profile): Promise<BenchResult> {
  const joinBundles = sized(profile, 20, 40);
  const joinPerBundle = 10_000;
  const join = shapeOf(
    Array.from({ length: joinBundles }, (_, b) =>
      encodeChunks(KV, joinInput(joinPerBundle, b * 7)),
    ),
  );
  const joinWarmup = shapeOf(
    Array.from({ length: IN_FLIGHT * 2 }, (_, b) => encodeChunks(KV, joinInput(2_000, b))),
  );
  const joinVariant = `${join.elements.toLocaleString("en-US")} elements in ${joinBundles} bundles (${IN_FLIGHT} in flight), multimap get per element (${SIDE_KEYS} keys, cache token) + SUM per key`;
  const joinInline = await measured(0, joinDescriptor, loadSideInput, join, joinWarmup, [
    SIDE_TOKEN,
  ]);
  const joinPool = await measured(2, joinDescriptor, loadSideInput, join, joinWarmup, [SIDE_TOKEN]);

  const bagBundles = sized(profile, 10, 20);
  const bagPerBundle = 10_000;
  const bag = shapeOf(
    Array.from({ length: bagBundles }, (_, b) =>
      encodeChunks(KV, bagInput(bagPerBundle, b % IN_FLIGHT)),
    ),
  );
  const bagWarmup = shapeOf(
    Array.from({ length: IN_FLIGHT * 2 }, (_, b) => encodeChunks(KV, bagInput(1_000, b % 2))),
  );
  const bagVariant = `${bag.elements.toLocaleString("en-US")} elements in ${bagBundles} bundles (${IN_FLIGHT} in flight), bag read + add per element (${STATE_KEYS} keys, user-state cache token)`;
  const none = () => undefined;
  const bagInline = await measured(0, bagDescriptor, none, bag, bagWarmup, [USER_TOKEN]);
  const bagPool = await measured(2, bagDescriptor, none, bag, bagWarmup, [USER_TOKEN]);

  const rows: Row[] = [
    row("state-threads", joinVariant, joinPool, joinInline),
    row("state-threads", bagVariant, bagPool, bagInline),
  ];
  rows[0]!.target = {
    text: "threads=2 within 1.2x of inline (ratio ≥ 0.83)",
    met: (rows[0]!.ratio ?? 0) >= 1 / 1.2,
  };
  return result(rows, {
    stateRequests: {
      join: { inline: joinInline.stateRequests, threads2: joinPool.stateRequests },
      bag: { inline: bagInline.stateRequests, threads2: bagPool.stateRequests },
    },
  });
}
