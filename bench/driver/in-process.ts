/**
 * Runs bundles of a descriptor in this process, with no transport: the
 * inbound chunks are handed to the bundle processor as they are and the
 * sink's bytes are only counted. What it measures is the stage alone —
 * decoding, the operations, the DoFn and encoding — which the data plane
 * hides when it is slower than the stage (see the batches case).
 */
import { pino } from "pino";
import "../../operations/index.js";
import { ByteWriter } from "../../coders/index.js";
import { BundleProcessor, type InboundSource } from "../../harness/bundle/bundle-processor.js";
import type { InboundItem } from "../../harness/data/inbound.js";
import type { BundleServices, ElementSink } from "../../operations/bundle-services.js";
import type { fnApi } from "../../proto/index.js";
import type { Encoded } from "./pipelines.js";
import type { Measured } from "./session.js";

const FLUSH_BYTES = 64 * 1024;

/** A sink that counts its bytes as the harness would flush them (every 64 KiB). */
class CountingSink implements ElementSink {
  readonly writer = new ByteWriter(FLUSH_BYTES * 2);
  bytes = 0;
  elementWritten(): undefined {
    if (this.writer.length >= FLUSH_BYTES) this.bytes += this.writer.finish().length;
    return undefined;
  }
  close(): Promise<void> {
    this.bytes += this.writer.finish().length;
    return Promise.resolve();
  }
}

function services(instructionId: string, sinks: CountingSink[]): BundleServices {
  const unsupported = (what: string) => () => {
    throw new Error(`in-process bench bundles have no ${what}`);
  };
  return {
    instructionId,
    logger: pino({ level: "silent" }),
    dataOutput: () => {
      const sink = new CountingSink();
      sinks.push(sink);
      return sink;
    },
    timerOutput: unsupported("timers"),
    get state(): never {
      return unsupported("state")();
    },
    registerFinalization: unsupported("finalization"),
    addResidual: unsupported("residuals"),
  };
}

function inbound(sourceId: string, chunks: readonly Uint8Array[]): InboundSource {
  const items: InboundItem[] = chunks.map((bytes) => ({
    kind: "data",
    transformId: sourceId,
    bytes,
    isLast: false,
  }));
  items.push({ kind: "data", transformId: sourceId, bytes: new Uint8Array(0), isLast: true });
  let i = 0;
  return { next: () => Promise.resolve(items[i++]) };
}

/** A processor of `descriptor` (one data source) that runs bundles of `chunks`; each run returns the output bytes. */
export async function inProcessStage(
  descriptor: fnApi.ProcessBundleDescriptor,
): Promise<{ run(chunks: readonly Uint8Array[]): Promise<number>; close(): Promise<void> }> {
  const processor = await BundleProcessor.create(descriptor);
  const [sourceId] = [...processor.dataInputs.keys()];
  if (sourceId === undefined)
    throw new Error("in-process stage: the descriptor has no data source");
  let bundles = 0;
  return {
    async run(chunks) {
      const sinks: CountingSink[] = [];
      await processor.process(services(`b${++bundles}`, sinks), inbound(sourceId, chunks));
      return sinks.reduce((n, s) => n + s.bytes, 0);
    },
    close: () => processor.teardown(),
  };
}

/**
 * Measures stages of several descriptors on the same input, their bundles
 * interleaved (one of each in turn, after a warm-up bundle of each) so that
 * a noisy machine slows them alike; returns each one's median bundle (CPU
 * is this process's: the stages run on this thread). Every bundle's output
 * must be `expectOutputBytes` long.
 */
export async function measureStages(
  descriptors: readonly fnApi.ProcessBundleDescriptor[],
  input: Encoded,
  options: { reps: number; expectOutputBytes: number },
): Promise<Measured[]> {
  const stages = await Promise.all(descriptors.map((d) => inProcessStage(d)));
  try {
    const check = (bytes: number): void => {
      if (bytes !== options.expectOutputBytes)
        throw new Error(
          `in-process bundle output ${bytes} bytes, expected ${options.expectOutputBytes}`,
        );
    };
    for (const stage of stages) check(await stage.run(input.chunks));
    const runs: Measured[][] = stages.map(() => []);
    for (let i = 0; i < options.reps; i++) {
      for (const [s, stage] of stages.entries()) {
        const measuring = startMeasuring(input);
        check(await stage.run(input.chunks));
        runs[s]!.push(measuring.done());
      }
    }
    return runs.map((r) => r.sort((a, b) => a.seconds - b.seconds)[r.length >> 1]!);
  } finally {
    for (const stage of stages) await stage.close();
  }
}

/**
 * Starts measuring work on `input`'s elements done in this process; `done()`
 * gives the measurement (wall time, and this process's CPU: no runner side).
 */
export function startMeasuring(input: Encoded): { done(): Measured } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  return {
    done() {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const used = process.cpuUsage(cpu);
      return {
        elements: input.elements,
        bytes: input.bytes,
        seconds,
        elementsPerSec: input.elements / seconds,
        mbPerSec: input.bytes / 1e6 / seconds,
        cpuNsPerElement: ((used.user + used.system) * 1e3) / input.elements,
        peakRssMb: process.resourceUsage().maxRSS / 1e3,
        runnerCpuNsPerElement: 0,
      };
    },
  };
}
