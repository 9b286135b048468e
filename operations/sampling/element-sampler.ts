/**
 * Data sampling (Beam 2.50 `sample_data`): elements of each PCollection are
 * sampled on their way to its consumers — the first `firstN` of a processor,
 * then one every `everyMs` — and an element whose processing threw is sampled
 * with the exception, once, at the PCollection just upstream of the failing
 * transform. Samples are encoded (nested) with the PCollection's coder and go
 * to a {@link SampleSink}: the harness-wide data sampler inline, a buffer
 * posted to the conductor in pool threads.
 *
 * Only graphs built with data sampling enabled use {@link SamplingReceiver};
 * everything else pays nothing for this feature.
 */
import type { Coder, WindowedValue } from "../../coders/index.js";
import { CountingReceiver } from "../counting-receiver.js";
import type { MaybePromise, Receiver } from "../operation.js";

export interface SampledException {
  instructionId: string;
  transformId: string;
  error: string;
}

export interface SampledElement {
  pcollectionId: string;
  /** The element encoded in the nested context with the PCollection's coder. */
  element: Uint8Array;
  /** When the sample was taken (epoch millis). */
  sampledAtMs: number;
  exception?: SampledException;
}

export interface SampleSink {
  add(sample: SampledElement): void;
}

export interface DataSamplingSettings {
  sink: SampleSink;
  /** Elements always sampled by each processor, per PCollection. @default 10 */
  firstN: number;
  /** Then one element per this period. @default 30000 */
  everyMs: number;
  /** Renders a thrown value for the sample's exception. */
  describeError(err: unknown): string;
}

/** Errors already sampled (an error passes every receiver upstream of where it was thrown). */
const sampledErrors = new WeakSet<object>();
const TIME_CHECK_MASK = 255;

export class SamplingReceiver extends CountingReceiver {
  private taken = 0;
  private seen = 0;
  private nextAtMs = 0;
  private elementCoder: Coder<unknown> | undefined;

  constructor(
    pcollectionId: string,
    inner: Receiver,
    cells: Float64Array,
    index: number,
    private readonly coderFor: () => Coder<unknown>,
    private readonly settings: DataSamplingSettings,
    private readonly instructionId: () => string,
  ) {
    super(pcollectionId, inner, cells, index, coderFor);
  }

  override process(element: WindowedValue<unknown>): MaybePromise {
    if (this.taken < this.settings.firstN) {
      this.taken++;
      this.sample(element, undefined);
    } else if ((++this.seen & TIME_CHECK_MASK) === 0) {
      const now = Date.now();
      if (now >= this.nextAtMs) {
        this.nextAtMs = now + this.settings.everyMs;
        this.sample(element, undefined);
      }
    }
    let pending: MaybePromise;
    try {
      pending = super.process(element);
    } catch (err) {
      this.sampleFailure(element, err);
      throw err;
    }
    if (pending === undefined) return undefined;
    return pending.then(undefined, (err: unknown) => {
      this.sampleFailure(element, err);
      throw err;
    });
  }

  private sampleFailure(element: WindowedValue<unknown>, err: unknown): void {
    if (err !== null && typeof err === "object") {
      if (sampledErrors.has(err)) return;
      sampledErrors.add(err);
    }
    const transformId = (err as { transformId?: unknown } | null)?.transformId;
    let instructionId = "";
    try {
      instructionId = this.instructionId();
    } catch {
      // sampled outside a bundle: no instruction id
    }
    this.sample(element, {
      instructionId,
      transformId: typeof transformId === "string" ? transformId : "",
      error: this.settings.describeError(err),
    });
  }

  private sample(element: WindowedValue<unknown>, exception: SampledException | undefined): void {
    let bytes: Uint8Array;
    try {
      this.elementCoder ??= this.coderFor();
      bytes = this.elementCoder.encode(element.value, "nested");
    } catch {
      return; // not encodable with the PCollection's coder: nothing to show
    }
    this.settings.sink.add({
      pcollectionId: this.pcollectionId,
      element: bytes,
      sampledAtMs: Date.now(),
      ...(exception ? { exception } : {}),
    });
  }
}
