/**
 * GroupByKey executed by the runner: groups a PCollection of KVs by encoded
 * key and window (for merging window fns, by key, merging the windows when
 * the groups are emitted). Groups are held in memory up to a budget; past it
 * they are written to disk as sorted runs and merged at the end, so inputs
 * larger than memory work. Output: KV<K, Iterable<V>> at the window's max
 * timestamp with the on-time pane; with a state-backed output coder, groups
 * above its threshold keep a prefix inline and the rest goes to the runner's
 * state under a token (see graph/state-backed-iterables.ts).
 */
import {
  ByteReader,
  ByteWriter,
  ON_TIME_AND_ONLY_FIRING,
  StateWritingIterable,
  type BoundedWindow,
  type Coder,
  type IterableStateWriter,
  type KV,
  type WindowedValue,
  type WindowedValueCoder,
} from "../../../coders/index.js";
import {
  decodingWriter,
  type BundleWriter,
  type ChannelConsumer,
  type PCollectionChannel,
} from "./channel.js";
import { mergeRuns, SpillDirectory, type Group } from "./spill.js";
import type { WindowedInput, WindowMerger } from "./window-merging.js";

export interface GroupByKeyOptions {
  /** Bytes of grouped data held in memory before a sorted run is spilled. */
  memoryBudgetBytes: number;
  /** Where runs go. @default os.tmpdir() */
  spillDir?: string;
  /** Output segments of about this size (the downstream stage's bundles are cut from them). */
  segmentBytes: number;
}

/** Groups larger than `thresholdBytes` (encoded) are sent with their tail in `store`. */
export interface StateBackedGroups {
  thresholdBytes: number;
  store: IterableStateWriter;
}

const GROUP_OVERHEAD = 96;
const VALUE_OVERHEAD = 8;

export class GroupByKeyBuffer implements ChannelConsumer {
  private table = new Map<string, { writer: ByteWriter; count: number }>();
  private bytes = 0;
  private readonly spill: SpillDirectory;
  private readonly keyCoder: Coder<unknown>;
  private readonly valueCoder: Coder<unknown>;
  private readonly windowCoder: Coder<BoundedWindow>;
  private readonly scratch = new ByteWriter(256);
  inputElements = 0;
  /** Groups whose tail went to the runner's state. */
  stateBackedGroups = 0;
  /** `stateBacked` with a store that counts the groups written to it. */
  private readonly stateWriting: StateBackedGroups | undefined;

  constructor(
    readonly transformId: string,
    private readonly inputCoder: WindowedValueCoder<unknown>,
    private readonly outputCoder: Coder<WindowedValue<unknown>>,
    private readonly merger: WindowMerger | undefined,
    private readonly options: GroupByKeyOptions,
    stateBacked?: StateBackedGroups,
  ) {
    const kv = inputCoder.valueCoder;
    if (kv.components.length !== 2 || !kv.urn.includes(":kv:"))
      throw new Error(
        `GroupByKey ${JSON.stringify(transformId)}: its input must be KVs (coder ${kv.urn})`,
      );
    [this.keyCoder, this.valueCoder] = kv.components;
    this.windowCoder = inputCoder.windowCoder;
    this.spill = new SpillDirectory(options.spillDir);
    this.stateWriting = stateBacked && {
      thresholdBytes: stateBacked.thresholdBytes,
      store: {
        write: (encoded) => {
          this.stateBackedGroups++;
          return stateBacked.store.write(encoded);
        },
      },
    };
  }

  /** Sorted runs written so far. */
  get spilledRuns(): number {
    return this.spill.runsWritten;
  }

  open(): BundleWriter {
    return decodingWriter(this.inputCoder, (v) =>
      this.add(v as WindowedValue<KV<unknown, unknown>>),
    );
  }

  private add(wv: WindowedValue<KV<unknown, unknown>>): void {
    this.inputElements++;
    const w = this.scratch;
    for (const window of wv.windows) {
      w.reset();
      this.keyCoder.encodeTo(wv.value.key, w, "nested");
      if (!this.merger) this.windowCoder.encodeTo(window, w, "nested");
      const groupKey = Buffer.from(w.view()).toString("latin1");
      let group = this.table.get(groupKey);
      if (!group) {
        group = { writer: new ByteWriter(64), count: 0 };
        this.table.set(groupKey, group);
        this.bytes += groupKey.length + GROUP_OVERHEAD;
      }
      const before = group.writer.pos;
      if (this.merger) this.windowCoder.encodeTo(window, group.writer, "nested");
      this.valueCoder.encodeTo(wv.value.value, group.writer, "nested");
      group.count++;
      this.bytes += group.writer.pos - before + VALUE_OVERHEAD;
    }
    if (this.bytes > this.options.memoryBudgetBytes) this.spillTable();
  }

  private sortedTable(): Group[] {
    const keys = [...this.table.keys()].sort();
    return keys.map((key) => {
      const { writer, count } = this.table.get(key) as { writer: ByteWriter; count: number };
      return { key, count, data: writer.view() };
    });
  }

  private spillTable(): void {
    this.spill.writeRun(this.sortedTable());
    this.table = new Map();
    this.bytes = 0;
  }

  /** Emits every group into `out`, in segments; frees memory and spill files. */
  emit(out: PCollectionChannel): number {
    let emitted = 0;
    try {
      const groups =
        this.spill.runs.length === 0
          ? this.sortedTable()
          : mergeRuns(this.spill.runs, this.sortedTable());
      this.table = new Map();
      this.bytes = 0;
      const writer = new ByteWriter(this.options.segmentBytes + 4096);
      let bundle: BundleWriter | undefined;
      const flush = () => {
        if (writer.pos === 0) return;
        bundle ??= out.open();
        bundle.write(writer.toBytes());
        bundle.end();
        bundle = undefined;
        writer.reset();
      };
      for (const group of groups) {
        for (const element of this.outputsOf(group)) {
          this.outputCoder.encodeTo(element, writer, "nested");
          emitted++;
          if (writer.pos >= this.options.segmentBytes) flush();
        }
      }
      flush();
    } finally {
      this.spill.dispose();
    }
    out.elements += emitted;
    return emitted;
  }

  private *outputsOf(group: Group): Generator<WindowedValue<KV<unknown, unknown>>> {
    const head = new ByteReader(Buffer.from(group.key, "latin1"));
    const key = this.keyCoder.decodeFrom(head, "nested");
    const reader = new ByteReader(group.data);
    if (!this.merger) {
      const window = this.windowCoder.decodeFrom(head, "nested");
      const values: unknown[] = new Array(group.count);
      for (let i = 0; i < group.count; i++)
        values[i] = this.valueCoder.decodeFrom(reader, "nested");
      yield this.output(key, window, values);
      return;
    }
    const windowed: WindowedInput[] = new Array(group.count);
    for (let i = 0; i < group.count; i++) {
      const window = this.windowCoder.decodeFrom(reader, "nested");
      windowed[i] = { window, value: this.valueCoder.decodeFrom(reader, "nested") };
    }
    for (const merged of this.merger(windowed))
      yield this.output(key, merged.window, merged.values);
  }

  private output(
    key: unknown,
    window: BoundedWindow,
    values: unknown[],
  ): WindowedValue<KV<unknown, unknown>> {
    const writing = this.stateWriting;
    const grouped = writing
      ? new StateWritingIterable(values, writing.thresholdBytes, writing.store)
      : values;
    return {
      value: { key, value: grouped },
      timestamp: window.maxTimestamp,
      windows: [window],
      pane: ON_TIME_AND_ONLY_FIRING,
    };
  }
}
