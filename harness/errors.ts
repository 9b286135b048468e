/**
 * Named errors of the harness. Each class says when it is thrown; `name` is
 * set explicitly so it survives structured cloning across threads.
 */

/** A lifecycle method was called in a state that does not allow it. */
export class IllegalStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IllegalStateError";
  }
}

/** The runner sent something the Fn API does not allow (malformed descriptor, unknown ids). */
export class ProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A bundle failed; names the instruction and, when known, the transform. */
export class BundleError extends Error {
  constructor(
    message: string,
    readonly instructionId: string,
    readonly transformId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BundleError";
  }
}

/** A transport (gRPC stream) ended or failed while a bundle still needed it. */
export class TransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    // A stream that simply ended has no cause; do not record an undefined one.
    super(message, options?.cause === undefined ? undefined : options);
    this.name = "TransportError";
  }
}

/**
 * Renders an error for an `InstructionResponse.error`: the message chain with
 * causes and the stack of the innermost error (the user's stack for user code).
 * Non-Error throwables (strings, objects, undefined) are described, not lost.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  let more = true; // an Error's `cause` may be present and undefined (`throw undefined`)
  let innermostStack: string | undefined;
  for (let depth = 0; more && depth < 8; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      innermostStack = current.stack ?? innermostStack;
      more = "cause" in current;
      current = current.cause;
    } else {
      parts.push(`thrown value: ${safeString(current)}`);
      more = false;
    }
  }
  const text = parts.join("\ncaused by: ");
  return innermostStack ? `${text}\n${innermostStack}` : text;
}

function safeString(value: unknown): string {
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
