/**
 * (f) User state: keys × elements per key (interleaved) through a ParDo that
 * reads its bag state and adds to it, in one bundle. apache-beam 2.49's
 * worker has no user state.
 */
import { pipelineApi } from "../../proto/index.js";
import { BAG_COUNTER } from "../driver/dofns.js";
import { chainDescriptor, KV, medianBundle, sized } from "../driver/pipelines.js";
import { result, row, unsupported } from "../driver/report.js";
import { encodeChunks, withSession } from "../driver/session.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const KEYS = 1000;

function* keyed(prefix: string, perKey: number): Generator<{ key: string; value: number }> {
  for (let i = 0; i < KEYS * perKey; i++) yield { key: `${prefix}${i % KEYS}`, value: i };
}

export async function run(profile: Profile): Promise<BenchResult> {
  const perKey = sized(profile, 20, 100);
  const input = encodeChunks(KV, keyed("m", perKey));
  const { measured, requests } = await withSession("firefly", { threads: 0 }, async (session) => {
    session.register(
      chainDescriptor({
        id: "bag",
        kind: "firefly",
        url: session.url,
        dofn: BAG_COUNTER,
        state: true,
        extra: {
          state_specs: new Map([
            [
              "seen",
              new pipelineApi.StateSpec({
                bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: "varint" }),
              }),
            ],
          ]),
        },
      }),
    );
    await session.bundle("bag", encodeChunks(KV, keyed("w", 5)).chunks);
    const before = { ...session.runner.stateRequests };
    const measured = await medianBundle(session, "bag", input, { reps: 1 });
    const after = session.runner.stateRequests;
    return {
      measured,
      requests: {
        get: after.get - before.get,
        append: after.append - before.append,
        clear: after.clear - before.clear,
      },
    };
  });
  return result(
    [
      row(
        "state",
        `${KEYS.toLocaleString("en-US")} keys × ${perKey} elements, bag read + add`,
        { label: "Firefly threads=0", ...measured },
        unsupported(
          "apache-beam 2.49",
          "its worker has no user state (ParDo state_specs are not implemented; pardo.ts: 'TODO: Add providers for state, timers')",
        ),
      ),
    ],
    { stateRequests: requests },
  );
}
