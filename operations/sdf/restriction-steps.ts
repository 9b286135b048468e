/**
 * The restriction steps a runner (or Firefly's builder) expands a splittable
 * ParDo into, ahead of `sdf_process_sized_element_and_restrictions`
 * (process-sized.ts). Each carries the SDF's ParDoPayload and calls the
 * user's DoFn; element shapes as Beam's SDKs encode them (KVs are `{key,
 * value}`), where `restriction` is the pair (restriction, watermark-estimator
 * state) that the payload's `restriction_coder_id` encodes:
 *
 *   pair_with_restriction:         element → KV(element, KV(restriction, initial estimator state))
 *   split_and_size_restrictions:   KV(element, KV(r, s)) → KV(KV(element, KV(rᵢ, s)), size(rᵢ)) for each rᵢ of splitRestriction
 *   truncate_sized_restrictions:   KV(KV(element, KV(r, s)), size) → the same with truncateRestriction(r) (dropped when undefined)
 *
 * Timestamps, windows and panes pass through. The watermark-estimator state
 * is JSON text (null without one: watermark-estimators.ts).
 */
import type { WindowedValue } from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError } from "../errors.js";
import type { MaybePromise, Operation, Receiver } from "../operation.js";
import { withValue } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import { loadUserExport } from "../user-code/load-user-code.js";
import { parseUserCodeSpec, type UserCodeSpec } from "../user-code/user-code-spec.js";
import { instantiateDoFn } from "../pardo/dofn.js";
import { FIREFLY_DOFN_URN } from "../pardo/pardo-operation.js";
import { UserCodeError } from "../errors.js";
import { isSplittable, SplittableMethods, type SplittableDoFn } from "./splittable-dofn.js";

export const PAIR_WITH_RESTRICTION_URN = "beam:transform:sdf_pair_with_restriction:v1";
export const SPLIT_AND_SIZE_URN = "beam:transform:sdf_split_and_size_restrictions:v1";
export const TRUNCATE_SIZED_URN = "beam:transform:sdf_truncate_sized_restrictions:v1";
export const PROCESS_SIZED_URN = "beam:transform:sdf_process_sized_element_and_restrictions:v1";

interface KV<K = unknown, V = unknown> {
  key: K;
  value: V;
}

/** `((element, (restriction, state)), size)` */
export type SizedElement = KV<KV<unknown, KV<unknown, unknown>>, number>;

/** The sized element of a restriction (the shape process-sized reads). */
export const sizedElement = (
  value: unknown,
  restriction: unknown,
  state: unknown,
  size: number,
): SizedElement => ({
  key: { key: value, value: { key: restriction, value: state } },
  value: size,
});

/** The SDF's ParDoPayload and user-code spec of a transform (errors name the transform). */
export function sdfPayload(
  op: OperationContext,
  urn: string,
): { payload: pipelineApi.ParDoPayload; spec: UserCodeSpec } {
  let payload: pipelineApi.ParDoPayload;
  try {
    payload = pipelineApi.ParDoPayload.deserializeBinary(op.transform.spec.payload);
  } catch (err) {
    throw new OperationError(op.transformId, urn, "payload is not a ParDoPayload", { cause: err });
  }
  if (payload.do_fn?.urn !== FIREFLY_DOFN_URN)
    throw new OperationError(
      op.transformId,
      urn,
      `DoFn URN ${JSON.stringify(payload.do_fn?.urn ?? "")} is not supported: Firefly runs DoFns given as ${FIREFLY_DOFN_URN}`,
    );
  try {
    return { payload, spec: parseUserCodeSpec(payload.do_fn.payload, "DoFn") };
  } catch (err) {
    throw new OperationError(op.transformId, urn, errorMessage(err), { cause: err });
  }
}

/** Loads and instantiates a splittable DoFn; a DoFn without initialRestriction is an error. */
export async function loadSplittableDoFn(
  transformId: string,
  urn: string,
  spec: UserCodeSpec,
): Promise<SplittableDoFn> {
  let dofn;
  try {
    dofn = instantiateDoFn(await loadUserExport(spec), `DoFn ${JSON.stringify(spec.export)}`);
  } catch (err) {
    throw new OperationError(transformId, urn, errorMessage(err), { cause: err });
  }
  if (!isSplittable(dofn))
    throw new OperationError(
      transformId,
      urn,
      `DoFn ${JSON.stringify(spec.export)} is not splittable: it has no initialRestriction method`,
    );
  return dofn;
}

const kvOf = (value: unknown, what: string, transformId: string, urn: string): KV => {
  if (value === null || typeof value !== "object" || !("key" in value) || !("value" in value))
    throw new OperationError(transformId, urn, `${what} is not a KV {key, value}`);
  return value as KV;
};

abstract class RestrictionStep implements Operation {
  readonly transformId: string;
  protected methods!: SplittableMethods;
  private dofn: SplittableDoFn | undefined;
  protected readonly out: Receiver;
  private readonly ctx: { config: unknown; options: Readonly<Record<string, unknown>> };

  constructor(
    op: OperationContext,
    readonly urn: string,
    private readonly spec: UserCodeSpec,
  ) {
    this.transformId = op.transformId;
    const [output] = op.outputNames;
    this.out = output === undefined ? { process: () => undefined } : op.output(output);
    this.ctx = { config: spec.config, options: op.limits.pipelineOptions };
  }

  async setup(): Promise<void> {
    const dofn = await loadSplittableDoFn(this.transformId, this.urn, this.spec);
    this.dofn = dofn;
    this.methods = new SplittableMethods(dofn, this.transformId, this.ctx);
    try {
      await dofn.setup?.(this.spec.config);
    } catch (err) {
      throw new UserCodeError(this.transformId, "setup", err);
    }
  }

  async teardown(): Promise<void> {
    const dofn = this.dofn;
    this.dofn = undefined;
    try {
      await dofn?.teardown?.();
    } catch (err) {
      throw new UserCodeError(this.transformId, "teardown", err);
    }
  }

  abstract process(element: WindowedValue<unknown>): MaybePromise;

  protected kv(value: unknown, what: string): KV {
    return kvOf(value, what, this.transformId, this.urn);
  }
}

/** `then` for a value that may be a promise, without a promise when it is not. */
function then<T>(value: T | Promise<T>, next: (v: T) => MaybePromise): MaybePromise {
  return value instanceof Promise ? value.then(next) : next(value);
}

class PairWithRestriction extends RestrictionStep {
  process(element: WindowedValue<unknown>): MaybePromise {
    return then(this.methods.initialRestriction(element.value), (restriction) =>
      then(this.methods.initialWatermarkEstimatorState(element.value, restriction), (state) =>
        this.out.process(
          withValue(element, { key: element.value, value: { key: restriction, value: state } }),
        ),
      ),
    );
  }
}

class SplitAndSizeRestrictions extends RestrictionStep {
  process(element: WindowedValue<unknown>): MaybePromise {
    const paired = this.kv(element.value, "the input element");
    const { key: restriction, value: state } = this.kv(paired.value, "the restriction pair");
    return then(this.methods.splitRestriction(paired.key, restriction), (parts) =>
      this.emitParts(element, paired.key, state, [...parts], 0),
    );
  }

  private emitParts(
    element: WindowedValue<unknown>,
    value: unknown,
    state: unknown,
    parts: unknown[],
    from: number,
  ): MaybePromise {
    for (let i = from; i < parts.length; i++) {
      const part = parts[i];
      const emit = (size: number): MaybePromise =>
        this.out.process(
          withValue(
            element,
            sizedElement(value, part, state, this.methods.checkedSize(size, part)),
          ),
        );
      const size = this.methods.restrictionSize(value, part);
      const pending = size instanceof Promise ? size.then(emit) : emit(size);
      if (pending) return pending.then(() => this.emitParts(element, value, state, parts, i + 1));
    }
    return undefined;
  }
}

class TruncateSizedRestrictions extends RestrictionStep {
  process(element: WindowedValue<unknown>): MaybePromise {
    const sized = this.kv(element.value, "the input element");
    const paired = this.kv(sized.key, "the sized element's key");
    const { key: restriction, value: state } = this.kv(paired.value, "the restriction pair");
    const tracker = this.methods.createTracker(restriction);
    return then(this.methods.truncateRestriction(paired.key, restriction, tracker), (truncated) => {
      if (truncated === undefined || truncated === null) return undefined;
      return then(this.methods.restrictionSize(paired.key, truncated), (size) =>
        this.out.process(
          withValue(
            element,
            sizedElement(paired.key, truncated, state, this.methods.checkedSize(size, truncated)),
          ),
        ),
      );
    });
  }
}

const STEPS: [
  string,
  new (op: OperationContext, urn: string, spec: UserCodeSpec) => RestrictionStep,
][] = [
  [PAIR_WITH_RESTRICTION_URN, PairWithRestriction],
  [SPLIT_AND_SIZE_URN, SplitAndSizeRestrictions],
  [TRUNCATE_SIZED_URN, TruncateSizedRestrictions],
];

for (const [urn, Step] of STEPS)
  registerOperation(urn, (op) => new Step(op, urn, sdfPayload(op, urn).spec));
