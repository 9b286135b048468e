/**
 * Timers a stage's bundles set, with batch semantics: the latest setting of
 * a timer (transform, family, key, windows, tag) wins, a clear removes it;
 * once the stage's input is done, the set timers are sent back (in timestamp
 * order) in further bundles until none are left.
 */
import {
  ByteWriter,
  coderFromProto,
  StreamDecoder,
  type Timer,
  type TimerCoder,
} from "../../../coders/index.js";
import type { TimerFamily } from "../graph/descriptors.js";
import type { PipelineModel } from "../graph/pipeline-model.js";

type SetTimer = Timer<unknown> & { clearBit: false };

export function familyKey(transformId: string, family: string): string {
  return `${transformId}\u0000${family}`;
}

export class TimerStore {
  private readonly coders = new Map<string, TimerCoder<unknown>>();
  private pending = new Map<string, Map<string, SetTimer>>();
  private readonly identity = new ByteWriter(128);
  fired = 0;

  constructor(
    model: PipelineModel,
    readonly families: readonly TimerFamily[],
  ) {
    for (const f of families)
      this.coders.set(
        familyKey(f.transformId, f.family),
        coderFromProto(f.coderId, model.components) as TimerCoder<unknown>,
      );
  }

  get size(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  /** Takes one bundle's timer stream of a family. */
  add(transformId: string, family: string, chunks: Uint8Array[]): void {
    const key = familyKey(transformId, family);
    const coder = this.coders.get(key);
    if (!coder) throw new Error(`timers for unknown family ${family} of ${transformId}`);
    const decoder = new StreamDecoder(coder);
    let timers = this.pending.get(key);
    if (!timers) this.pending.set(key, (timers = new Map()));
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let t = decoder.next(); t !== undefined; t = decoder.next()) {
        const id = this.identityOf(coder, t);
        if (t.clearBit) timers.delete(id);
        else timers.set(id, t as SetTimer);
      }
    }
    decoder.finish();
  }

  /** Removes every set timer, encoded per family in fire-timestamp order. */
  takeAll(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [key, timers] of this.pending) {
      if (timers.size === 0) continue;
      const coder = this.coders.get(key) as TimerCoder<unknown>;
      const sorted = [...timers.values()].sort((a, b) =>
        a.fireTimestamp < b.fireTimestamp ? -1 : a.fireTimestamp > b.fireTimestamp ? 1 : 0,
      );
      const writer = new ByteWriter(1024);
      for (const t of sorted) coder.encodeTo(t, writer);
      out.set(key, writer.finish());
      this.fired += sorted.length;
    }
    this.pending = new Map();
    return out;
  }

  private identityOf(coder: TimerCoder<unknown>, t: Timer<unknown>): string {
    const w = this.identity;
    w.reset();
    coder.keyCoder.encodeTo(t.userKey, w, "nested");
    for (const window of t.windows) coder.windowCoder.encodeTo(window, w, "nested");
    return `${t.dynamicTimerTag.length}:${t.dynamicTimerTag}:${Buffer.from(w.view()).toString("latin1")}`;
  }
}
