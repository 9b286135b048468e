/**
 * `beam:transform:map_windows:v1`: the side-input window mapping a runner
 * asks the SDK to compute. Payload: the side input's `window_mapping_fn`
 * FunctionSpec (a window fn URN of the registry, or `firefly:windowfn:v1`
 * with a `mapWindow` method; an empty URN means the global window fn).
 *
 * Input `KV<nonce, MainInputWindow>`, output `KV<nonce, SideInputWindow>`;
 * the element's timestamp, windows and pane are kept.
 */
import type { BoundedWindow, WindowedValue } from "../../coders/index.js";
import { errorMessage, OperationError, UserCodeError } from "../errors.js";
import { kvInput, onlyOutput } from "../flatten.js";
import { type MaybePromise, type Operation, type Receiver, withValue } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import type { ElementWindowFn } from "./user-window-fn.js";
import { functionSpecPayload, WindowFnHandle } from "./window-into.js";

export const MAP_WINDOWS_URN = "beam:transform:map_windows:v1";

export class MapWindowsOperation implements Operation {
  readonly urn = MAP_WINDOWS_URN;
  private fn: ElementWindowFn | undefined;

  constructor(
    readonly transformId: string,
    private readonly handle: WindowFnHandle,
    private readonly out: Receiver,
  ) {}

  async setup(): Promise<void> {
    await this.handle.setup();
    this.fn = this.handle.fn;
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const fn = this.fn;
    if (!fn) throw new OperationError(this.transformId, this.urn, "element before setup");
    const kv = kvInput(this.transformId, this.urn, element, "KV<nonce, MainInputWindow>");
    let mapped: BoundedWindow;
    try {
      mapped = fn.mapWindow(kv.value as BoundedWindow);
    } catch (err) {
      if (this.handle.isUser) throw new UserCodeError(this.transformId, "mapWindow", err);
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot map window: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return this.out.process(withValue(element, { key: kv.key, value: mapped }));
  }
}

registerOperation(MAP_WINDOWS_URN, (op: OperationContext) => {
  const spec = functionSpecPayload(op, MAP_WINDOWS_URN, "the window mapping fn");
  return new MapWindowsOperation(
    op.transformId,
    new WindowFnHandle(op.transformId, MAP_WINDOWS_URN, spec),
    onlyOutput(op, MAP_WINDOWS_URN),
  );
});
