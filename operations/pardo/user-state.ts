/**
 * User state of a stateful ParDo (`state_specs`), per key and window, over
 * the State API. Writes are buffered per bundle (write-behind) and flushed at
 * finishBundle; reads merge what the runner has with what the bundle wrote.
 *   bag:       read() → array, add(v), clear()
 *   value:     read() → value | undefined, write(v), clear()     (read_modify_write)
 *   combining: read() → output, add(input), clear()              (accumulators in a bag)
 *   set:       read() → array (distinct by encoding), add(v), remove(v), clear()
 *   map:       get(k) → value | undefined, set(k, v), remove(k), keys(), entries(), clear()  (multimap)
 *   ordered list: add({timestamp, value}), read({from?, to?}) → sorted, clearRange(from, to), clear()
 */
import { ByteWriter, type Coder } from "../../coders/index.js";
import { fnApi, type pipelineApi } from "../../proto/index.js";
import type { StateAccess } from "../bundle-services.js";
import { decodePages } from "./decode-pages.js";

/** One buffered bag of one (state, key, window). */
export class BagCell {
  cleared = false;
  added: unknown[] = [];
  private remote: Promise<unknown[]> | undefined;

  constructor(
    private readonly stateKey: fnApi.StateKey,
    private readonly coder: Coder<unknown>,
    private readonly state: () => StateAccess,
  ) {}

  async read(): Promise<unknown[]> {
    if (this.cleared) return [...this.added];
    this.remote ??= this.state()
      .get(this.stateKey)
      .then((pages) => decodePages(pages, this.coder));
    const remote = await this.remote;
    return this.cleared ? [...this.added] : [...remote, ...this.added];
  }

  add(value: unknown): void {
    this.coder.encode(value, "nested"); // fail now, in the user's call, on a value the coder cannot encode
    this.added.push(value);
  }

  clear(): void {
    this.cleared = true;
    this.added = [];
    this.remote = undefined;
  }

  /** Sends the buffered writes. */
  async flush(): Promise<void> {
    const state = this.state();
    if (this.cleared) await state.clear(this.stateKey);
    if (this.added.length > 0) {
      const writer = new ByteWriter(256);
      for (const value of this.added) this.coder.encodeTo(value, writer, "nested");
      await state.append(this.stateKey, writer.finish());
    }
    this.cleared = false;
    this.added = [];
    this.remote = undefined;
  }
}

export type StateKind = "bag" | "value" | "combining" | "set" | "map" | "orderedList";

export interface StateSpecInfo {
  kind: StateKind;
  coderId: string;
  keyCoderId?: string;
  combineFn?: pipelineApi.FunctionSpec;
}

/** Which kind of state a StateSpec declares, and its coders. */
export function stateSpecInfo(name: string, spec: pipelineApi.StateSpec): StateSpecInfo {
  switch (spec.spec) {
    case "bag_spec":
      return { kind: "bag", coderId: spec.bag_spec.element_coder_id };
    case "read_modify_write_spec":
      return { kind: "value", coderId: spec.read_modify_write_spec.coder_id };
    case "combining_spec":
      return {
        kind: "combining",
        coderId: spec.combining_spec.accumulator_coder_id,
        combineFn: spec.combining_spec.combine_fn,
      };
    case "set_spec":
      return { kind: "set", coderId: spec.set_spec.element_coder_id };
    case "map_spec":
      return {
        kind: "map",
        coderId: spec.map_spec.value_coder_id,
        keyCoderId: spec.map_spec.key_coder_id,
      };
    case "ordered_list_spec":
      return { kind: "orderedList", coderId: spec.ordered_list_spec.element_coder_id };
    default:
      throw new Error(
        `state ${JSON.stringify(name)} has spec kind ${JSON.stringify(spec.spec)}, which is not supported`,
      );
  }
}

export function bagUserStateKey(
  transformId: string,
  userStateId: string,
  window: Uint8Array,
  key: Uint8Array,
): fnApi.StateKey {
  return new fnApi.StateKey({
    bag_user_state: new fnApi.StateKey.BagUserState({
      transform_id: transformId,
      user_state_id: userStateId,
      window,
      key,
    }),
  });
}
