/**
 * Random and mutated Fn API inputs for the `instructions` fuzz target:
 * ProcessBundleDescriptors (bad coder URNs, dangling and cyclic references,
 * bad payload bytes, byte-level mutations), data streams (random bytes,
 * bit flips, truncation, wrong transform ids) and instruction ids.
 */
import { fnApi, pipelineApi } from "../../proto/index.js";
import { Rng } from "./prng.js";

export const SOURCE_URN = "beam:runner:source:v1";

/** Instruction ids: unique, empty, odd unicode, very long, or reused. */
export function randomId(rng: Rng, used: readonly string[], fresh: string): string {
  switch (rng.int(8)) {
    case 0:
      return "";
    case 1:
      return used.length > 0 ? rng.pick(used) : fresh;
    case 2:
      return `${fresh}-\u0000\u{1F525}\uFFFD`;
    case 3:
      return `${fresh}-${"x".repeat(rng.int(5000))}`;
    default:
      return fresh;
  }
}

/** Flips, inserts, deletes or overwrites a few bytes. */
export function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  const out = Array.from(input);
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(5)) {
      case 0:
        if (out.length > 0) out[Math.min(at, out.length - 1)]! ^= 1 << rng.int(8);
        break;
      case 1:
        out.splice(at, 0, ...rng.bytes(1 + rng.int(8)));
        break;
      case 2:
        out.splice(at, 1 + rng.int(8));
        break;
      case 3:
        out.splice(at, 0, 0xff, 0xff, 0xff, 0xff, 0x0f);
        break;
      default:
        if (out.length > 0) out[Math.min(at, out.length - 1)] = rng.u32() & 0xff;
    }
  }
  return Uint8Array.from(out);
}

function clone(d: fnApi.ProcessBundleDescriptor): fnApi.ProcessBundleDescriptor {
  return fnApi.ProcessBundleDescriptor.deserializeBinary(d.serializeBinary());
}

const WRONG_CODER_URNS = [
  "beam:coder:nope:v1",
  "",
  "beam:coder:kv:v1", // without components
  "beam:coder:row:v1", // without a schema
  "beam:coder:length_prefix:v1",
  "beam:coder:windowed_value:v1",
  "beam:coder:timer:v1",
];

const WRONG_TRANSFORM_URNS = [
  "beam:transform:nope:v1",
  "",
  "beam:transform:pardo:v1",
  "beam:transform:flatten:v1",
  "beam:runner:sink:v1",
  SOURCE_URN,
  "beam:transform:combine_per_key_precombine:v1",
  "beam:transform:group_by_key:v1",
];

const BAD_DOFN_JSON = [
  "{",
  "null",
  "[]",
  '{"source": 42}',
  '{"source": "export default 1"}',
  '{"source": "throw new Error(\'at import\')"}',
  '{"source": "export default (x) => x", "export": "missing"}',
  '{"module": "./does/not/exist.mjs"}',
  '{"module": "/etc/passwd"}',
  '{"module": "../../../../../../tmp/x.mjs"}',
  '{"source": "export default { process() { return \'a string\'; } }"}',
  '{"source": "export default () => [undefined, null, Symbol()]"}',
  '{"source": "export default class { constructor() { throw 7; } }"}',
];

/** One mutation of a descriptor, named (the name goes in the case label). */
export function mutateDescriptor(
  rng: Rng,
  base: fnApi.ProcessBundleDescriptor,
): { name: string; descriptor: fnApi.ProcessBundleDescriptor } {
  const d = clone(base);
  const coderIds = [...d.coders.keys()];
  const pcIds = [...d.pcollections.keys()];
  const transformIds = [...d.transforms.keys()];
  switch (rng.int(12)) {
    case 0: {
      const id = rng.pick(coderIds);
      d.coders.get(id)!.spec.urn = rng.pick(WRONG_CODER_URNS);
      return { name: "bad coder urn", descriptor: d };
    }
    case 1: {
      // A coder that contains itself (directly or through a component).
      const id = rng.pick(coderIds);
      const coder = d.coders.get(id)!;
      coder.component_coder_ids = [...coder.component_coder_ids, id];
      if (coder.component_coder_ids.length > 1 && rng.chance(0.5))
        coder.component_coder_ids = [id, id];
      return { name: "cyclic coder", descriptor: d };
    }
    case 2: {
      const id = rng.pick(coderIds);
      d.coders.get(id)!.component_coder_ids = ["no-such-coder"];
      return { name: "dangling coder component", descriptor: d };
    }
    case 3: {
      const t = d.transforms.get(rng.pick(transformIds))!;
      const map = rng.chance(0.5) ? t.inputs : t.outputs;
      const key = map.size > 0 ? rng.pick([...map.keys()]) : "in";
      map.set(key, "no-such-pcollection");
      return { name: "dangling pcollection", descriptor: d };
    }
    case 4: {
      // Feed the last PCollection back into the first non-source transform.
      const t = [...d.transforms.values()].find(
        (x) => x.spec.urn !== SOURCE_URN && x.inputs.size > 0 && x.outputs.size > 0,
      );
      if (t) {
        const out = [...t.outputs.values()][0]!;
        t.inputs.set("loop", out);
      }
      return { name: "cyclic graph", descriptor: d };
    }
    case 5: {
      const t = d.transforms.get(rng.pick(transformIds))!;
      t.spec.payload = rng.chance(0.5) ? rng.bytes(rng.int(64)) : mutateBytes(rng, t.spec.payload);
      return { name: "bad transform payload", descriptor: d };
    }
    case 6: {
      const t = d.transforms.get(rng.pick(transformIds))!;
      t.spec.urn = rng.pick(WRONG_TRANSFORM_URNS);
      return { name: "wrong transform urn", descriptor: d };
    }
    case 7: {
      const pardo = [...d.transforms.values()].find(
        (x) => x.spec.urn === "beam:transform:pardo:v1",
      );
      if (pardo) {
        const payload = pipelineApi.ParDoPayload.deserializeBinary(pardo.spec.payload);
        payload.do_fn.payload = new TextEncoder().encode(rng.pick(BAD_DOFN_JSON));
        pardo.spec.payload = payload.serializeBinary();
      }
      return { name: "bad dofn spec", descriptor: d };
    }
    case 8: {
      const what = rng.int(3);
      if (what === 0) d.coders.delete(rng.pick(coderIds));
      else if (what === 1) d.pcollections.delete(rng.pick(pcIds));
      else d.windowing_strategies.clear();
      return { name: "missing definition", descriptor: d };
    }
    case 9: {
      const pc = d.pcollections.get(rng.pick(pcIds))!;
      if (rng.chance(0.5)) pc.coder_id = "no-such-coder";
      else pc.windowing_strategy_id = "no-such-windowing";
      return { name: "pcollection with dangling refs", descriptor: d };
    }
    case 10: {
      const ws = [...d.windowing_strategies.values()][0];
      if (ws) {
        if (rng.chance(0.5)) ws.window_fn.urn = "beam:window_fn:nope:v1";
        else ws.window_coder_id = rng.pick(coderIds);
      }
      return { name: "bad windowing", descriptor: d };
    }
    default: {
      const bytes = mutateBytes(rng, d.serializeBinary());
      if (wireCheck(bytes) !== "ok")
        return { name: "byte-mutated descriptor (unsafe to parse, kept)", descriptor: d };
      try {
        const parsed = fnApi.ProcessBundleDescriptor.deserializeBinary(bytes);
        parsed.id = d.id;
        return { name: "byte-mutated descriptor", descriptor: parsed };
      } catch {
        return { name: "byte-mutated descriptor (unparsable, kept)", descriptor: d };
      }
    }
  }
}

/** Source transform ids of a descriptor. */
export function sourcesOf(d: fnApi.ProcessBundleDescriptor): string[] {
  return [...d.transforms].filter(([, t]) => t.spec.urn === SOURCE_URN).map(([id]) => id);
}

/** (transform, family) pairs of every ParDo with timer families whose payload parses. */
export function timerFamiliesOf(d: fnApi.ProcessBundleDescriptor): [string, string][] {
  if (!d.has_timer_api_service_descriptor) return [];
  const out: [string, string][] = [];
  for (const [id, t] of d.transforms) {
    if (t.spec.urn !== "beam:transform:pardo:v1") continue;
    try {
      for (const family of pipelineApi.ParDoPayload.deserializeBinary(
        t.spec.payload,
      ).timer_family_specs.keys())
        out.push([id, family]);
    } catch {
      // an unparsable payload: the worker rejects the descriptor
    }
  }
  return out;
}

/** A data-stream plan: what to send before the final `is_last`s. */
export interface DataPlan {
  name: string;
  /** (transform id, bytes) chunks, in order. */
  chunks: { transformId: string; bytes: Uint8Array }[];
  /** Timers for (transform, family) sent before the end. */
  timers: { transformId: string; family: string; bytes: Uint8Array }[];
}

/** Mutations of a valid encoded input for the given sources. */
export function dataPlan(
  rng: Rng,
  sources: readonly string[],
  valid: Uint8Array,
  families: readonly [string, string][],
): DataPlan {
  const to = sources.length > 0 ? rng.pick(sources) : "source";
  const cut = (bytes: Uint8Array) => {
    const chunks: { transformId: string; bytes: Uint8Array }[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + rng.int(Math.max(1, bytes.length));
      chunks.push({ transformId: to, bytes: bytes.subarray(at, at + n) });
      at += n;
    }
    return chunks;
  };
  switch (rng.int(9)) {
    case 0:
      return { name: "valid", chunks: cut(valid), timers: [] };
    case 1:
      return { name: "random bytes", chunks: cut(rng.bytes(rng.int(200))), timers: [] };
    case 2:
      return { name: "mutated bytes", chunks: cut(mutateBytes(rng, valid)), timers: [] };
    case 3:
      return {
        name: "truncated element",
        chunks: cut(valid.subarray(0, Math.max(0, valid.length - 1 - rng.int(4)))),
        timers: [],
      };
    case 4:
      return {
        name: "wrong transform id",
        chunks: [{ transformId: rng.pick(["nope", "sink", "", "up"]), bytes: valid }],
        timers: [],
      };
    case 5:
      return {
        name: "timers for an unknown family",
        chunks: cut(valid),
        timers: [{ transformId: rng.pick(["up", "nope", "timed"]), family: "zz", bytes: valid }],
      };
    case 6:
      return {
        name: "random timers",
        chunks: cut(valid),
        timers: families.map(([transformId, family]) => ({
          transformId,
          family,
          bytes: rng.chance(0.5) ? rng.bytes(rng.int(64)) : mutateBytes(rng, valid),
        })),
      };
    case 7:
      return { name: "empty stream", chunks: [], timers: [] };
    default:
      return { name: "many tiny messages", chunks: cut(valid).concat(cut(valid)), timers: [] };
  }
}

/** A request of any kind with random contents (for the "other" instruction kinds). */
export function randomRequest(
  rng: Rng,
  id: string,
  targetIds: readonly string[],
): fnApi.InstructionRequest {
  const target = () =>
    targetIds.length > 0 && rng.chance(0.6) ? rng.pick(targetIds) : `nope-${rng.u32()}`;
  switch (rng.int(8)) {
    case 0:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        process_bundle_progress: new fnApi.ProcessBundleProgressRequest({
          instruction_id: target(),
        }),
      });
    case 1:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        process_bundle_split: new fnApi.ProcessBundleSplitRequest({
          instruction_id: target(),
          desired_splits: new Map([
            [
              rng.pick(["source", "nope", ""]),
              new fnApi.ProcessBundleSplitRequest.DesiredSplit({
                fraction_of_remainder: rng.pick([0, 0.5, 1, -1, 2, Number.NaN, 1e-300]),
                estimated_input_elements: rng.pick([0, 1, 100, -5, 2 ** 40]),
                allowed_split_points: rng.chance(0.5) ? [] : [0, 1, 2, rng.int(100)],
              }),
            ],
          ]),
        }),
      });
    case 2:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        finalize_bundle: new fnApi.FinalizeBundleRequest({ instruction_id: target() }),
      });
    case 3:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        monitoring_infos: new fnApi.MonitoringInfosMetadataRequest({
          monitoring_info_id: ["1", "2", "", `${rng.u32()}`, "\u{1F525}"],
        }),
      });
    case 4:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        harness_monitoring_infos: new fnApi.HarnessMonitoringInfosRequest(),
      });
    case 5:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        sample_data: new fnApi.SampleDataRequest({ pcollection_ids: ["pc0", "nope", ""] }),
      });
    case 6:
      return new fnApi.InstructionRequest({ instruction_id: id }); // no request kind at all
    default:
      return new fnApi.InstructionRequest({
        instruction_id: id,
        register: new fnApi.RegisterRequest({ process_bundle_descriptor: [] }),
      });
  }
}

/**
 * A conservative walk of protobuf wire format: "overflow" when a
 * length-delimited field (at any depth that walks as a message) claims more
 * bytes than remain. google-protobuf's readString does not check that and
 * loops for minutes, so such mutants are not parsed on the runner side.
 */
export function wireCheck(bytes: Uint8Array, depth = 0): "ok" | "invalid" | "overflow" {
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= bytes.length) return undefined;
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return undefined;
  };
  while (at < bytes.length) {
    const tag = varint();
    if (tag === undefined || tag < 8) return "invalid";
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === undefined) return "invalid";
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const n = varint();
      if (n === undefined) return "invalid";
      if (n > bytes.length - at) return "overflow";
      if (depth < 20 && wireCheck(bytes.subarray(at, at + n), depth + 1) === "overflow")
        return "overflow";
      at += n;
    } else return "invalid";
    if (at > bytes.length) return "invalid";
  }
  return "ok";
}
