/**
 * What an operation may ask of the bundle it runs in. The harness implements
 * these (inline on the main thread or inside a worker thread: the same
 * operations run in both); operations never see gRPC.
 */
import type { Logger } from "pino";
import type { ByteWriter } from "../coders/index.js";
import type { fnApi } from "../proto/index.js";
import type { MaybePromise } from "./operation.js";

/**
 * The outbound byte stream of one (instruction, transform) on the data plane.
 * Encode an element into `writer`, then call `elementWritten()`: the harness
 * flushes by size (and by time), and returns a promise only when it has to wait
 * for the transport to drain (backpressure).
 */
export interface ElementSink {
  readonly writer: ByteWriter;
  elementWritten(): MaybePromise;
  /** Flushes what is buffered and ends the stream (`is_last`). */
  close(): Promise<void>;
}

/** State API access for the current bundle (responses are already unpacked). */
export interface StateAccess {
  /** All pages of a state key, following continuation tokens. */
  get(key: fnApi.StateKey): Promise<Uint8Array[]>;
  append(key: fnApi.StateKey, data: Uint8Array): Promise<void>;
  clear(key: fnApi.StateKey): Promise<void>;
  /** One page of a state key (for lazily read iterables); an empty token means the last page. */
  getPage(
    key: fnApi.StateKey,
    continuationToken: Uint8Array | undefined,
  ): Promise<{ data: Uint8Array; continuationToken: Uint8Array }>;
}

/** Callbacks a DoFn registered to run when the runner finalizes the bundle. */
export type FinalizationCallback = () => MaybePromise;

export interface BundleServices {
  readonly instructionId: string;
  /** A logger with the worker and instruction ids bound. */
  readonly logger: Logger;
  /** The data-plane output stream for a `beam:runner:sink:v1` transform. */
  dataOutput(transformId: string): ElementSink;
  /** The timer output stream of a ParDo's timer family. */
  timerOutput(transformId: string, timerFamilyId: string): ElementSink;
  /** State API for this bundle (cache tokens applied); throws if the descriptor has no state endpoint. */
  readonly state: StateAccess;
  /** Registers a bundle-finalization callback (answered in `finalize_bundle`). */
  registerFinalization(callback: FinalizationCallback): void;
  /**
   * Work the bundle hands back to the runner (a splittable DoFn's checkpoint):
   * the ProcessBundleResponse lists it in `residual_roots`.
   */
  addResidual(residual: fnApi.DelayedBundleApplication): void;
}
