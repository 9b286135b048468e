/**
 * Hand-built Beam Pipeline protos for the local runner's tests: impulse,
 * ParDos with `firefly:dofn:v1` source payloads (side inputs, state, timers),
 * GroupByKey, Flatten, Reshuffle, WindowInto, CombinePerKey (with its
 * expansion), and a file sink DoFn so results can be read back whatever
 * process or thread ran the bundle.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipelineApi, windowFnsApi, wkt } from "../../../proto/index.js";
import { addCoder, GLOBAL, type CoderSpec } from "../../support/descriptors.js";

export { BYTES, GLOBAL, INTERVAL, STR, VARINT, iterable, kv } from "../../support/descriptors.js";

export interface DoFnSpec {
  source: string;
  export?: string;
  config?: unknown;
}

export interface ParDoOptions {
  sideInputs?: Record<string, { pcollection: string; kind: "iterable" | "multimap" }>;
  /** Bag states by name → element coder. */
  bagStates?: Record<string, CoderSpec>;
  /** Event-time timer families by name (the key coder is the input's KV key coder). */
  timers?: string[];
  /** Extra tagged outputs: tag → coder. */
  taggedOutputs?: Record<string, CoderSpec>;
}

export class TestPipeline {
  readonly coders = new Map<string, pipelineApi.Coder>();
  readonly pcollections = new Map<string, pipelineApi.PCollection>();
  readonly transforms = new Map<string, pipelineApi.PTransform>();
  readonly windowings = new Map<string, pipelineApi.WindowingStrategy>();
  readonly roots: string[] = [];
  private n = 0;
  /** Coder spec of each PCollection. */
  readonly specs = new Map<string, CoderSpec>();

  constructor() {
    this.windowings.set(
      "global",
      new pipelineApi.WindowingStrategy({
        window_fn: new pipelineApi.FunctionSpec({ urn: "beam:window_fn:global_windows:v1" }),
        window_coder_id: addCoder(this.coders, GLOBAL),
        merge_status: pipelineApi.MergeStatus.Enum.NON_MERGING,
      }),
    );
  }

  pcollection(name: string, coder: CoderSpec, windowing = "global"): string {
    const id = `pc${++this.n}_${name}`;
    this.pcollections.set(
      id,
      new pipelineApi.PCollection({
        unique_name: id,
        coder_id: addCoder(this.coders, coder),
        windowing_strategy_id: windowing,
      }),
    );
    this.specs.set(id, coder);
    return id;
  }

  windowingOf(pc: string): string {
    return (this.pcollections.get(pc) as pipelineApi.PCollection).windowing_strategy_id;
  }

  transform(
    name: string,
    urn: string,
    payload: Uint8Array,
    inputs: Record<string, string>,
    outputs: Record<string, string>,
    root = true,
  ): string {
    this.transforms.set(
      name,
      new pipelineApi.PTransform({
        unique_name: name,
        spec: new pipelineApi.FunctionSpec({ urn, payload }),
        inputs: new Map(Object.entries(inputs)),
        outputs: new Map(Object.entries(outputs)),
      }),
    );
    if (root) this.roots.push(name);
    return name;
  }

  impulse(name = "Impulse"): string {
    const out = this.pcollection(name, { urn: "beam:coder:bytes:v1" });
    this.transform(name, "beam:transform:impulse:v1", new Uint8Array(), {}, { out });
    return out;
  }

  /** Impulse + a ParDo emitting `values` (JSON). */
  create(name: string, values: unknown[], coder: CoderSpec): string {
    const impulse = this.impulse(`${name}/Impulse`);
    return this.pardo(
      name,
      impulse,
      { source: "export default (_, ctx) => ctx.config.values", config: { values } },
      coder,
    );
  }

  pardo(
    name: string,
    input: string,
    fn: DoFnSpec,
    output: CoderSpec,
    options: ParDoOptions = {},
    root = true,
  ): string {
    const out = this.pcollection(name, output, this.windowingOf(input));
    const outputs: Record<string, string> = { main: out };
    for (const [tag, coder] of Object.entries(options.taggedOutputs ?? {}))
      outputs[tag] = this.pcollection(`${name}.${tag}`, coder, this.windowingOf(input));
    const inputs: Record<string, string> = { in: input };
    const sideInputs = new Map<string, pipelineApi.SideInput>();
    for (const [local, s] of Object.entries(options.sideInputs ?? {})) {
      inputs[local] = s.pcollection;
      sideInputs.set(
        local,
        new pipelineApi.SideInput({
          access_pattern: new pipelineApi.FunctionSpec({ urn: `beam:side_input:${s.kind}:v1` }),
          window_mapping_fn: new pipelineApi.FunctionSpec({
            urn: "beam:window_fn:global_windows:v1",
          }),
        }),
      );
    }
    const stateSpecs = new Map<string, pipelineApi.StateSpec>();
    for (const [state, coder] of Object.entries(options.bagStates ?? {}))
      stateSpecs.set(
        state,
        new pipelineApi.StateSpec({
          bag_spec: new pipelineApi.BagStateSpec({
            element_coder_id: addCoder(this.coders, coder),
          }),
        }),
      );
    const timerSpecs = new Map<string, pipelineApi.TimerFamilySpec>();
    if (options.timers?.length) {
      const inputSpec = this.specs.get(input) as CoderSpec;
      const keyCoder = (inputSpec.components ?? [])[0];
      const windowCoder = this.windowings.get(this.windowingOf(input))?.window_coder_id as string;
      const windowSpec = specOf(this.coders, windowCoder);
      for (const family of options.timers)
        timerSpecs.set(
          family,
          new pipelineApi.TimerFamilySpec({
            time_domain: pipelineApi.TimeDomain.Enum.EVENT_TIME,
            timer_family_coder_id: addCoder(this.coders, {
              urn: "beam:coder:timer:v1",
              components: [keyCoder, windowSpec],
            }),
          }),
        );
    }
    const payload = new pipelineApi.ParDoPayload({
      do_fn: new pipelineApi.FunctionSpec({
        urn: "firefly:dofn:v1",
        payload: new TextEncoder().encode(JSON.stringify(fn)),
      }),
      side_inputs: sideInputs,
      state_specs: stateSpecs,
      timer_family_specs: timerSpecs,
    });
    this.transform(
      name,
      "beam:transform:pardo:v1",
      payload.serializeBinary(),
      inputs,
      outputs,
      root,
    );
    return out;
  }

  /** The tagged output PCollection of a ParDo. */
  output(transform: string, tag: string): string {
    return (this.transforms.get(transform) as pipelineApi.PTransform).outputs.get(tag) as string;
  }

  groupByKey(name: string, input: string, root = true): string {
    const inSpec = this.specs.get(input) as CoderSpec;
    const [k, v] = inSpec.components ?? [];
    const out = this.pcollection(
      name,
      {
        urn: "beam:coder:kv:v1",
        components: [k, { urn: "beam:coder:iterable:v1", components: [v] }],
      },
      this.groupedWindowing(input),
    );
    this.transform(
      name,
      "beam:transform:group_by_key:v1",
      new Uint8Array(),
      { in: input },
      { out },
      root,
    );
    return out;
  }

  /** The windowing of a GroupByKey's output: merging windows are merged by then. */
  private groupedWindowing(input: string): string {
    const id = this.windowingOf(input);
    const ws = this.windowings.get(id) as pipelineApi.WindowingStrategy;
    if (ws.merge_status !== pipelineApi.MergeStatus.Enum.NEEDS_MERGE) return id;
    const merged = pipelineApi.WindowingStrategy.deserializeBinary(ws.serializeBinary());
    merged.merge_status = pipelineApi.MergeStatus.Enum.ALREADY_MERGED;
    this.windowings.set(`${id}-merged`, merged);
    return `${id}-merged`;
  }

  flatten(name: string, inputs: string[]): string {
    const out = this.pcollection(
      name,
      this.specs.get(inputs[0]) as CoderSpec,
      this.windowingOf(inputs[0]),
    );
    this.transform(
      name,
      "beam:transform:flatten:v1",
      new Uint8Array(),
      Object.fromEntries(inputs.map((pc, i) => [`in${i}`, pc])),
      { out },
    );
    return out;
  }

  reshuffle(name: string, input: string): string {
    const out = this.pcollection(name, this.specs.get(input) as CoderSpec, this.windowingOf(input));
    this.transform(name, "beam:transform:reshuffle:v1", new Uint8Array(), { in: input }, { out });
    return out;
  }

  /** WindowInto sessions (gap in millis). */
  sessions(name: string, input: string, gapMillis: number): string {
    const windowing = `sessions-${gapMillis}`;
    const fn = new pipelineApi.FunctionSpec({
      urn: "beam:window_fn:session_windows:v1",
      payload: new windowFnsApi.SessionWindowsPayload({
        gap_size: new wkt.Duration({
          seconds: Math.floor(gapMillis / 1000),
          nanos: (gapMillis % 1000) * 1e6,
        }),
      }).serializeBinary(),
    });
    this.windowings.set(
      windowing,
      new pipelineApi.WindowingStrategy({
        window_fn: fn,
        window_coder_id: addCoder(this.coders, { urn: "beam:coder:interval_window:v1" }),
        merge_status: pipelineApi.MergeStatus.Enum.NEEDS_MERGE,
      }),
    );
    const out = this.pcollection(name, this.specs.get(input) as CoderSpec, windowing);
    this.transform(
      name,
      "beam:transform:window_into:v1",
      new pipelineApi.WindowIntoPayload({ window_fn: fn }).serializeBinary(),
      { in: input },
      { out },
    );
    return out;
  }

  /** CombinePerKey as a composite: GBK + combine_grouped_values subtransforms. */
  combinePerKey(
    name: string,
    input: string,
    combineFn: unknown,
    accumulator: CoderSpec,
    output: CoderSpec,
  ): string {
    const inSpec = this.specs.get(input) as CoderSpec;
    const [k] = inSpec.components ?? [];
    const out = this.pcollection(
      name,
      { urn: "beam:coder:kv:v1", components: [k, output] },
      this.windowingOf(input),
    );
    const payload = new pipelineApi.CombinePayload({
      combine_fn: new pipelineApi.FunctionSpec({
        urn: "firefly:combinefn:v1",
        payload: new TextEncoder().encode(JSON.stringify(combineFn)),
      }),
      accumulator_coder_id: addCoder(this.coders, accumulator),
    }).serializeBinary();
    const grouped = this.groupByKey(`${name}/GroupByKey`, input, false);
    this.transform(
      `${name}/Combine`,
      "beam:transform:combine_grouped_values:v1",
      payload,
      { in: grouped },
      { out },
      false,
    );
    this.transform(name, "beam:transform:combine_per_key:v1", payload, { in: input }, { out });
    (this.transforms.get(name) as pipelineApi.PTransform).subtransforms = [
      `${name}/GroupByKey`,
      `${name}/Combine`,
    ];
    return out;
  }

  /** A ParDo appending each element as a JSON line to `file` (bigints as strings). */
  writeJsonLines(name: string, input: string, file: string): void {
    this.pardo(
      name,
      input,
      {
        source: `import * as fs from "node:fs";
export default (x, ctx) => {
  fs.appendFileSync(ctx.config.file, JSON.stringify(x, (k, v) => typeof v === "bigint" ? String(v) : (v instanceof Uint8Array ? Array.from(v) : v)) + "\\n");
};`,
        config: { file },
      },
      { urn: "beam:coder:bytes:v1" },
    );
  }

  build(): pipelineApi.Pipeline {
    return new pipelineApi.Pipeline({
      components: new pipelineApi.Components({
        transforms: this.transforms,
        pcollections: this.pcollections,
        coders: this.coders,
        windowing_strategies: this.windowings,
        environments: new Map(),
      }),
      root_transform_ids: this.roots,
    });
  }
}

function specOf(coders: Map<string, pipelineApi.Coder>, id: string): CoderSpec {
  const c = coders.get(id) as pipelineApi.Coder;
  return { urn: c.spec.urn, components: c.component_coder_ids.map((x) => specOf(coders, x)) };
}

export function tempFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-runner-test-"));
  return path.join(dir, name);
}

/** The JSON lines a file sink wrote (none if it never wrote). */
export function readJsonLines<T = unknown>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

export function sortedStrings(values: unknown[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}
