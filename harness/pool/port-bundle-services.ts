/**
 * Thread side of a pooled bundle: BundleServices and the inbound source over
 * the bundle's MessagePort. Outputs go out as transferred chunks (waiting
 * when too many are unacknowledged); state requests are answered by the
 * conductor (which owns the state stream and the cache); inbound chunks are
 * pulled in windows of INBOUND_WINDOW_BYTES.
 */
import type { MessagePort } from "node:worker_threads";
import type { Logger } from "pino";
import type {
  BundleServices,
  ElementSink,
  FinalizationCallback,
  StateAccess,
} from "../../operations/bundle-services.js";
import type { fnApi } from "../../proto/index.js";
import type { InboundSource } from "../bundle/bundle-processor.js";
import { BufferedElementSink, type FlushPolicy } from "../data/element-sink.js";
import type { InboundItem } from "../data/inbound.js";
import { TransportError } from "../errors.js";
import { AsyncQueue } from "../util/async-queue.js";
import {
  INBOUND_WINDOW_BYTES,
  MAX_UNACKED_OUTPUTS,
  transferable,
  type FromThread,
  type ToThread,
} from "./protocol.js";

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class PortBundleServices implements BundleServices, StateAccess, InboundSource {
  readonly finalizations: FinalizationCallback[] = [];
  private readonly inbound = new AsyncQueue<InboundItem>();
  private inboundUnpulled = 0;
  private nextId = 1;
  private readonly stateWaiters = new Map<number, Waiter>();
  private readonly outputWaiters = new Map<number, Waiter>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private readonly sinks: BufferedElementSink[] = [];
  private outputs = 0;

  constructor(
    readonly instructionId: string,
    private readonly port: MessagePort,
    readonly logger: Logger,
    private readonly flushPolicy: FlushPolicy,
  ) {
    // The conductor starts with INBOUND_WINDOW_BYTES of credit: no initial pull message.
    port.on("message", (message: ToThread) => this.onMessage(message));
  }

  /** Output chunks posted so far (the conductor waits for all of them before it answers). */
  get outputsPosted(): number {
    return this.outputs;
  }

  // InboundSource

  async next(): Promise<InboundItem | undefined> {
    const item = await this.inbound.next();
    if (item) {
      this.inboundUnpulled += item.bytes.length;
      if (this.inboundUnpulled >= INBOUND_WINDOW_BYTES / 2) {
        this.post({ type: "pull", bytes: this.inboundUnpulled });
        this.inboundUnpulled = 0;
      }
    }
    return item;
  }

  // BundleServices

  get state(): StateAccess {
    return this;
  }

  dataOutput(transformId: string): ElementSink {
    return this.sink(transformId, undefined);
  }

  timerOutput(transformId: string, timerFamilyId: string): ElementSink {
    return this.sink(transformId, timerFamilyId);
  }

  registerFinalization(callback: FinalizationCallback): void {
    this.finalizations.push(callback);
  }

  // StateAccess (the conductor applies the cache and cache tokens)

  async get(key: fnApi.StateKey): Promise<Uint8Array[]> {
    return (await this.stateCall("get", key)) as Uint8Array[];
  }

  async getPage(
    key: fnApi.StateKey,
    continuationToken: Uint8Array | undefined,
  ): Promise<{ data: Uint8Array; continuationToken: Uint8Array }> {
    const page = (await this.stateCall("getPage", key, continuationToken)) as {
      pages: Uint8Array[];
      continuationToken?: Uint8Array;
    };
    return {
      data: page.pages[0] ?? new Uint8Array(0),
      continuationToken: page.continuationToken ?? new Uint8Array(0),
    };
  }

  append(key: fnApi.StateKey, data: Uint8Array): Promise<void> {
    return this.trackWrite(this.stateCall("append", key, data));
  }

  clear(key: fnApi.StateKey): Promise<void> {
    return this.trackWrite(this.stateCall("clear", key));
  }

  /** Waits for every state write to be acknowledged. */
  async complete(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  abandon(): void {
    for (const sink of this.sinks) sink.abandon();
  }

  close(): void {
    this.port.close();
  }

  private sink(transformId: string, timerFamilyId: string | undefined): BufferedElementSink {
    const sink = new BufferedElementSink((bytes, isLast) => {
      const owned = transferable(bytes);
      this.outputs++;
      if (isLast) {
        // Not acknowledged: the conductor waits for every output of the bundle
        // (BundleTaskResult.outputs) and fails the bundle if one was not sent.
        this.post({ type: "output", id: 0, transformId, timerFamilyId, bytes: owned, isLast }, [
          owned.buffer as ArrayBuffer,
        ]);
        return undefined;
      }
      const id = this.nextId++;
      const acked = new Promise<unknown>((resolve, reject) =>
        this.outputWaiters.set(id, { resolve, reject }),
      );
      this.post({ type: "output", id, transformId, timerFamilyId, bytes: owned, isLast }, [
        owned.buffer as ArrayBuffer,
      ]);
      if (this.outputWaiters.size > MAX_UNACKED_OUTPUTS) return acked.then(() => undefined);
      acked.catch(() => undefined); // surfaced by a later wait or at close
      return undefined;
    }, this.flushPolicy);
    this.sinks.push(sink);
    return sink;
  }

  private stateCall(
    op: "get" | "getPage" | "append" | "clear",
    key: fnApi.StateKey,
    data?: Uint8Array,
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.stateWaiters.set(id, { resolve, reject });
      this.post({ type: "state", id, op, key: key.serializeBinary(), data });
    });
  }

  private trackWrite(write: Promise<unknown>): Promise<void> {
    const tracked = write.then(() => undefined);
    this.pendingWrites.add(tracked);
    void tracked.finally(() => this.pendingWrites.delete(tracked)).catch(() => undefined);
    return tracked;
  }

  private onMessage(message: ToThread): void {
    switch (message.type) {
      case "data":
        this.inbound.push({
          kind: "data",
          transformId: message.transformId,
          bytes: message.bytes,
          isLast: message.isLast,
        });
        break;
      case "timers":
        this.inbound.push({
          kind: "timers",
          transformId: message.transformId,
          timerFamilyId: message.timerFamilyId,
          bytes: message.bytes,
          isLast: message.isLast,
        });
        break;
      case "inboundFailed":
        this.inbound.fail(new TransportError(message.message));
        break;
      case "stateResponse":
        settle(
          this.stateWaiters,
          message.id,
          message.error,
          message.continuationToken === undefined
            ? (message.pages ?? [])
            : { pages: message.pages ?? [], continuationToken: message.continuationToken },
        );
        break;
      case "outputAck":
        settle(this.outputWaiters, message.id, message.error, undefined);
        break;
    }
  }

  private post(message: FromThread, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transfer);
  }
}

function settle(
  waiters: Map<number, Waiter>,
  id: number,
  error: string | undefined,
  value: unknown,
): void {
  const waiter = waiters.get(id);
  if (!waiter) return;
  waiters.delete(id);
  if (error !== undefined) waiter.reject(new TransportError(error));
  else waiter.resolve(value);
}
