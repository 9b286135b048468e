/**
 * Errors raised by operations. Both name the transform so the bundle's error
 * response says where it failed; `name` survives structured cloning.
 */

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
  constructor(
    readonly transformId: string,
    readonly method: string,
    cause: unknown,
  ) {
    super(`user code failed in ${method} of transform ${JSON.stringify(transformId)}`, { cause });
    this.name = "UserCodeError";
  }
}

/** The message of a thrown value (an Error's message, anything else as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
