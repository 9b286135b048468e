/**
 * One multiplexed `BeamFnData.Data` stream to a runner data endpoint.
 *
 * Inbound: entries are demultiplexed by instruction id into
 * `InstructionInbound` queues (created on first sight, so data that arrives
 * before its ProcessBundle request waits). Flow control is by bytes across the
 * queues of running bundles and of instructions nobody requested yet: past
 * `maxBufferedBytes` the stream is paused (the runner then sees HTTP/2
 * backpressure), and resumed below half of it. Bytes of bundles that were
 * requested but wait for a pool thread are buffered without pausing the
 * stream: pausing for them would starve the running bundles whose input comes
 * behind them on the same stream (a deadlock). They are bounded by what the
 * runner sends for the bundles it asked for, as in Beam's Python and Java
 * harnesses, which read every bundle's input concurrently. Data for an instruction nobody claims is
 * dropped, with a log, after `orphanTimeoutMs`.
 *
 * Outbound: `send` writes an `Elements` message and returns a promise only when
 * the stream needs draining (backpressure).
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { fnApi } from "../../proto/index.js";
import { TransportError } from "../errors.js";
import { channelOptions, grpcTarget, workerMetadata, type GrpcSettings } from "../grpc-settings.js";
import { InstructionInbound, type InboundAccounting } from "./inbound.js";

export interface DataChannelOptions {
  workerId: string;
  grpc: GrpcSettings;
  /** Bytes buffered inbound (all instructions) before the stream is paused. @default 64 MiB */
  maxBufferedBytes: number;
  /** Unclaimed inbound data is dropped after this long. @default 300000 */
  orphanTimeoutMs: number;
  logger: Logger;
}

type Call = grpc.ClientDuplexStream<fnApi.Elements, fnApi.Elements>;

const DATA_PATH = fnApi.UnimplementedBeamFnDataService.definition.Data.path;

/** An Elements message's bytes as a Buffer over the same memory (no copy). */
function serializeElements(message: fnApi.Elements): Buffer {
  const bytes = message.serialize();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes straight from gRPC's buffer: bytes fields are views of it (no copy). */
function deserializeElements(bytes: Buffer): fnApi.Elements {
  return fnApi.Elements.deserialize(bytes);
}

/**
 * A paused stream still reads messages until its readable buffer holds its
 * high-water mark of them (16 by default: 16 MiB of the runner's 1 MiB
 * messages, over `maxBufferedBytes`); one message of read-ahead keeps the
 * inbound bytes at what flow control allows. (Node's readable state: grpc-js
 * takes no option for it.)
 */
function limitReadAhead(call: Call): void {
  const state = (call as unknown as { _readableState?: { highWaterMark?: number } })._readableState;
  if (state && typeof state.highWaterMark === "number") state.highWaterMark = 1;
}

/**
 * Whether `bytes` is most of a buffer of its own: grpc-js concatenates every
 * received message into a fresh buffer (pooled only below Node's 8 KiB pool),
 * and a message's bytes field is a view of it. With the message's only entry,
 * nothing else views that buffer once the message is decoded.
 */
function ownsItsBuffer(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  return (
    buffer instanceof ArrayBuffer &&
    buffer.byteLength > 2 * Buffer.poolSize &&
    bytes.byteLength * 4 >= buffer.byteLength * 3
  );
}

export class DataChannel implements InboundAccounting {
  private readonly client: fnApi.BeamFnDataClient;
  private readonly call: Call;
  private readonly inbound = new Map<string, InstructionInbound>();
  /** Instructions that ended recently: late data for them is dropped silently. */
  private readonly finished = new Set<string>();
  /** Bytes of queues that running bundles read (flow-controlled). */
  private buffered = 0;
  /** Bytes of queues whose bundles do not read yet. */
  private waiting = 0;
  private paused = false;
  private drainWaiter: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly url: string,
    private readonly options: DataChannelOptions,
  ) {
    this.client = new fnApi.BeamFnDataClient(
      grpcTarget(url),
      grpc.credentials.createInsecure(),
      channelOptions(options.grpc),
    );
    // The generated method copies every message once more each way
    // (`Buffer.from(Uint8Array)`, `new Uint8Array(Buffer)`); these view instead.
    this.call = this.client.makeBidiStreamRequest(
      DATA_PATH,
      serializeElements,
      deserializeElements,
      workerMetadata(options.workerId),
    );
    limitReadAhead(this.call);
    this.call.on("data", (message: fnApi.Elements) => this.onMessage(message));
    this.call.on("error", (err) => this.onClosed(err));
    this.call.on("end", () => this.onClosed(undefined));
    this.sweeper = setInterval(
      () => this.dropOrphans(),
      Math.max(1000, options.orphanTimeoutMs / 4),
    );
    this.sweeper.unref();
  }

  get isBroken(): boolean {
    return this.failure !== undefined;
  }

  /** Bytes currently buffered inbound (all queues). */
  get bufferedBytes(): number {
    return this.buffered + this.waiting;
  }

  /** Bytes buffered for bundles that do not read yet (not counted by flow control). */
  get waitingBytes(): number {
    return this.waiting;
  }

  /** The inbound queue of an instruction (with anything that already arrived). */
  claim(instructionId: string): InstructionInbound {
    let inbound = this.inbound.get(instructionId);
    if (!inbound) {
      inbound = new InstructionInbound(instructionId, this);
      if (this.failure) inbound.fail(this.failure);
      this.inbound.set(instructionId, inbound);
    }
    inbound.claimForLater();
    this.finished.delete(instructionId); // an id may be reused once its bundle ended
    return inbound;
  }

  /** The bundle is done: drop its queue, and drop late data for it. */
  release(instructionId: string): void {
    const inbound = this.inbound.get(instructionId);
    this.inbound.delete(instructionId);
    inbound?.close();
    this.finished.add(instructionId);
    if (this.finished.size > 10_000) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  send(message: fnApi.Elements): void | Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.call.write(message)) return undefined;
    this.drainWaiter ??= new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error) => {
        cleanup();
        reject(
          new TransportError(`data stream to ${this.url} failed while draining`, { cause: err }),
        );
      };
      const cleanup = () => {
        this.call.off("drain", onDrain);
        this.call.off("error", onError);
        this.drainWaiter = undefined;
      };
      this.call.on("drain", onDrain);
      this.call.on("error", onError);
    });
    return this.drainWaiter;
  }

  added(bytes: number, consuming: boolean): void {
    if (!consuming) {
      this.waiting += bytes;
      return;
    }
    this.buffered += bytes;
    if (!this.paused && this.buffered > this.options.maxBufferedBytes) {
      this.paused = true;
      this.call.pause();
    }
  }

  released(bytes: number, consuming: boolean): void {
    if (!consuming) {
      this.waiting -= bytes;
      return;
    }
    this.buffered -= bytes;
    if (this.paused && this.buffered <= this.options.maxBufferedBytes / 2) {
      this.paused = false;
      this.call.resume();
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.onClosed(undefined);
    // End our side and cancel: a runner need not end its side for the worker to stop.
    this.call.end();
    this.call.cancel();
    this.client.close();
  }

  private onMessage(message: fnApi.Elements): void {
    const alone = message.data.length === 1 && message.timers.length === 0;
    for (const entry of message.data) {
      this.route(entry.instruction_id, {
        kind: "data",
        transformId: entry.transform_id,
        bytes: entry.data,
        isLast: entry.is_last,
        ownsBuffer: alone && ownsItsBuffer(entry.data),
      });
    }
    for (const entry of message.timers) {
      this.route(entry.instruction_id, {
        kind: "timers",
        transformId: entry.transform_id,
        timerFamilyId: entry.timer_family_id,
        bytes: entry.timers,
        isLast: entry.is_last,
      });
    }
  }

  private route(instructionId: string, item: Parameters<InstructionInbound["push"]>[0]): void {
    if (this.finished.has(instructionId)) return;
    let inbound = this.inbound.get(instructionId);
    if (!inbound) {
      inbound = new InstructionInbound(instructionId, this);
      this.inbound.set(instructionId, inbound);
    }
    inbound.push(item);
  }

  private dropOrphans(): void {
    const cutoff = Date.now() - this.options.orphanTimeoutMs;
    for (const [id, inbound] of this.inbound) {
      if (!inbound.claimed && inbound.createdAt < cutoff) {
        this.options.logger.warn(
          { instructionId: id, bufferedBytes: inbound.bufferedBytes, url: this.url },
          "dropping data for an instruction that never started",
        );
        this.release(id);
      }
    }
  }

  private onClosed(err: Error | undefined): void {
    if (this.failure) return;
    this.failure = new TransportError(
      err
        ? `data stream to ${this.url} failed: ${err.message}`
        : `data stream to ${this.url} ended`,
      { cause: err },
    );
    clearInterval(this.sweeper);
    for (const inbound of this.inbound.values()) inbound.fail(this.failure);
  }
}
