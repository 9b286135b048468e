/**
 * The one place combine phases call a CombineFn from: parses the transform's
 * `CombinePayload` (a bad payload or an unsupported CombineFn URN is an
 * OperationError when the operation is built), loads the fn in `setup`, and
 * calls its methods so that whatever they throw becomes a UserCodeError
 * naming the transform and the method. CombineFn methods are synchronous: a
 * method that returns a promise is an error, not a silently wrong accumulator.
 *
 * Iterables of values (GroupByKey output) may be arrays, other iterables, or
 * state-backed async iterables; the helpers here stay synchronous for the
 * first two and return a promise only for the third.
 */
import { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError, UserCodeError } from "../errors.js";
import {
  builtinSpecOf,
  FIREFLY_COMBINEFN_URN,
  loadCombineFn,
  type CombineFn,
} from "./combine-fn.js";

function message(err: unknown): string {
  return errorMessage(err);
}

function isThenable(v: unknown): boolean {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

export class CombineFnHost {
  /** The accumulator coder id the payload names (the PCollections' coders encode accumulators). */
  readonly accumulatorCoderId: string;
  private readonly spec: pipelineApi.FunctionSpec;
  private loaded: CombineFn | undefined;
  private builtin: string | undefined;

  constructor(
    readonly transformId: string,
    readonly urn: string,
    payload: Uint8Array,
  ) {
    let parsed: pipelineApi.CombinePayload;
    try {
      parsed = pipelineApi.CombinePayload.deserializeBinary(payload);
    } catch (err) {
      throw new OperationError(transformId, urn, "payload is not a CombinePayload", {
        cause: err,
      });
    }
    if (!parsed.has_combine_fn || !parsed.combine_fn.urn) {
      throw new OperationError(transformId, urn, "CombinePayload has no combine_fn");
    }
    if (parsed.combine_fn.urn !== FIREFLY_COMBINEFN_URN) {
      throw new OperationError(
        transformId,
        urn,
        `CombineFn URN ${JSON.stringify(parsed.combine_fn.urn)} is not supported: Firefly runs ${FIREFLY_COMBINEFN_URN}`,
      );
    }
    this.spec = parsed.combine_fn;
    this.accumulatorCoderId = parsed.accumulator_coder_id;
  }

  /** Loads the CombineFn (once per processor instance). */
  async setup(): Promise<void> {
    if (this.loaded) return;
    try {
      this.loaded = await loadCombineFn(this.spec);
    } catch (err) {
      throw new OperationError(this.transformId, this.urn, message(err), { cause: err });
    }
    this.builtin = builtinSpecOf(this.spec)?.builtin;
  }

  /** The name of the built-in CombineFn (`"sum"`, ...) once `setup` loaded one; else undefined. */
  get builtinName(): string | undefined {
    return this.loaded ? this.builtin : undefined;
  }

  private get fn(): CombineFn {
    const fn = this.loaded;
    if (!fn) throw new OperationError(this.transformId, this.urn, "CombineFn used before setup");
    return fn;
  }

  private failed(method: string, err: unknown, input?: { element: unknown }): UserCodeError {
    return new UserCodeError(this.transformId, `CombineFn.${method}`, err, input);
  }

  private checked(method: string, result: unknown): unknown {
    if (isThenable(result)) {
      throw this.failed(
        method,
        new TypeError(
          `CombineFn.${method} returned a promise: CombineFn methods must be synchronous`,
        ),
      );
    }
    return result;
  }

  createAccumulator(): unknown {
    let result: unknown;
    try {
      result = this.fn.createAccumulator();
    } catch (err) {
      throw this.failed("createAccumulator", err);
    }
    return this.checked("createAccumulator", result);
  }

  addInput(accumulator: unknown, input: unknown): unknown {
    let result: unknown;
    try {
      result = this.fn.addInput(accumulator, input);
    } catch (err) {
      throw this.failed("addInput", err, { element: input });
    }
    return this.checked("addInput", result);
  }

  mergeAccumulators(accumulators: unknown[]): unknown {
    let result: unknown;
    try {
      result = this.fn.mergeAccumulators(accumulators);
    } catch (err) {
      throw this.failed("mergeAccumulators", err);
    }
    return this.checked("mergeAccumulators", result);
  }

  extractOutput(accumulator: unknown): unknown {
    let result: unknown;
    try {
      result = this.fn.extractOutput(accumulator);
    } catch (err) {
      throw this.failed("extractOutput", err);
    }
    return this.checked("extractOutput", result);
  }

  /** The accumulator as it leaves the operation: `compact(acc)` when the fn has one. */
  compact(accumulator: unknown): unknown {
    const fn = this.fn;
    if (typeof fn.compact !== "function") return accumulator;
    let result: unknown;
    try {
      result = fn.compact(accumulator);
    } catch (err) {
      throw this.failed("compact", err);
    }
    return this.checked("compact", result);
  }

  /** A fresh accumulator with every value added (a promise only for an async iterable). */
  addInputs(values: unknown): unknown {
    const iterable = this.iterableOf(values);
    let acc = this.createAccumulator();
    if (Array.isArray(iterable)) {
      for (let i = 0; i < iterable.length; i++) acc = this.addInput(acc, iterable[i]);
      return acc;
    }
    if (Symbol.iterator in iterable) {
      for (const v of iterable) acc = this.addInput(acc, v);
      return acc;
    }
    return this.reading(async () => {
      for await (const v of iterable) acc = this.addInput(acc, v);
      return acc;
    });
  }

  /** The values as an array (a promise only for an async iterable). */
  arrayOf(values: unknown): unknown[] | Promise<unknown[]> {
    const iterable = this.iterableOf(values);
    if (Array.isArray(iterable)) return iterable;
    if (Symbol.iterator in iterable) return Array.from(iterable);
    return this.reading(async () => {
      const out: unknown[] = [];
      for await (const v of iterable) out.push(v);
      return out;
    });
  }

  /** Runs a read of async (state-backed) values: a failed read is an OperationError naming the transform. */
  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof UserCodeError) throw err;
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot read the grouped values: ${message(err)}`,
        { cause: err },
      );
    }
  }

  private iterableOf(values: unknown): Iterable<unknown> | AsyncIterable<unknown> {
    if (
      values !== null &&
      typeof values === "object" &&
      (Symbol.iterator in values || Symbol.asyncIterator in values)
    ) {
      return values as Iterable<unknown> | AsyncIterable<unknown>;
    }
    throw new OperationError(
      this.transformId,
      this.urn,
      `expected an iterable of values, got ${values === null ? "null" : typeof values}`,
    );
  }
}
