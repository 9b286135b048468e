/**
 * Descriptor builders and bundle drivers shared by the fault tests, the
 * Fn API fuzz target and the soak: a ParDo step, a ParDo with an iterable
 * side input, one with bag state, one with a timer family, and the runner
 * side of one bundle of each.
 */
import { fnApi, pipelineApi } from "../../proto/index.js";
import { NO_FIRING, GLOBAL_WINDOW, type Timer } from "../../coders/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import {
  addCoder,
  coderOf,
  encodeGlobal,
  GLOBAL,
  kv,
  linearDescriptor,
  pardoStep,
  STR,
  VARINT,
  type CoderSpec,
} from "../support/descriptors.js";
import { GLOBAL_WINDOW_BYTES } from "../integration/support.js";

export const pardo = pardoStep;

/** upper-cases strings. */
export function upperDescriptor(id: string, url: string): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id,
    url,
    input: STR,
    steps: [pardo("up", "export default (s) => [s.toUpperCase()]")],
  });
}

/**
 * Appends the sum of the iterable side input `nums` (varints) to each string;
 * `windowMappingUrn` is written in the side input's `window_mapping_fn` (none: empty).
 */
export function sideInputDescriptor(
  id: string,
  url: string,
  windowMappingUrn?: string,
): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id,
    url,
    input: STR,
    state: true,
    extraPCollections: { sidePc: VARINT },
    steps: [
      {
        ...pardo(
          "join",
          "export default async (x, ctx) => { const s = await ctx.sideInput('nums'); return [x + '=' + s.reduce((a, b) => a + b, 0)]; }",
          {
            side_inputs: new Map([
              [
                "nums",
                new pipelineApi.SideInput({
                  access_pattern: new pipelineApi.FunctionSpec({
                    urn: "beam:side_input:iterable:v1",
                  }),
                  window_mapping_fn:
                    windowMappingUrn === undefined
                      ? undefined
                      : new pipelineApi.FunctionSpec({ urn: windowMappingUrn }),
                }),
              ],
            ]),
          },
        ),
        sideInputs: { nums: "sidePc" },
      },
    ],
  });
}

/** Stores the side input `nums` of the `join` transform in the runner's state. */
export function setSideInput(runner: FakeRunner, nums: number[]): void {
  const key = new fnApi.StateKey({
    iterable_side_input: new fnApi.StateKey.IterableSideInput({
      transform_id: "join",
      side_input_id: "nums",
      window: GLOBAL_WINDOW_BYTES,
    }),
  });
  const varint = coderOf(VARINT);
  runner.state.set(
    Buffer.from(key.serializeBinary()).toString("base64"),
    nums.map((n) => varint.encode(n, "nested")),
  );
}

/**
 * kv(string, varint) → kv(key, number of values seen before for the key), with
 * bag state `n`; with `readEvery` n > 1 the bag is read on every nth call only
 * (the others output -1).
 */
export function bagStateDescriptor(
  id: string,
  url: string,
  options: { readEvery?: number } = {},
): fnApi.ProcessBundleDescriptor {
  const every = options.readEvery ?? 1;
  const coders = new Map<string, pipelineApi.Coder>();
  const varintId = addCoder(coders, VARINT);
  const descriptor = linearDescriptor({
    id,
    url,
    input: kv(STR, VARINT),
    state: true,
    steps: [
      pardo(
        "count",
        "let calls = 0; export default async (e, ctx) => { const bag = ctx.state('n'); " +
          `const seen = calls++ % ${every} === 0 ? (await bag.read()).length : -1; ` +
          "bag.add(e.value); return [{ key: e.key, value: seen }]; }",
        {
          state_specs: new Map([
            [
              "n",
              new pipelineApi.StateSpec({
                bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: varintId }),
              }),
            ],
          ]),
        },
      ),
    ],
  });
  for (const [cid, c] of coders) descriptor.coders.set(cid, c);
  return descriptor;
}

/** The timer coder of family `t` of the `timed` transform. */
export const TIMER_SPEC: CoderSpec = { urn: "beam:coder:timer:v1", components: [STR, GLOBAL] };

/**
 * kv(string, varint): each element sets timer `t` at its value; a fired
 * timer outputs `fired:<key>@<timestamp>`.
 */
export function timerDescriptor(id: string, url: string): fnApi.ProcessBundleDescriptor {
  const coders = new Map<string, pipelineApi.Coder>();
  const timerId = addCoder(coders, TIMER_SPEC);
  const descriptor = linearDescriptor({
    id,
    url,
    input: kv(STR, VARINT),
    timers: true,
    steps: [
      {
        ...pardo(
          "timed",
          "export default { process(e, ctx) { ctx.timer('t').set(e.value); }, onTimer: { t(timer, ctx) { ctx.output({ key: 'fired:' + timer.key + '@' + timer.timestamp, value: 0 }); } } }",
          {
            timer_family_specs: new Map([
              [
                "t",
                new pipelineApi.TimerFamilySpec({
                  time_domain: pipelineApi.TimeDomain.Enum.EVENT_TIME,
                  timer_family_coder_id: timerId,
                }),
              ],
            ]),
          },
        ),
      },
    ],
  });
  for (const [cid, c] of coders) descriptor.coders.set(cid, c);
  return descriptor;
}

/** Encodes timers of family `t` (global window) for the given keys and fire times. */
export function encodeTimers(timers: { key: string; at: number }[]): Uint8Array {
  const coder = coderOf<Timer<unknown>>(TIMER_SPEC);
  return Buffer.concat(
    timers.map((t) =>
      coder.encode(
        {
          userKey: t.key,
          dynamicTimerTag: "",
          windows: [GLOBAL_WINDOW],
          clearBit: false,
          fireTimestamp: BigInt(t.at),
          holdTimestamp: BigInt(t.at),
          pane: NO_FIRING,
        },
        "nested",
      ),
    ),
  );
}

/** Runs one bundle of an `upperDescriptor` with the given strings; resolves to the response. */
export async function runUpper(
  runner: FakeRunner,
  descriptorId: string,
  instructionId: string,
  values: string[],
): Promise<fnApi.InstructionResponse> {
  const response = runner.processBundle(descriptorId, instructionId);
  await runner.sendData(instructionId, "source", encodeGlobal(STR, values));
  return response;
}

/** Resolves with `value`, or with `fallback` after `ms`. */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<F>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
