/**
 * The optional parts of a ParDo — side inputs, user state and timers — built
 * from its ParDoPayload. A ParDo without them pays nothing per element.
 */
import type { BoundedWindow, Coder, WindowedValue } from "../../coders/index.js";
import type { pipelineApi } from "../../proto/index.js";
import { loadCombineFn, type CombineFn } from "../combine/combine-fn.js";
import type { MaybePromise } from "../operation.js";
import type { OperationContext } from "../registry.js";
import { mainInputPCollection, pcollectionCoders } from "./coder-components.js";
import type { TimerHandle } from "./pardo-host.js";
import { SideInputs } from "./side-inputs.js";
import {
  bagHandle,
  combiningHandle,
  mapHandle,
  orderedListHandle,
  setHandle,
  valueHandle,
  type FlushableHandle,
} from "./state-handles.js";
import { TimerFamilies, type FireTimer } from "./timers.js";
import { BagCell, bagUserStateKey, stateSpecInfo, type StateSpecInfo } from "./user-state.js";
import { errorMessage } from "../errors.js";

interface StateEntry extends StateSpecInfo {
  coder: Coder<unknown>;
  mapKeyCoder?: Coder<unknown>;
  loadedCombineFn?: CombineFn;
}

export class ParDoFeatures {
  private readonly sideInputs: SideInputs | undefined;
  private readonly timers: TimerFamilies | undefined;
  private readonly states = new Map<string, StateEntry>();
  private readonly keyCoder: Coder<unknown> | undefined;
  private readonly windowCoder: Coder<BoundedWindow> | undefined;
  private readonly handles = new Map<string, FlushableHandle>();

  constructor(
    private readonly op: OperationContext,
    payload: pipelineApi.ParDoPayload,
    fire: FireTimer,
  ) {
    if (payload.side_inputs.size > 0) this.sideInputs = new SideInputs(op, payload);
    const keyed = payload.state_specs.size > 0 || payload.timer_family_specs.size > 0;
    if (keyed) {
      const main = mainInputPCollection(op.transform, payload.side_inputs.keys());
      const coders = pcollectionCoders(op.descriptor, main);
      if (!coders.keyCoderId)
        throw new Error("a ParDo with state or timers needs a KV input (its key scopes the state)");
      this.keyCoder = op.coder(coders.keyCoderId);
      this.windowCoder = op.coder(coders.windowCoderId) as Coder<BoundedWindow>;
    }
    for (const [name, spec] of payload.state_specs) {
      const info = stateSpecInfo(name, spec);
      this.states.set(name, {
        ...info,
        coder: op.coder(info.coderId),
        mapKeyCoder: info.keyCoderId ? op.coder(info.keyCoderId) : undefined,
      });
    }
    if (payload.timer_family_specs.size > 0) this.timers = new TimerFamilies(op, payload, fire);
  }

  get timerFamilyIds(): readonly string[] {
    return this.timers?.timerFamilyIds ?? [];
  }

  async setup(): Promise<void> {
    for (const [name, entry] of this.states) {
      if (entry.kind === "combining") {
        try {
          entry.loadedCombineFn = await loadCombineFn(entry.combineFn);
        } catch (err) {
          throw new Error(`combining state ${JSON.stringify(name)}: ${errorMessage(err)}`, {
            cause: err,
          });
        }
      }
    }
  }

  startBundle(): void {
    this.handles.clear();
    this.sideInputs?.startBundle();
    this.timers?.startBundle();
  }

  async finishBundle(): Promise<void> {
    for (const handle of this.handles.values()) await handle.flush();
    this.handles.clear();
    await this.timers?.finishBundle();
  }

  sideInput(name: string, element: WindowedValue<unknown>): Promise<unknown> {
    if (!this.sideInputs)
      return Promise.reject(
        new Error(`no side input ${JSON.stringify(name)}: this ParDo has none`),
      );
    return this.sideInputs.get(name, element);
  }

  state(name: string, element: WindowedValue<unknown>): unknown {
    const entry = this.states.get(name);
    if (!entry)
      throw new Error(
        `no state ${JSON.stringify(name)} (states: ${[...this.states.keys()].join(", ") || "none"})`,
      );
    const key = (this.keyCoder as Coder<unknown>).encode(
      (element.value as { key: unknown }).key,
      "nested",
    );
    const window = (this.windowCoder as Coder<BoundedWindow>).encode(element.windows[0], "nested");
    const id = `${name}\u0000${Buffer.from(key).toString("latin1")}\u0000${Buffer.from(window).toString("latin1")}`;
    let handle = this.handles.get(id);
    if (!handle) {
      handle = this.makeHandle(name, entry, key, window);
      this.handles.set(id, handle);
    }
    return handle;
  }

  timer(family: string, element: WindowedValue<unknown>): TimerHandle {
    if (!this.timers)
      throw new Error(`no timer family ${JSON.stringify(family)}: this ParDo has none`);
    return this.timers.handle(family, element);
  }

  consumeTimers(family: string, bytes: Uint8Array): MaybePromise {
    return this.timers?.consume(family, bytes);
  }

  endOfTimers(family: string): void {
    this.timers?.end(family);
  }

  private makeHandle(
    name: string,
    entry: StateEntry,
    key: Uint8Array,
    window: Uint8Array,
  ): FlushableHandle {
    const state = () => this.op.bundle().state;
    const base = { transformId: this.op.transformId, userStateId: name, window, key };
    if (entry.kind === "map") {
      return mapHandle(base, entry.mapKeyCoder as Coder<unknown>, entry.coder, state);
    }
    if (entry.kind === "orderedList") return orderedListHandle(base, entry.coder, state);
    const cell = new BagCell(
      bagUserStateKey(this.op.transformId, name, window, key),
      entry.coder,
      state,
    );
    switch (entry.kind) {
      case "value":
        return valueHandle(cell);
      case "combining":
        return combiningHandle(cell, entry.loadedCombineFn as CombineFn);
      case "set":
        return setHandle(cell, entry.coder);
      default:
        return bagHandle(cell);
    }
  }
}
