/**
 * Counts the elements of one PCollection on their way to its consumers
 * (`beam:metric:element_count:v1`) and samples their encoded sizes
 * (`beam:metric:sampled_byte_size:v1`). Both live in shared Float64Array
 * cells so that another thread (the conductor answering a progress request)
 * can read them while the bundle runs.
 *
 * Size sampling is cheap on the hot path: the first 16 elements of a bundle
 * and then every 64th are encoded (nested, with the PCollection's coder) to
 * measure them; everything else costs one comparison.
 */
import { ByteWriter, type Coder, type WindowedValue } from "../coders/index.js";
import type { BatchLimits, ElementBatch } from "../coders/columnar/index.js";
import type { MaybePromise, Receiver } from "./operation.js";

/** Cells per PCollection: count, then the sampled sizes' count, sum, min and max. */
export const CELLS_PER_PCOLLECTION = 5;
const COUNT = 0;
const SIZE_COUNT = 1;
const SIZE_SUM = 2;
const SIZE_MIN = 3;
const SIZE_MAX = 4;
const ALWAYS_SAMPLED = 16;
const SAMPLE_MASK = 63;

export interface PCollectionStats {
  count: number;
  /** Distribution of sampled encoded sizes in bytes (absent when nothing was sampled). */
  sizes?: { count: number; sum: number; min: number; max: number };
}

/** The counts of the PCollection at `index` of a counts buffer. */
export function readPCollectionStats(cells: Float64Array, index: number): PCollectionStats {
  const base = index * CELLS_PER_PCOLLECTION;
  const count = cells[base + COUNT];
  const sizeCount = cells[base + SIZE_COUNT];
  if (sizeCount === 0) return { count };
  return {
    count,
    sizes: {
      count: sizeCount,
      sum: cells[base + SIZE_SUM],
      min: cells[base + SIZE_MIN],
      max: cells[base + SIZE_MAX],
    },
  };
}

let sizingWriter: ByteWriter | undefined;

export class CountingReceiver implements Receiver {
  private readonly base: number;
  private coder: Coder<unknown> | undefined | null;

  constructor(
    readonly pcollectionId: string,
    protected readonly inner: Receiver,
    private readonly cells: Float64Array,
    index: number,
    /** The PCollection's element coder (resolved on the first size sample). */
    private readonly coderOf: () => Coder<unknown>,
  ) {
    this.base = index * CELLS_PER_PCOLLECTION;
  }

  get count(): number {
    return this.cells[this.base + COUNT];
  }

  get takesBatches(): boolean {
    return this.inner.takesBatches === true;
  }

  get batchLimits(): BatchLimits | undefined {
    return this.inner.batchLimits;
  }

  /** Counts a batch's rows (sizes are sampled from elements only). */
  processBatch(batch: ElementBatch): MaybePromise {
    this.cells[this.base + COUNT] += batch.table.numRows;
    return (this.inner as Required<Receiver>).processBatch(batch);
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const n = ++this.cells[this.base + COUNT];
    if (n <= ALWAYS_SAMPLED || (n & SAMPLE_MASK) === 0) this.sampleSize(element.value);
    return this.inner.process(element);
  }

  private sampleSize(value: unknown): void {
    if (this.coder === null) return;
    let size: number;
    try {
      this.coder ??= this.coderOf();
      const writer = (sizingWriter ??= new ByteWriter(1024));
      writer.reset();
      this.coder.encodeTo(value, writer, "nested");
      size = writer.length;
      if (size > 1 << 20) sizingWriter = undefined; // do not keep a huge buffer alive
    } catch {
      // A value its PCollection's coder cannot encode (a consumer in the same
      // stage may not care) or a coder Firefly cannot build: no size metric.
      if (this.coder === undefined) this.coder = null;
      return;
    }
    const cells = this.cells;
    const base = this.base;
    if (cells[base + SIZE_COUNT] === 0 || size < cells[base + SIZE_MIN])
      cells[base + SIZE_MIN] = size;
    if (size > cells[base + SIZE_MAX]) cells[base + SIZE_MAX] = size;
    cells[base + SIZE_COUNT]++;
    cells[base + SIZE_SUM] += size;
  }
}
