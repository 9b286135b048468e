/**
 * One benchmark session: the runner-side servicers (the tests' FakeRunner,
 * real gRPC on 127.0.0.1) and one worker process connected to them. Cases
 * register descriptors, run bundles and measure a region: wall time, the
 * worker's CPU time (utime + stime) and its peak RSS (VmHWM).
 */
import {
  ByteWriter,
  coderFromSpec,
  GLOBAL_WINDOW,
  NO_FIRING,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../../test/support/fake-runner.js";
import { windowed, type CoderSpec } from "../../test/support/descriptors.js";
import {
  launchWorker,
  workerLabel,
  type BenchWorker,
  type LaunchOptions,
  type WorkerKind,
} from "./worker-launch.js";

/** How long one bundle may take before the benchmark gives up on the worker. */
const BUNDLE_TIMEOUT_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 30_000;

/** A measured region of a session. */
export interface Measured {
  elements: number;
  /** Input bytes (encoded windowed values). */
  bytes: number;
  seconds: number;
  elementsPerSec: number;
  mbPerSec: number;
  /** Worker CPU (all threads) per element, ns. */
  cpuNsPerElement: number;
  /** Worker peak RSS (VmHWM) when the region ended, MB. */
  peakRssMb: number;
  /** The driver's (runner side's) own CPU per element, ns: same work for every worker. */
  runnerCpuNsPerElement: number;
}

export class BenchSession {
  readonly label: string;
  private next = 1;
  /** Sends started by `preSend`, by instruction id. */
  private readonly preSending = new Map<string, Promise<void>>();

  private constructor(
    readonly kind: WorkerKind,
    readonly runner: FakeRunner,
    readonly worker: BenchWorker,
    options: LaunchOptions,
  ) {
    this.label = workerLabel(kind, options);
  }

  /** Starts the servicers and a worker, and waits until the worker opened Control. */
  static async open(kind: WorkerKind, options: LaunchOptions = {}): Promise<BenchSession> {
    const runner = await FakeRunner.start();
    const worker = launchWorker(kind, runner.url, `bench-${kind}`, options);
    const session = new BenchSession(kind, runner, worker, options);
    try {
      await withTimeout(runner.controlStream(), CONNECT_TIMEOUT_MS, () =>
        session.failure("did not open the control stream"),
      );
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  /** The runner's URL (descriptors' data and state endpoints). */
  get url(): string {
    return this.runner.url;
  }

  register(descriptor: fnApi.ProcessBundleDescriptor): void {
    this.runner.descriptors.set(descriptor.id, descriptor);
  }

  /**
   * Runs one bundle: sends ProcessBundle, then the input chunks (one Data
   * message each) to transform `source`, and waits for the response and the
   * `sink` output. Returns the bundle's wall time (ms) and output size.
   */
  async bundle(
    descriptorId: string,
    chunks: readonly Uint8Array[],
    cacheTokens: fnApi.ProcessBundleRequest.CacheToken[] = [],
    /** The id `preSend` returned: the input is already with the worker, send none. */
    preSentId?: string,
  ): Promise<{ ms: number; outputBytes: number }> {
    const id = preSentId ?? this.instructionId(descriptorId);
    const start = process.hrtime.bigint();
    const response = this.runner.processBundle(descriptorId, id, cacheTokens);
    const sent = preSentId === undefined ? this.send(id, chunks) : this.preSending.get(preSentId);
    this.preSending.delete(id);
    const result = await withTimeout(response, BUNDLE_TIMEOUT_MS, () =>
      this.failure(`bundle ${id} did not finish`),
    );
    await sent;
    if (result.error) throw this.failure(`bundle ${id} failed: ${result.error.slice(0, 2000)}`);
    const output = await this.runner.output(id, "sink");
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    this.runner.forgetOutputs(id);
    return { ms, outputBytes: output.length };
  }

  /**
   * Sends the input of the next bundle of `descriptorId` before its
   * ProcessBundle and waits until the worker has taken in what it accepts
   * before the bundle starts (its CPU time stopped growing; past its inbound
   * limit it pauses the stream, and the rest follows once the bundle runs).
   * Returns the instruction id to pass to `bundle`. The worker must have
   * opened its data stream (run one bundle first).
   */
  async preSend(descriptorId: string, chunks: readonly Uint8Array[]): Promise<string> {
    const id = this.instructionId(descriptorId);
    const sent = this.send(id, chunks);
    this.preSending.set(id, sent);
    await Promise.race([sent, new Promise((r) => setTimeout(r, 50))]);
    await this.workerIdle();
    return id;
  }

  /** Waits until the worker's CPU time did not grow for 100 ms. */
  private async workerIdle(): Promise<void> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    let last = this.worker.usage().cpuMs;
    let still = 0;
    while (still < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      const now = this.worker.usage().cpuMs;
      still = now === last ? still + 1 : 0;
      last = now;
    }
  }

  private instructionId(descriptorId: string): string {
    return `${descriptorId}-${this.next++}`;
  }

  /** Measures `body`, which processes `elements` elements of `bytes` input bytes. */
  async measure(elements: number, bytes: number, body: () => Promise<void>): Promise<Measured> {
    const before = this.worker.usage();
    const runnerBefore = process.cpuUsage();
    const start = process.hrtime.bigint();
    await body();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = this.worker.usage();
    const runner = process.cpuUsage(runnerBefore);
    return {
      elements,
      bytes,
      seconds,
      elementsPerSec: elements / seconds,
      mbPerSec: bytes / 1e6 / seconds,
      cpuNsPerElement: ((after.cpuMs - before.cpuMs) * 1e6) / elements,
      peakRssMb: after.peakRssBytes / 1e6,
      runnerCpuNsPerElement: ((runner.user + runner.system) * 1e3) / elements,
    };
  }

  async close(): Promise<void> {
    await this.worker.stop();
    this.runner.stop();
  }

  private async send(id: string, chunks: readonly Uint8Array[]): Promise<void> {
    // Concurrent bundles each wait for "drain" on the one data stream.
    (await this.runner.dataStream()).setMaxListeners(0);
    if (chunks.length === 0) {
      await this.runner.sendData(id, "source", new Uint8Array(), [1], true);
      return;
    }
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      await this.runner.sendData(id, "source", chunk, [chunk.length], i === chunks.length - 1);
    }
  }

  private failure(what: string): Error {
    const tail = this.worker.stderr().slice(-3000);
    return new Error(
      `${this.label} worker: ${what}${tail ? `\n--- worker stderr ---\n${tail}` : ""}`,
    );
  }
}

/** Opens a session, runs `body`, and always closes it. */
export async function withSession<T>(
  kind: WorkerKind,
  options: LaunchOptions,
  body: (session: BenchSession) => Promise<T>,
): Promise<T> {
  const session = await BenchSession.open(kind, options);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/**
 * Encodes `values` as global-window windowed values, cut into chunks of whole
 * elements of about `chunkBytes` (apache-beam's worker decodes each Data
 * message on its own, so no element may span two).
 */
export function encodeChunks(
  spec: CoderSpec,
  values: Iterable<unknown>,
  chunkBytes = 64 * 1024,
  timestamp = 0n,
): { chunks: Uint8Array[]; bytes: number; elements: number } {
  const coder = coderFromSpec(windowed(spec)) as Coder<WindowedValue<unknown>>;
  const writer = new ByteWriter(chunkBytes * 2);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let elements = 0;
  for (const value of values) {
    coder.encodeTo(
      { value, timestamp, windows: [GLOBAL_WINDOW], pane: NO_FIRING },
      writer,
      "nested",
    );
    elements++;
    if (writer.length >= chunkBytes) {
      bytes += writer.length;
      chunks.push(writer.finish());
    }
  }
  if (writer.length > 0) {
    bytes += writer.length;
    chunks.push(writer.finish());
  }
  return { chunks, bytes, elements };
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
