/**
 * Timer families of a ParDo (`timer_family_specs`). Timers set by the DoFn are
 * encoded with the family's timer coder onto the family's outbound timer
 * stream (every family's stream is closed with `is_last` at finishBundle);
 * timers the runner sends back fire `onTimer[family]` once per window, with
 * the key, window and timestamp restored.
 */
import {
  NO_FIRING,
  StreamDecoder,
  type Coder,
  type Timer,
  type WindowedValue,
} from "../../coders/index.js";
import type { pipelineApi } from "../../proto/index.js";
import type { ElementSink } from "../bundle-services.js";
import type { MaybePromise } from "../operation.js";
import type { OperationContext } from "../registry.js";
import type { TimerHandle } from "./pardo-host.js";

/** What onTimer callbacks receive as their first argument. */
export interface FiredTimer {
  family: string;
  tag: string;
  key: unknown;
  timestamp: bigint;
  holdTimestamp: bigint;
  window: unknown;
}

export type FireTimer = (
  family: string,
  timer: FiredTimer,
  element: WindowedValue<unknown>,
) => MaybePromise;

export class TimerFamilies {
  readonly timerFamilyIds: string[];
  private readonly coders = new Map<string, Coder<Timer<unknown>>>();
  private readonly sinks = new Map<string, ElementSink>();
  private readonly decoders = new Map<string, StreamDecoder<Timer<unknown>>>();

  constructor(
    private readonly op: OperationContext,
    payload: pipelineApi.ParDoPayload,
    private readonly fire: FireTimer,
  ) {
    for (const [family, spec] of payload.timer_family_specs) {
      this.coders.set(family, op.coder(spec.timer_family_coder_id) as Coder<Timer<unknown>>);
    }
    this.timerFamilyIds = [...this.coders.keys()];
  }

  startBundle(): void {
    this.sinks.clear();
    this.decoders.clear();
  }

  handle(family: string, element: WindowedValue<unknown>): TimerHandle {
    const coder = this.coders.get(family);
    if (!coder) {
      throw new Error(
        `no timer family ${JSON.stringify(family)} (timer families: ${this.timerFamilyIds.join(", ") || "none"})`,
      );
    }
    const key = (element.value as { key?: unknown }).key;
    const write = (timer: Timer<unknown>) => {
      const sink = this.sink(family);
      coder.encodeTo(timer, sink.writer, "nested");
      const pending = sink.elementWritten();
      if (pending) pending.catch(() => undefined); // a transport failure surfaces at close()
    };
    return {
      set: (millis, options = {}) => {
        const fireTimestamp = BigInt(millis);
        write({
          userKey: key,
          dynamicTimerTag: options.tag ?? "",
          windows: element.windows,
          clearBit: false,
          fireTimestamp,
          holdTimestamp:
            options.holdMillis === undefined ? fireTimestamp : BigInt(options.holdMillis),
          pane: NO_FIRING,
        });
      },
      clear: (tag = "") =>
        write({ userKey: key, dynamicTimerTag: tag, windows: element.windows, clearBit: true }),
    };
  }

  consume(family: string, bytes: Uint8Array): MaybePromise {
    let decoder = this.decoders.get(family);
    if (!decoder) {
      const coder = this.coders.get(family);
      if (!coder) throw new Error(`timers for unknown family ${JSON.stringify(family)}`);
      decoder = new StreamDecoder(coder);
      this.decoders.set(family, decoder);
    }
    decoder.push(bytes);
    return this.fireDecoded(family, decoder);
  }

  end(family: string): void {
    this.decoders.get(family)?.finish();
    this.decoders.delete(family);
  }

  /** Closes every family's outbound stream (is_last), also the ones nothing was written to. */
  async finishBundle(): Promise<void> {
    if (!this.op.descriptor.has_timer_api_service_descriptor) return;
    for (const family of this.timerFamilyIds) await this.sink(family).close();
  }

  private sink(family: string): ElementSink {
    let sink = this.sinks.get(family);
    if (!sink) {
      sink = this.op.bundle().timerOutput(this.op.transformId, family);
      this.sinks.set(family, sink);
    }
    return sink;
  }

  private fireDecoded(family: string, decoder: StreamDecoder<Timer<unknown>>): MaybePromise {
    for (let timer = decoder.next(); timer !== undefined; timer = decoder.next()) {
      if (timer.clearBit) continue;
      const pending = this.fireInWindows(family, timer, 0);
      if (pending) return pending.then(() => this.fireDecoded(family, decoder));
    }
    return undefined;
  }

  private fireInWindows(
    family: string,
    timer: Timer<unknown> & { clearBit: false },
    from: number,
  ): MaybePromise {
    for (let i = from; i < timer.windows.length; i++) {
      const window = timer.windows[i];
      const element: WindowedValue<unknown> = {
        value: { key: timer.userKey, value: undefined },
        timestamp: timer.fireTimestamp,
        windows: [window],
        pane: timer.pane,
      };
      const fired: FiredTimer = {
        family,
        tag: timer.dynamicTimerTag,
        key: timer.userKey,
        timestamp: timer.fireTimestamp,
        holdTimestamp: timer.holdTimestamp,
        window,
      };
      const pending = this.fire(family, fired, element);
      if (pending) return pending.then(() => this.fireInWindows(family, timer, i + 1));
    }
    return undefined;
  }
}
