/**
 * `beam:transform:window_into:v1` (payload: WindowIntoPayload; Beam Python
 * sends a WindowingStrategy, whose field 1 is the same `window_fn`, so both
 * parse). Input T, output T with the windows the window fn assigns; the
 * timestamp and pane are kept. As in Beam, an element in several windows is
 * assigned once per window (each becomes its own output element).
 *
 * Window fns: the standard ones of the window fn registry (global, fixed,
 * sliding, sessions) and user fns (`firefly:windowfn:v1`, loaded in setup).
 */
import type { BoundedWindow, WindowedValue } from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError, UserCodeError } from "../errors.js";
import { onlyOutput } from "../flatten.js";
import type { MaybePromise, Operation, Receiver } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import { FIREFLY_WINDOWFN_URN, loadUserWindowFn, type ElementWindowFn } from "./user-window-fn.js";
import { GLOBAL_WINDOWS_URN, windowFnFromSpec } from "./window-fns.js";

export const WINDOW_INTO_URN = "beam:transform:window_into:v1";

/**
 * The window fn of a transform's FunctionSpec: a registered one is built at
 * once (an unknown URN or a bad payload is an OperationError naming the
 * transform); a user fn is loaded by `setup()`.
 */
export class WindowFnHandle {
  private loaded: ElementWindowFn | undefined;
  /** True for a `firefly:windowfn:v1` user fn (user code: its errors are UserCodeErrors). */
  readonly isUser: boolean;

  constructor(
    private readonly transformId: string,
    private readonly transformUrn: string,
    private readonly spec: pipelineApi.FunctionSpec | undefined,
  ) {
    const urn = spec?.urn || GLOBAL_WINDOWS_URN;
    this.isUser = urn === FIREFLY_WINDOWFN_URN;
    if (this.isUser) return;
    try {
      this.loaded = windowFnFromSpec(urn, spec?.payload ?? new Uint8Array());
    } catch (err) {
      throw new OperationError(transformId, transformUrn, errorMessage(err), { cause: err });
    }
  }

  /** Loads a user fn (no-op for registered fns). */
  async setup(): Promise<void> {
    if (this.loaded) return;
    try {
      this.loaded = await loadUserWindowFn(this.spec?.payload ?? new Uint8Array());
    } catch (err) {
      throw new OperationError(this.transformId, this.transformUrn, errorMessage(err), {
        cause: err,
      });
    }
  }

  /** The window fn (after setup). */
  get fn(): ElementWindowFn {
    const fn = this.loaded;
    if (!fn) {
      throw new OperationError(this.transformId, this.transformUrn, "window fn used before setup");
    }
    return fn;
  }
}

/** Assigns windows to each element (per input window) and forwards it. */
export class WindowIntoOperation implements Operation {
  readonly urn = WINDOW_INTO_URN;
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
    const windows = element.windows;
    if (windows.length === 1) return this.out.process(this.assign(element, windows[0]));
    return this.processWindows(element, 0);
  }

  private processWindows(element: WindowedValue<unknown>, from: number): MaybePromise {
    const windows = element.windows;
    for (let i = from; i < windows.length; i++) {
      const pending = this.out.process(this.assign(element, windows[i]));
      if (pending) return pending.then(() => this.processWindows(element, i + 1));
    }
    return undefined;
  }

  private assign(element: WindowedValue<unknown>, window: BoundedWindow): WindowedValue<unknown> {
    const fn = this.fn;
    if (!fn) throw new OperationError(this.transformId, this.urn, "element before setup");
    let assigned: BoundedWindow[];
    try {
      assigned = fn.assignWindows(element.timestamp, element.value, window);
    } catch (err) {
      if (this.handle.isUser)
        throw new UserCodeError(this.transformId, "assignWindows", err, { element: element.value });
      throw new OperationError(this.transformId, this.urn, errorMessage(err), { cause: err });
    }
    return {
      value: element.value,
      timestamp: element.timestamp,
      windows: assigned,
      pane: element.pane,
    };
  }
}

/** The transform's payload as a FunctionSpec (`what` it is, for the error). */
export function functionSpecPayload(
  op: OperationContext,
  urn: string,
  what: string,
): pipelineApi.FunctionSpec {
  try {
    return pipelineApi.FunctionSpec.deserializeBinary(op.transform.spec.payload);
  } catch (err) {
    throw new OperationError(op.transformId, urn, `payload is not a FunctionSpec (${what})`, {
      cause: err,
    });
  }
}

/** Parses a transform payload that carries a window fn as field 1 (WindowIntoPayload, WindowingStrategy). */
export function windowFnOfPayload(
  op: OperationContext,
  urn: string,
): pipelineApi.FunctionSpec | undefined {
  try {
    return pipelineApi.WindowIntoPayload.deserializeBinary(op.transform.spec.payload).window_fn;
  } catch (err) {
    throw new OperationError(op.transformId, urn, `payload is not a WindowIntoPayload`, {
      cause: err,
    });
  }
}

registerOperation(WINDOW_INTO_URN, (op: OperationContext) => {
  const spec = windowFnOfPayload(op, WINDOW_INTO_URN);
  if (!spec?.urn) {
    throw new OperationError(op.transformId, WINDOW_INTO_URN, "WindowIntoPayload has no window_fn");
  }
  return new WindowIntoOperation(
    op.transformId,
    new WindowFnHandle(op.transformId, WINDOW_INTO_URN, spec),
    onlyOutput(op, WINDOW_INTO_URN),
  );
});
