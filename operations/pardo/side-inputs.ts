/**
 * Side inputs of a ParDo, read lazily through the State API: the main
 * window is mapped into the side input's windowing, the view is fetched once
 * per (side input, window) per bundle, and the state cache (cache tokens)
 * keeps the bytes across bundles.
 *   - `beam:side_input:iterable:v1` → array of values
 *   - `beam:side_input:multimap:v1` → `{ get(key): Promise<array>, keys(): Promise<array> }`
 */
import type { BoundedWindow, Coder, WindowedValue } from "../../coders/index.js";
import { fnApi, type pipelineApi } from "../../proto/index.js";
import type { OperationContext } from "../registry.js";
import { GLOBAL_WINDOWS_URN, windowFnFromSpec, type WindowFn } from "../windowing/window-fns.js";
import { pcollectionCoders } from "./coder-components.js";
import { decodePages } from "./decode-pages.js";

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
    return decodePages(await this.op.bundle().state.get(key), spec.elementCoder as Coder<unknown>);
  }

  private multimap(spec: SideInputSpec, window: Uint8Array): MultimapView {
    const transformId = this.op.transformId;
    const state = () => this.op.bundle().state;
    return {
      get: async (key: unknown) => {
        const stateKey = new fnApi.StateKey({
          multimap_side_input: new fnApi.StateKey.MultimapSideInput({
            transform_id: transformId,
            side_input_id: spec.name,
            window,
            key: (spec.keyCoder as Coder<unknown>).encode(key, "nested"),
          }),
        });
        return decodePages(await state().get(stateKey), spec.valueCoder as Coder<unknown>);
      },
      keys: async () => {
        const stateKey = new fnApi.StateKey({
          multimap_keys_side_input: new fnApi.StateKey.MultimapKeysSideInput({
            transform_id: transformId,
            side_input_id: spec.name,
            window,
          }),
        });
        return decodePages(await state().get(stateKey), spec.keyCoder as Coder<unknown>);
      },
    };
  }
}
