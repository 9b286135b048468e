/**
 * Forwards log records to the runner's `BeamFnLogging` service: records are
 * queued (bounded: past `maxQueued` new records are dropped and counted, the
 * worker never blocks on logging), sent in `LogEntry.List` batches every
 * `flushMs` or at `batchSize`, and flushed on `close()` within a bounded time.
 * A broken stream is reopened with backoff for the records that follow.
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi, wkt } from "../../proto/index.js";
import { channelOptions, grpcTarget, workerMetadata, type GrpcSettings } from "../grpc-settings.js";

/** A record as pino writes it (JSON), the fields Firefly sets. */
export interface LogRecord {
  level: number;
  time: number;
  msg?: string;
  instructionId?: string;
  transformId?: string;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

export interface LogForwarderOptions {
  workerId: string;
  grpc: GrpcSettings;
  /** @default 10000 */
  maxQueued?: number;
  /** @default 500 */
  batchSize?: number;
  /** @default 200 */
  flushMs?: number;
}

const Severity = fnApi.LogEntry.Severity.Enum;

/** pino's numeric levels to Beam's severities. */
export function severityOf(level: number): fnApi.LogEntry.Severity.Enum {
  if (level >= 60) return Severity.CRITICAL;
  if (level >= 50) return Severity.ERROR;
  if (level >= 40) return Severity.WARN;
  if (level >= 30) return Severity.INFO;
  if (level >= 20) return Severity.DEBUG;
  return Severity.TRACE;
}

export function toLogEntry(record: LogRecord): fnApi.LogEntry {
  const millis = typeof record.time === "number" ? record.time : Date.now();
  return new fnApi.LogEntry({
    severity: severityOf(record.level),
    timestamp: new wkt.Timestamp({
      seconds: Math.floor(millis / 1000),
      nanos: (millis % 1000) * 1e6,
    }),
    message: record.msg ?? record.err?.message ?? "",
    // A failed instruction logs its rendered error (`error`), the text its response carries.
    trace: record.err?.stack ?? (typeof record.error === "string" ? record.error : ""),
    instruction_id: record.instructionId ?? "",
    transform_id: record.transformId ?? "",
    thread: typeof record.thread === "string" ? record.thread : "main",
  });
}

export class LogForwarder {
  private readonly client: fnApi.BeamFnLoggingClient;
  private call: grpc.ClientDuplexStream<fnApi.LogEntry.List, fnApi.LogControl> | undefined;
  private queue: fnApi.LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The stream asked us to wait for 'drain'. */
  private blocked = false;
  private closed = false;
  private retryAt = 0;
  private failures = 0;
  /** Records dropped because the queue was full or the stream was down at close. */
  dropped = 0;
  sent = 0;
  private readonly maxQueued: number;
  private readonly batchSize: number;
  private readonly flushMs: number;

  constructor(
    readonly url: string,
    private readonly options: LogForwarderOptions,
  ) {
    this.client = new fnApi.BeamFnLoggingClient(
      grpcTarget(url),
      grpc.credentials.createInsecure(),
      channelOptions(options.grpc),
    );
    this.maxQueued = options.maxQueued ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.flushMs = options.flushMs ?? 200;
  }

  /** Queues one record (never blocks, never throws). */
  write(record: LogRecord): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(toLogEntry(record));
    if (this.queue.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
  }

  /** Sends what is queued, ends the stream, and waits (bounded) for the runner to close it. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    const call = this.call;
    if (call) {
      const ended = new Promise<void>((resolve) => {
        call.once("end", resolve);
        call.once("error", () => resolve());
        call.once("close", resolve);
      });
      call.end();
      await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      call.cancel();
    }
    this.dropped += this.queue.length;
    this.queue = [];
    this.client.close();
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0 || this.closed) return;
    const call = this.stream();
    if (!call) {
      this.timer = setTimeout(
        () => this.flush(),
        Math.max(this.flushMs, this.retryAt - Date.now()),
      ).unref();
      return;
    }
    // Honour backpressure: a runner that stops reading must not make gRPC
    // buffer records without bound; they wait in the (bounded) queue instead.
    while (this.queue.length > 0 && !this.blocked) {
      const batch = this.queue.splice(0, this.batchSize);
      this.sent += batch.length;
      if (!call.write(new fnApi.LogEntry.List({ log_entries: batch }))) {
        this.blocked = true;
        call.once("drain", () => {
          this.blocked = false;
          this.flush();
        });
      }
    }
  }

  private stream(): grpc.ClientDuplexStream<fnApi.LogEntry.List, fnApi.LogControl> | undefined {
    if (this.call) return this.call;
    if (Date.now() < this.retryAt) return undefined;
    const call = this.client.Logging(workerMetadata(this.options.workerId));
    call.on("data", () => undefined); // LogControl messages carry nothing today
    const onBroken = () => {
      if (this.call !== call) return;
      this.call = undefined;
      this.blocked = false;
      this.failures++;
      this.retryAt = Date.now() + Math.min(30_000, 100 * 2 ** Math.min(this.failures, 8));
    };
    call.on("error", onBroken);
    call.on("end", onBroken);
    this.call = call;
    return call;
  }
}
