/**
 * Side inputs of a ParDo, read lazily through the State API: the main
 * window is mapped into the side input's windowing, the view is fetched once
 * per (side input, window) per bundle (a multimap view reads each key once
 * per bundle), and the state caches (cache tokens; in pool threads the
 * thread's own) keep the bytes, and with them the decoded values
 * (decoded-views.ts), across bundles.
 *   - `beam:side_input:iterable:v1` → array of values
 *   - `beam:side_input:multimap:v1` → `{ get(key): Promise<array>, keys(): Promise<array> }`
 */
import type { BoundedWindow, Coder, WindowedValue } from "../../coders/index.js";
import { fnApi, type pipelineApi } from "../../proto/index.js";
import type { OperationContext } from "../registry.js";
import { GLOBAL_WINDOWS_URN, windowFnFromSpec, type WindowFn } from "../windowing/window-fns.js";
import { pcollectionCoders } from "./coder-components.js";
import { decodeViewPages } from "./decoded-views.js";

export const ITERABLE_SIDE_INPUT_URN = "beam:side_input:iterable:v1";
export const MULTIMAP_SIDE_INPUT_URN = "beam:side_input:multimap:v1";

export interface MultimapView {
  get(key: unknown): Promise<unknown[]>;
  keys(): Promise<unknown[]>;
}

interface SideInputSpec {
  name: string;
  accessUrn: string;
  mapping: WindowFn;
  windowCoder: Coder<BoundedWindow>;
  elementCoder: Coder<unknown> | undefined;
  keyCoder: Coder<unknown> | undefined;
  valueCoder: Coder<unknown> | undefined;
}

export class SideInputs {
  private readonly specs = new Map<string, SideInputSpec>();
  private readonly views = new Map<string, Promise<unknown>>();

  constructor(
    private readonly op: OperationContext,
    payload: pipelineApi.ParDoPayload,
  ) {
    for (const [name, sideInput] of payload.side_inputs) {
      const pcollectionId = op.transform.inputs.get(name);
      if (pcollectionId === undefined)
        throw new Error(`side input ${JSON.stringify(name)} is not an input of the transform`);
      const coders = pcollectionCoders(op.descriptor, pcollectionId);
      const accessUrn = sideInput.access_pattern?.urn ?? "";
      const mappingUrn = sideInput.window_mapping_fn?.urn || GLOBAL_WINDOWS_URN;
      const spec: SideInputSpec = {
        name,
        accessUrn,
        mapping: windowFnFromSpec(
          mappingUrn,
          sideInput.window_mapping_fn?.payload ?? new Uint8Array(),
        ),
        windowCoder: op.coder(coders.windowCoderId) as Coder<BoundedWindow>,
        elementCoder: undefined,
        keyCoder: undefined,
        valueCoder: undefined,
      };
      if (accessUrn === ITERABLE_SIDE_INPUT_URN) {
        spec.elementCoder = op.coder(coders.valueCoderId);
      } else if (accessUrn === MULTIMAP_SIDE_INPUT_URN) {
        if (!coders.keyCoderId || !coders.kvValueCoderId) {
          throw new Error(`multimap side input ${JSON.stringify(name)} needs a PCollection of KVs`);
        }
        spec.keyCoder = op.coder(coders.keyCoderId);
        spec.valueCoder = op.coder(coders.kvValueCoderId);
      } else {
        throw new Error(
          `side input ${JSON.stringify(name)} has access pattern ${JSON.stringify(accessUrn)}, which is not supported (${ITERABLE_SIDE_INPUT_URN}, ${MULTIMAP_SIDE_INPUT_URN})`,
        );
      }
      this.specs.set(name, spec);
    }
  }

  startBundle(): void {
    this.views.clear();
  }

  get(name: string, element: WindowedValue<unknown>): Promise<unknown> {
    const spec = this.specs.get(name);
    if (!spec) {
      return Promise.reject(
        new Error(
          `no side input ${JSON.stringify(name)} (side inputs: ${[...this.specs.keys()].join(", ") || "none"})`,
        ),
      );
    }
    const window = spec.windowCoder.encode(spec.mapping.mapWindow(element.windows[0]), "nested");
    const cacheKey = `${name}\u0000${Buffer.from(window).toString("latin1")}`;
    let view = this.views.get(cacheKey);
    if (!view) {
      view =
        spec.accessUrn === ITERABLE_SIDE_INPUT_URN
          ? this.iterable(spec, window)
          : Promise.resolve(this.multimap(spec, window));
      this.views.set(cacheKey, view);
      view.catch(() => this.views.delete(cacheKey));
    }
    return view;
  }

  private async iterable(spec: SideInputSpec, window: Uint8Array): Promise<unknown[]> {
    const key = new fnApi.StateKey({
      iterable_side_input: new fnApi.StateKey.IterableSideInput({
        transform_id: this.op.transformId,
        side_input_id: spec.name,
        window,
      }),
    });
    const pages = await this.op.bundle().state.get(key);
    return decodeViewPages(pages, spec.elementCoder as Coder<unknown>).slice();
  }

  private multimap(spec: SideInputSpec, window: Uint8Array): MultimapView {
    const transformId = this.op.transformId;
    const state = () => this.op.bundle().state;
    const keyCoder = spec.keyCoder as Coder<unknown>;
    const valueCoder = spec.valueCoder as Coder<unknown>;
    // The view lives one bundle, in which a side input does not change: each
    // key is read (and decoded) once; callers get copies they may change.
    const byValue = new Map<unknown, Promise<unknown[]>>();
    const byEncoding = new Map<string, Promise<unknown[]>>();
    let keys: Promise<unknown[]> | undefined;
    const read = async (
      key: unknown,
      encoded = keyCoder.encode(key, "nested"),
    ): Promise<unknown[]> => {
      const stateKey = new fnApi.StateKey({
        multimap_side_input: new fnApi.StateKey.MultimapSideInput({
          transform_id: transformId,
          side_input_id: spec.name,
          window,
          key: encoded,
        }),
      });
      return decodeViewPages(await state().get(stateKey), valueCoder);
    };
    const memoized = <K>(
      memo: Map<K, Promise<unknown[]>>,
      id: K,
      key: unknown,
      encoded?: Uint8Array,
    ) => {
      let values = memo.get(id);
      if (!values) {
        values = read(key, encoded);
        memo.set(id, values);
        values.catch(() => memo.delete(id));
      }
      return values.then((v) => v.slice());
    };
    return {
      get: (key: unknown) => {
        if (typeof key === "object" && key !== null) {
          let encoded: Uint8Array;
          try {
            encoded = keyCoder.encode(key, "nested");
          } catch (err) {
            return Promise.reject(err as Error);
          }
          const id = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length).toString(
            "latin1",
          );
          return memoized(byEncoding, id, key, encoded);
        }
        return memoized(byValue, key, key);
      },
      keys: () => {
        if (!keys) {
          const stateKey = new fnApi.StateKey({
            multimap_keys_side_input: new fnApi.StateKey.MultimapKeysSideInput({
              transform_id: transformId,
              side_input_id: spec.name,
              window,
            }),
          });
          const all = state()
            .get(stateKey)
            .then((pages) => decodeViewPages(pages, keyCoder));
          keys = all;
          all.catch(() => {
            if (keys === all) keys = undefined;
          });
        }
        return keys.then((k) => k.slice());
      },
    };
  }
}
