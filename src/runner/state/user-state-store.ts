/**
 * User state of stateful ParDos (bag, multimap, multimap keys), kept by the
 * runner for the whole pipeline run so it persists across bundles: values are
 * lists of appended chunks (nested-encoded elements, as the worker wrote
 * them).
 */
import type { fnApi } from "../../../proto/index.js";
import type { StateHandler, StateService } from "../fn-api/state-service.js";

interface Scoped {
  transform_id: string;
  user_state_id: string;
  window: Uint8Array;
  key: Uint8Array;
}

function scopeOf(k: Scoped): string {
  return [
    k.transform_id,
    k.user_state_id,
    Buffer.from(k.window).toString("base64"),
    Buffer.from(k.key).toString("base64"),
  ].join("\u0000");
}

function concat(chunks: Uint8Array[] | undefined): Uint8Array {
  if (!chunks || chunks.length === 0) return new Uint8Array();
  if (chunks.length === 1) return chunks[0];
  const joined = Buffer.concat(chunks);
  chunks.splice(0, chunks.length, joined);
  return joined;
}

export class UserStateStore {
  private readonly bags = new Map<string, Uint8Array[]>();
  /** scope → map key (latin1 of its bytes) → chunks; insertion order is key order. */
  private readonly maps = new Map<string, Map<string, Uint8Array[]>>();

  /** Number of (state, key, window) cells holding something. */
  get size(): number {
    return this.bags.size + this.maps.size;
  }

  registerWith(state: StateService): void {
    const bag: StateHandler = {
      get: (key) => concat(this.bags.get(scopeOf(key.bag_user_state))),
      append: (key, data) => {
        const scope = scopeOf(key.bag_user_state);
        const chunks = this.bags.get(scope) ?? [];
        chunks.push(data.slice());
        this.bags.set(scope, chunks);
      },
      clear: (key) => void this.bags.delete(scopeOf(key.bag_user_state)),
    };
    const multimap: StateHandler = {
      get: (key) => concat(this.mapOf(key.multimap_user_state)?.get(mapKey(key))),
      append: (key, data) => {
        const scope = scopeOf(key.multimap_user_state);
        let map = this.maps.get(scope);
        if (!map) this.maps.set(scope, (map = new Map()));
        const chunks = map.get(mapKey(key)) ?? [];
        chunks.push(data.slice());
        map.set(mapKey(key), chunks);
      },
      clear: (key) => {
        const scope = scopeOf(key.multimap_user_state);
        const map = this.maps.get(scope);
        map?.delete(mapKey(key));
        if (map?.size === 0) this.maps.delete(scope);
      },
    };
    const keys: StateHandler = {
      get: (key) => {
        const map = this.mapOf(key.multimap_keys_user_state);
        if (!map) return new Uint8Array();
        return Buffer.concat([...map.keys()].map((k) => Buffer.from(k, "latin1")));
      },
      clear: (key) => void this.maps.delete(scopeOf(key.multimap_keys_user_state)),
    };
    state.register("bag_user_state", bag);
    state.register("multimap_user_state", multimap);
    state.register("multimap_keys_user_state", keys);
  }

  private mapOf(scoped: Scoped): Map<string, Uint8Array[]> | undefined {
    return this.maps.get(scopeOf(scoped));
  }
}

function mapKey(key: fnApi.StateKey): string {
  return Buffer.from(key.multimap_user_state.map_key).toString("latin1");
}
