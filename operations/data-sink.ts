/**
 * `beam:runner:sink:v1`: encodes the elements it receives onto the outbound
 * data stream of its transform. The stream is closed with `is_last` at
 * finishBundle, also when no element was written (the runner waits for it).
 */
import type { Coder, WindowedValue } from "../coders/index.js";
import type { ElementSink } from "./bundle-services.js";
import { errorMessage, OperationError } from "./errors.js";
import type { MaybePromise, Operation } from "./operation.js";
import { parsePort, portCoder } from "./data-source.js";
import { registerOperation, type OperationContext } from "./registry.js";

export const DATA_SINK_URN = "beam:runner:sink:v1";

export class DataSinkOperation implements Operation {
  readonly urn = DATA_SINK_URN;
  private sink: ElementSink | undefined;

  constructor(
    readonly transformId: string,
    private readonly coder: Coder<WindowedValue<unknown>>,
    private readonly ctx: OperationContext,
  ) {}

  startBundle(): void {
    this.sink = this.ctx.bundle().dataOutput(this.transformId);
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const sink = this.sink;
    if (!sink) throw new OperationError(this.transformId, this.urn, "element before startBundle");
    try {
      this.coder.encodeTo(element, sink.writer, "nested");
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot encode output element: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return sink.elementWritten();
  }

  async finishBundle(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    await sink?.close();
  }
}

registerOperation(DATA_SINK_URN, (ctx: OperationContext) => {
  const port = parsePort(ctx);
  return new DataSinkOperation(ctx.transformId, portCoder(ctx, port), ctx);
});
