/**
 * `beam:runner:source:v1`: decodes the elements of one inbound data stream
 * (the payload is a RemoteGrpcPort naming the element coder) and hands them
 * to the consumers. Elements may span chunks; the stream decoder stitches them.
 * After a channel split the rest of the stream is ignored.
 */
import {
  StreamDecoder,
  type Coder,
  type StateBackedIterableReader,
  type WindowedValue,
} from "../coders/index.js";
import type { BundleServices, StateAccess } from "./bundle-services.js";
import { fnApi } from "../proto/index.js";
import type { DataInputOperation } from "./data-input.js";
import { OperationError } from "./errors.js";
import type { MaybePromise, Receiver } from "./operation.js";
import { registerOperation, type OperationContext } from "./registry.js";
import { afterTurnIfDue, nextTurn, turnDue } from "./event-loop-turns.js";
import { SplitGate } from "./split-gate.js";

export const DATA_SOURCE_URN = "beam:runner:source:v1";

export class DataSourceOperation implements DataInputOperation {
  readonly inputKind = "data";
  readonly urn = DATA_SOURCE_URN;
  readonly splitGate = new SplitGate();
  private decoder: StreamDecoder<WindowedValue<unknown>> | undefined;

  constructor(
    readonly transformId: string,
    private readonly coder: Coder<WindowedValue<unknown>>,
    private readonly coderId: string,
    private readonly receiver: Receiver,
    private readonly bundle: () => BundleServices,
    private readonly maxElementBytes: number,
  ) {}

  /** A data source has no producer: elements come through `consume`. */
  process(): MaybePromise {
    throw new OperationError(this.transformId, this.urn, "a data source takes no input elements");
  }

  startBundle(): void {
    this.splitGate.reset();
    const bundle = this.bundle;
    this.decoder = new StreamDecoder(this.coder, {
      stateReader: runnerStateReader(() => bundle().state),
      maxElementBytes: this.maxElementBytes,
    });
  }

  consume(bytes: Uint8Array): MaybePromise {
    const decoder = this.decoder;
    if (!decoder) throw new OperationError(this.transformId, this.urn, "data before startBundle");
    if (!this.splitGate.hasRoom) return undefined; // split: the rest is residual
    decoder.push(bytes);
    return this.drain(decoder);
  }

  endOfInput(): void {
    const decoder = this.decoder;
    this.decoder = undefined;
    if (!decoder || this.splitGate.isSplit) return;
    try {
      decoder.finish();
    } catch (err) {
      throw this.decodeError(err, decoder);
    }
  }

  private drain(decoder: StreamDecoder<WindowedValue<unknown>>): MaybePromise {
    const receiver = this.receiver;
    for (;;) {
      let element: WindowedValue<unknown> | undefined;
      try {
        element = decoder.next();
      } catch (err) {
        throw this.decodeError(err, decoder);
      }
      if (element === undefined) return undefined;
      if (!this.splitGate.claimNext()) return undefined;
      const pending = receiver.process(element);
      if (pending) return pending.then(() => afterTurnIfDue(() => this.drain(decoder)));
      if (turnDue()) return nextTurn().then(() => this.drain(decoder));
    }
  }

  private decodeError(err: unknown, decoder: StreamDecoder<unknown>): OperationError {
    return new OperationError(
      this.transformId,
      this.urn,
      `cannot decode element ${decoder.elementsDecoded} with coder ${JSON.stringify(this.coderId)}`,
      { cause: err },
    );
  }
}

/** Everything a data source is built from (for the variants below). */
export interface DataSourceParts {
  ctx: OperationContext;
  coder: Coder<WindowedValue<unknown>>;
  coderId: string;
  receiver: Receiver;
}

/** Another data source for some consumers (e.g. columnar batches), or undefined. */
export type DataSourceVariant = (parts: DataSourceParts) => DataInputOperation | undefined;

const variants: DataSourceVariant[] = [];

/** Adds a data source variant, tried before the element-wise data source. */
export function registerDataSourceVariant(variant: DataSourceVariant): void {
  variants.push(variant);
}

registerOperation(DATA_SOURCE_URN, (ctx: OperationContext) => {
  const port = parsePort(ctx);
  const [output] = ctx.outputNames;
  const parts = {
    ctx,
    coder: portCoder(ctx, port),
    coderId: port.coder_id,
    receiver: ctx.output(output),
  };
  for (const variant of variants) {
    const source = variant(parts);
    if (source) return source;
  }
  return new DataSourceOperation(
    ctx.transformId,
    parts.coder,
    parts.coderId,
    parts.receiver,
    ctx.bundle,
    ctx.limits.maxElementBytes,
  );
});

/** Reads state-backed iterables (e.g. large GroupByKey values) through `StateKey.runner`. */
export function runnerStateReader(state: () => StateAccess): StateBackedIterableReader {
  return {
    readPage: (token, continuationToken) =>
      state().getPage(
        new fnApi.StateKey({ runner: new fnApi.StateKey.Runner({ key: token }) }),
        continuationToken,
      ),
  };
}

const WINDOWED_CODERS = new Set([
  "beam:coder:windowed_value:v1",
  "beam:coder:param_windowed_value:v1",
]);

/** The windowed-value coder of a data port; another coder is an error naming it. */
export function portCoder(
  ctx: OperationContext,
  port: fnApi.RemoteGrpcPort,
): Coder<WindowedValue<unknown>> {
  const coder = ctx.coder(port.coder_id);
  if (!WINDOWED_CODERS.has(coder.urn)) {
    throw new OperationError(
      ctx.transformId,
      ctx.transform.spec.urn,
      `data port coder ${JSON.stringify(port.coder_id)} is ${coder.urn}, not a windowed_value coder`,
    );
  }
  return coder as Coder<WindowedValue<unknown>>;
}

/** Parses the RemoteGrpcPort payload of a data source or sink. */
export function parsePort(ctx: OperationContext): fnApi.RemoteGrpcPort {
  let port: fnApi.RemoteGrpcPort;
  try {
    port = fnApi.RemoteGrpcPort.deserializeBinary(ctx.transform.spec.payload);
  } catch (err) {
    throw new OperationError(
      ctx.transformId,
      ctx.transform.spec.urn,
      "payload is not a RemoteGrpcPort",
      {
        cause: err,
      },
    );
  }
  if (!port.coder_id) {
    throw new OperationError(
      ctx.transformId,
      ctx.transform.spec.urn,
      "RemoteGrpcPort has no coder_id",
    );
  }
  return port;
}
