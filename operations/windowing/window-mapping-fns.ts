/**
 * The side-input window mapping fns that Beam's TypeScript and Go SDKs write
 * in `SideInput.window_mapping_fn` (Beam's Python and Java SDKs write a window
 * fn of their own language instead):
 *   - `beam:window_mapping_fn:global:v1`: every main window maps to the global window;
 *   - `beam:window_mapping_fn:identity:v1`: a main window maps to itself (the
 *     side input is windowed like the main input).
 * They only map windows: assigning windows with them is an error.
 */
import { GLOBAL_WINDOW } from "../../coders/index.js";
import { registerWindowFn, type WindowFn } from "./window-fns.js";

export const GLOBAL_WINDOW_MAPPING_URN = "beam:window_mapping_fn:global:v1";
export const IDENTITY_WINDOW_MAPPING_URN = "beam:window_mapping_fn:identity:v1";

function mappingOnly(urn: string, mapWindow: WindowFn["mapWindow"]): WindowFn {
  return {
    urn,
    merging: false,
    assignWindows: () => {
      throw new Error(`${urn} is a side-input window mapping fn: it cannot assign windows`);
    },
    mapWindow,
  };
}

registerWindowFn(GLOBAL_WINDOW_MAPPING_URN, () =>
  mappingOnly(GLOBAL_WINDOW_MAPPING_URN, () => GLOBAL_WINDOW),
);
registerWindowFn(IDENTITY_WINDOW_MAPPING_URN, () =>
  mappingOnly(IDENTITY_WINDOW_MAPPING_URN, (window) => window),
);
