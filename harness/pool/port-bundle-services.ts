/**
 * Thread side of a pooled bundle: BundleServices and the inbound source over
 * the bundle's MessagePort. Outputs go out as transferred chunks (waiting
 * when too many are unacknowledged); state requests are answered by the
 * conductor (which owns the state stream and the cache); inbound chunks are
 * pulled in windows of INBOUND_WINDOW_BYTES.
 */
import type { MessagePort } from "node:worker_threads";
import type { fnApi } from "../../proto/index.js";
import type { Logger } from "pino";
import type {
  BundleServices,
  ElementSink,
  FinalizationCallback,
  StateAccess,
} from "../../operations/bundle-services.js";
import type { InboundSource } from "../bundle/bundle-processor.js";
import { BufferedElementSink, type FlushPolicy } from "../data/element-sink.js";
import type { InboundItem } from "../data/inbound.js";
import { TransportError } from "../errors.js";
import type { ThreadScope } from "../state/bundle-state.js";
import { ThreadBundleState, type StateTransport } from "../state/thread-bundle-state.js";
import { ThreadStateCache } from "../state/thread-state-cache.js";
import { AsyncQueue } from "../util/async-queue.js";
import {
  INBOUND_WINDOW_BYTES,
  MAX_UNACKED_OUTPUTS,
  ownedTransferable,
  type FromThread,
  type ToThread,
} from "./protocol.js";

/** This thread's state cache, kept across its bundles. */
const threadStateCache = new ThreadStateCache();

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class PortBundleServices implements BundleServices, InboundSource {
  readonly finalizations: FinalizationCallback[] = [];
  readonly residuals: fnApi.DelayedBundleApplication[] = [];
  private readonly inbound = new AsyncQueue<InboundItem>();
  private inboundUnpulled = 0;
  private nextId = 1;
  private readonly stateWaiters = new Map<number, Waiter>();
  private readonly outputWaiters = new Map<number, Waiter>();
  private readonly bundleState: ThreadBundleState;
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
    this.bundleState = new ThreadBundleState(instructionId, this.transport(), threadStateCache);
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
    return this.bundleState;
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

  addResidual(residual: fnApi.DelayedBundleApplication): void {
    this.residuals.push(residual);
  }

  /** Waits for every state write to be acknowledged; throws the first failure. */
  complete(): Promise<void> {
    return this.bundleState.complete();
  }

  abandon(): void {
    this.bundleState.abandon();
    for (const sink of this.sinks) sink.abandon();
  }

  close(): void {
    this.port.close();
  }

  private sink(transformId: string, timerFamilyId: string | undefined): BufferedElementSink {
    const sink = new BufferedElementSink((bytes, isLast) => {
      // A sink's chunk is the sink's alone (ChunkTransport): moved, not copied.
      const owned = ownedTransferable(bytes);
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

  /** The conductor's state service over the port. */
  private transport(): StateTransport {
    return {
      scope: async (since, own) =>
        (
          (await this.stateCall({ op: "scope", key: EMPTY, since, own })) as {
            scope: ThreadScope;
          }
        ).scope,
      get: async (key) => ((await this.stateCall({ op: "get", key })).pages ?? []) as Uint8Array[],
      getPage: async (key, continuationToken) => {
        const page = await this.stateCall({ op: "getPage", key, data: continuationToken });
        return {
          data: page.pages?.[0] ?? new Uint8Array(0),
          continuationToken: page.continuationToken ?? new Uint8Array(0),
        };
      },
      write: async (op, key, data) => {
        await this.stateCall({ op, key, data });
      },
    };
  }

  private stateCall(
    request: Omit<Extract<FromThread, { type: "state" }>, "type" | "id">,
  ): Promise<StateReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.stateWaiters.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: "state", id, ...request });
    });
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
        settle(this.stateWaiters, message.id, message.error, message);
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

const EMPTY = new Uint8Array(0);

type StateReply = Extract<ToThread, { type: "stateResponse" }>;

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
