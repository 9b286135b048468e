/**
 * Side inputs served through the State API: each (consuming transform, side
 * input id) names a materialized PCollection; on first read it is indexed by
 * encoded window (iterable: the values; multimap: values by encoded key, and
 * the keys), and pages are cut from the index.
 */
import {
  ByteWriter,
  type BoundedWindow,
  type Coder,
  type KV,
  type WindowedValue,
  type WindowedValueCoder,
} from "../../../coders/index.js";
import type { SegmentStore } from "../exec/channel.js";
import type { StateService } from "../fn-api/state-service.js";

interface WindowIndex {
  values: ByteWriter;
  byKey: Map<string, ByteWriter>;
}

class SideInputIndex {
  private windows: Map<string, WindowIndex> | undefined;

  constructor(
    private readonly store: SegmentStore,
    private readonly coder: WindowedValueCoder<unknown>,
  ) {}

  private index(): Map<string, WindowIndex> {
    if (this.windows) return this.windows;
    const windows = new Map<string, WindowIndex>();
    const kv = this.coder.valueCoder;
    const isKv = kv.urn.includes(":kv:") && kv.components.length === 2;
    const windowBytes = new ByteWriter(64);
    for (const element of this.store.values()) {
      const wv = element as WindowedValue<unknown>;
      for (const window of wv.windows) {
        windowBytes.reset();
        this.coder.windowCoder.encodeTo(window as BoundedWindow, windowBytes, "nested");
        const w = Buffer.from(windowBytes.view()).toString("latin1");
        let entry = windows.get(w);
        if (!entry) windows.set(w, (entry = { values: new ByteWriter(256), byKey: new Map() }));
        kv.encodeTo(wv.value, entry.values, "nested");
        if (isKv) {
          const { key, value } = wv.value as KV<unknown, unknown>;
          const k = Buffer.from(kv.components[0].encode(key, "nested")).toString("latin1");
          let values = entry.byKey.get(k);
          if (!values) entry.byKey.set(k, (values = new ByteWriter(64)));
          kv.components[1].encodeTo(value, values, "nested");
        }
      }
    }
    this.windows = windows;
    return windows;
  }

  private window(window: Uint8Array): WindowIndex | undefined {
    return this.index().get(Buffer.from(window).toString("latin1"));
  }

  iterable(window: Uint8Array): Uint8Array {
    return this.window(window)?.values.view() ?? new Uint8Array();
  }

  values(window: Uint8Array, key: Uint8Array): Uint8Array {
    this.requireKv();
    return (
      this.window(window)?.byKey.get(Buffer.from(key).toString("latin1"))?.view() ??
      new Uint8Array()
    );
  }

  keys(window: Uint8Array): Uint8Array {
    this.requireKv();
    const entry = this.window(window);
    if (!entry) return new Uint8Array();
    return Buffer.concat([...entry.byKey.keys()].map((k) => Buffer.from(k, "latin1")));
  }

  private requireKv(): void {
    const kv: Coder<unknown> = this.coder.valueCoder;
    if (!(kv.urn.includes(":kv:") && kv.components.length === 2))
      throw new Error(`a multimap side input needs KV elements, the coder is ${kv.urn}`);
  }
}

export class SideInputStore {
  private readonly sideInputs = new Map<string, SideInputIndex>();

  /** Makes `store` readable as side input `sideInputId` of `transformId`. */
  add(
    transformId: string,
    sideInputId: string,
    store: SegmentStore,
    coder: WindowedValueCoder<unknown>,
  ): void {
    this.sideInputs.set(idOf(transformId, sideInputId), new SideInputIndex(store, coder));
  }

  registerWith(state: StateService): void {
    state.register("iterable_side_input", {
      get: (key) => this.lookup(key.iterable_side_input).iterable(key.iterable_side_input.window),
    });
    state.register("multimap_side_input", {
      get: (key) => {
        const k = key.multimap_side_input;
        return this.lookup(k).values(k.window, k.key);
      },
    });
    state.register("multimap_keys_side_input", {
      get: (key) => {
        const k = key.multimap_keys_side_input;
        return this.lookup(k).keys(k.window);
      },
    });
  }

  private lookup(key: { transform_id: string; side_input_id: string }): SideInputIndex {
    const index = this.sideInputs.get(idOf(key.transform_id, key.side_input_id));
    if (!index)
      throw new Error(
        `no side input ${JSON.stringify(key.side_input_id)} of transform ${JSON.stringify(key.transform_id)}`,
      );
    return index;
  }
}

function idOf(transformId: string, sideInputId: string): string {
  return `${transformId}\u0000${sideInputId}`;
}
