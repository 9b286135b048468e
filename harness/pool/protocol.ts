/**
 * The message protocol between the conductor (main thread) and a bundle
 * running in a pool thread, over the bundle's MessagePort. Byte payloads are
 * transferred (their ArrayBuffers move, no second copy).
 *
 * Conductor → thread: inbound data/timer chunks and the end of inbound data,
 * state responses, output acknowledgements.
 * Thread → conductor: the progress layout (shared memory) once the processor
 * is ready, output chunks, state requests, log records, pull requests for
 * more inbound bytes (the conductor starts with INBOUND_WINDOW_BYTES of
 * credit). The bundle's result is the piscina task's return value.
 *
 * Messages per bundle are few on purpose (each may wake a thread): an
 * output that ends its stream (`isLast`) is not acknowledged; instead the
 * result counts the outputs, and the conductor answers only after it sent
 * them all (and fails the bundle if one could not be sent).
 */
import type { MessagePort } from "node:worker_threads";
import type { SampledElement } from "../../operations/sampling/element-sampler.js";
import type { ProgressLayout } from "../bundle/progress-view.js";
import type { ThreadScope } from "../state/bundle-state.js";
import type { PlainMonitoringInfo } from "../monitoring/monitoring-infos.js";

/** The piscina task: one bundle. */
export interface BundleTask {
  kind: "bundle";
  instructionId: string;
  descriptorId: string;
  /** The serialized ProcessBundleDescriptor (threads cache the parsed one). */
  descriptor: Uint8Array;
  /** Unique per descriptor object in the process: a thread parses `descriptor` only when it changes. */
  descriptorVersion: number;
  port: MessagePort;
  logLevel: string;
  maxElementBytes: number;
  flushPolicy: { flushBytes: number; flushMs: number };
  /** Sample elements (posted back as a `samples` message); off when absent. */
  dataSampling?: { firstN: number; everyMs: number };
}

/** A finalize task: runs the callbacks a bundle registered (routed by BroadcastChannel). */
export interface FinalizeTask {
  kind: "finalize";
  instructionId: string;
}

export type PoolTask = BundleTask | FinalizeTask;

export interface BundleTaskResult {
  monitoringInfos: PlainMonitoringInfo[];
  requiresFinalization: boolean;
  /** Output messages the bundle posted (the last one per stream is not acknowledged). */
  outputs: number;
  /** Residual roots (serialized DelayedBundleApplications) the bundle hands back to the runner. */
  residuals: Uint8Array[];
}

export type ToThread =
  | { type: "data"; transformId: string; bytes: Uint8Array; isLast: boolean }
  | {
      type: "timers";
      transformId: string;
      timerFamilyId: string;
      bytes: Uint8Array;
      isLast: boolean;
    }
  | { type: "inboundFailed"; message: string }
  | {
      type: "stateResponse";
      id: number;
      pages?: Uint8Array[];
      continuationToken?: Uint8Array;
      /** The answer to a `scope` request. */
      scope?: ThreadScope;
      error?: string;
    }
  | { type: "outputAck"; id: number; error?: string }
  | { type: "samplesAck" };

export type FromThread =
  | { type: "ready"; layout: ProgressLayout }
  | { type: "pull"; bytes: number }
  | {
      type: "output";
      id: number;
      transformId: string;
      timerFamilyId?: string;
      bytes: Uint8Array;
      isLast: boolean;
    }
  | {
      type: "state";
      id: number;
      /**
       * `scope`: the bundle's cache tokens and the user-state writes since
       * journal position `since` not made by bundle `own` (the thread's
       * previous one); sent once per bundle, before any other state request.
       */
      op: "get" | "getPage" | "append" | "clear" | "scope";
      key: Uint8Array;
      data?: Uint8Array;
      since?: number;
      own?: string;
    }
  | { type: "log"; line: string }
  | { type: "samples"; samples: SampledElement[] };

/** Bytes a thread may have in flight inbound before it asks for more. */
export const INBOUND_WINDOW_BYTES = 8 * 1024 * 1024;
/** Output chunks a thread may have unacknowledged before it waits. */
export const MAX_UNACKED_OUTPUTS = 4;

/**
 * Bytes the caller owns outright (nothing else views their buffer, e.g. an
 * element sink's flushed chunk): transferred as they are, without a copy, when
 * they fill most of their buffer (a chunk flushed at `flushBytes` from a
 * buffer of the next power of two); else a copy, so a mostly empty buffer does
 * not travel.
 */
export function ownedTransferable(bytes: Uint8Array): Uint8Array {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength * 4 >= bytes.buffer.byteLength * 3 &&
    !(bytes.buffer instanceof SharedArrayBuffer)
  ) {
    return bytes;
  }
  return transferable(bytes);
}

/** An owned copy of bytes whose buffer can be transferred. */
export function transferable(bytes: Uint8Array): Uint8Array {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    !(bytes.buffer instanceof SharedArrayBuffer)
  ) {
    return bytes;
  }
  return bytes.slice();
}
