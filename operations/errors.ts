/**
 * Errors raised by operations. Both name the transform so the bundle's error
 * response says where it failed; `name` survives structured cloning.
 */
import { inspect } from "node:util";

/** A transform could not be built or failed on its input (bad bytes, bad payload). */
export class OperationError extends Error {
  constructor(
    readonly transformId: string,
    readonly urn: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`transform ${JSON.stringify(transformId)} (${urn}): ${message}`, options);
    this.name = "OperationError";
  }
}

/** User code (a DoFn, CombineFn or WindowFn) threw; `cause` keeps the user's error and stack. */
export class UserCodeError extends Error {
  /** A short rendering of the element being processed, when there was one. */
  readonly elementPreview?: string;
  /** The step's name (the transform's `unique_name`), set by the bundle processor when known. */
  stepName?: string;

  constructor(
    readonly transformId: string,
    readonly method: string,
    cause: unknown,
    options?: { element?: unknown },
  ) {
    super(`transform ${JSON.stringify(transformId)} failed in ${method}: ${thrownSummary(cause)}`, {
      cause,
    });
    this.name = "UserCodeError";
    if (options && "element" in options) this.elementPreview = previewValue(options.element);
  }
}

/** Names the step of a UserCodeError from the descriptor's transforms (a no-op for other errors). */
export function nameStep(
  err: unknown,
  transforms: ReadonlyMap<string, { unique_name?: string }>,
): void {
  if (!(err instanceof UserCodeError) || err.stepName !== undefined) return;
  err.stepName = transforms.get(err.transformId)?.unique_name || err.transformId;
}

/** `Name: message` of a thrown value (anything else as `thrown value: …`). */
export function thrownSummary(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `thrown value: ${safeString(err)}`;
}

/** A thrown non-Error as text (strings quoted, objects as JSON when they can be). */
export function safeString(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // fall through to String()
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const MAX_PREVIEW_CHARS = 120;

/** A one-line, truncated rendering of a value (as `util.inspect` shows it). */
export function previewValue(value: unknown, maxChars = MAX_PREVIEW_CHARS): string {
  let text: string;
  try {
    text = inspect(value, {
      depth: 2,
      breakLength: Infinity,
      maxArrayLength: 10,
      maxStringLength: maxChars,
      compact: true,
    });
  } catch {
    text = safeString(value);
  }
  text = text.replace(/\s*\n\s*/g, " ");
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** The message of a thrown value (an Error's message, anything else as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
