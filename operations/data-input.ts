/**
 * Operations that take bytes from the data plane rather than elements from a
 * producer: data sources (one `is_last`-terminated stream each) and ParDos
 * with timer families (one timer stream per family).
 */
import type { MaybePromise, Operation } from "./operation.js";
import type { SplitGate } from "./split-gate.js";

export interface DataInputOperation extends Operation {
  readonly inputKind: "data";
  /** Decodes and processes the elements of one chunk of the stream. */
  consume(bytes: Uint8Array): MaybePromise;
  /** The stream ended (`is_last`); throws if a partial element remains. */
  endOfInput(): MaybePromise;
  /** The source's split gate (read index, stop bound). */
  readonly splitGate: SplitGate;
}

export interface TimerInputOperation extends Operation {
  /** Timer family ids whose streams this operation expects. */
  readonly timerFamilyIds: readonly string[];
  consumeTimers(timerFamilyId: string, bytes: Uint8Array): MaybePromise;
  endOfTimers(timerFamilyId: string): MaybePromise;
}

export function isDataInput(op: Operation): op is DataInputOperation {
  return (op as Partial<DataInputOperation>).inputKind === "data";
}

export function isTimerInput(op: Operation): op is TimerInputOperation {
  const families = (op as Partial<TimerInputOperation>).timerFamilyIds;
  return families !== undefined && families.length > 0;
}
