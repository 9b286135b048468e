/**
 * Dynamic splits for stages that start with a splittable DoFn: when a worker
 * slot is idle and no bundle waits for one, the runner asks the bundle that
 * has run longest (the slowest) to split off half of its remaining work
 * (ProcessBundleSplit, fraction_of_remainder 0.5, on the stage's data
 * source). What the worker hands back — the residual of the element it is in
 * (a residual root) and the input elements after it (a channel split) —
 * becomes a new bundle on the idle slot. A bundle that answers with nothing
 * (its work cannot be split any more) is not asked again.
 */
import type { Coder } from "../../../coders/index.js";
import { fnApi } from "../../../proto/index.js";
import type { WorkerConnection } from "../fn-api/worker-connection.js";
import { countElements, elementsBetween } from "./channel.js";

/** A bundle only this old or older is split (younger ones may end on their own soon). */
export const MIN_SPLIT_AGE_MS = 200;

interface RunningBundle {
  connection: WorkerConnection;
  parts: readonly Uint8Array[];
  startedAt: number;
  /** Input elements at or past this index were split away already. */
  stop: number;
  exhausted: boolean;
}

export class DynamicSplitter {
  private readonly running = new Map<string, RunningBundle>();
  /** Splits that handed work back. */
  splits = 0;

  constructor(
    /** The stage's data source transform (the split's target). */
    private readonly sourceId: string,
    /** The windowed coder of the stage's input elements. */
    private readonly coder: Coder<unknown>,
    /** Checks a residual root is for the stage's input; throws otherwise. */
    private readonly checkRoot: (instructionId: string, root: fnApi.BundleApplication) => void,
  ) {}

  /** A bundle whose input was sent whole (only then can the runner name its elements). */
  started(instructionId: string, connection: WorkerConnection, parts: readonly Uint8Array[]): void {
    this.running.set(instructionId, {
      connection,
      parts,
      startedAt: Date.now(),
      stop: Number.POSITIVE_INFINITY,
      exhausted: false,
    });
  }

  ended(instructionId: string): void {
    this.running.delete(instructionId);
  }

  /**
   * Splits the longest-running bundle that still may split; resolves with the
   * new bundle's input, or undefined when no bundle would split.
   */
  async splitSlowest(): Promise<Uint8Array[] | undefined> {
    const now = Date.now();
    const candidates = [...this.running]
      .filter(([, b]) => !b.exhausted && now - b.startedAt >= MIN_SPLIT_AGE_MS)
      .sort(([, a], [, b]) => a.startedAt - b.startedAt);
    for (const [id, bundle] of candidates) {
      const input = await this.split(id, bundle);
      if (input) {
        this.splits++;
        return input;
      }
      bundle.exhausted = true;
    }
    return undefined;
  }

  private async split(id: string, bundle: RunningBundle): Promise<Uint8Array[] | undefined> {
    if (bundle.stop === Number.POSITIVE_INFINITY)
      bundle.stop = countElements(bundle.parts, this.coder);
    let response: fnApi.InstructionResponse;
    try {
      response = await bundle.connection.instruct(
        new fnApi.InstructionRequest({
          process_bundle_split: new fnApi.ProcessBundleSplitRequest({
            instruction_id: id,
            desired_splits: new Map([
              [
                this.sourceId,
                new fnApi.ProcessBundleSplitRequest.DesiredSplit({
                  fraction_of_remainder: 0.5,
                  estimated_input_elements: bundle.stop,
                }),
              ],
            ]),
          }),
        }),
      );
    } catch {
      return undefined; // the worker went away: the bundle fails on its own
    }
    // Work the worker handed back runs even if its bundle ended meanwhile: the
    // answer came before the bundle's end, and the primary no longer holds it.
    if (response.error) return undefined;
    const body = response.process_bundle_split;
    const input: Uint8Array[] = [];
    for (const root of body.residual_roots) {
      this.checkRoot(id, root.application);
      input.push(root.application.element);
    }
    const channel = body.channel_splits.find((c) => c.transform_id === this.sourceId);
    if (channel && channel.first_residual_element < bundle.stop) {
      input.push(
        ...elementsBetween(bundle.parts, this.coder, channel.first_residual_element, bundle.stop),
      );
      bundle.stop = channel.first_residual_element;
    }
    return input.length > 0 ? input : undefined;
  }
}
