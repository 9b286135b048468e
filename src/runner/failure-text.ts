/**
 * A failed pipeline's error as one text: the message, then the worker's
 * rendering (element, the user's frames) without saying its first line twice.
 * No imports: `firefly run` uses it without loading the runner.
 */
export interface FailureLike {
  message: string;
  details?: string;
}

/** The message and the details' further lines (all of the details when they say something else). */
export function failureLines(error: FailureLike | undefined): string[] {
  const message = error?.message ?? "the pipeline failed";
  const details = error?.details?.split("\n") ?? [];
  if (details.length === 0) return [message];
  const first = details[0].trim();
  return first !== "" && message.includes(first)
    ? [message, ...details.slice(1)]
    : [message, ...details];
}
