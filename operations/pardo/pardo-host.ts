/**
 * What a DoFnContext asks of its ParDo operation.
 */
import type { Logger } from "pino";
import type { BoundedWindow, PaneInfo, WindowedValue } from "../../coders/index.js";

export interface TimerHandle {
  set(millis: bigint | number, options?: { tag?: string; holdMillis?: bigint | number }): void;
  clear(tag?: string): void;
}

export interface ParDoHost {
  instructionId(): string;
  logger(): Logger;
  emit(
    value: unknown,
    timestamp: bigint,
    windows: readonly BoundedWindow[],
    pane: PaneInfo | undefined,
    tag: string | undefined,
  ): void;
  sideInput(name: string, element: WindowedValue<unknown>): Promise<unknown>;
  state(name: string, element: WindowedValue<unknown>): unknown;
  timer(family: string, element: WindowedValue<unknown>): TimerHandle;
  registerFinalization(callback: () => unknown): void;
  /** Resolves once every output emitted so far was taken downstream (undefined when none waits). */
  outputsTaken(): Promise<void> | undefined;
  /** A splittable DoFn's self-checkpoint: the rest of its restriction resumes after `millis`. */
  resumeAfter(millis: number): void;
}
