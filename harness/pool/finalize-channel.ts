/**
 * Bundle finalization across pool threads: the conductor broadcasts
 * `finalize` for an instruction; the thread holding its callbacks runs them
 * and broadcasts `finalized` (with an error if one failed).
 */
export const FINALIZE_CHANNEL = "firefly:finalize";

export type FinalizeMessage =
  | { type: "finalize"; instructionId: string }
  | { type: "finalized"; instructionId: string; error?: string };
