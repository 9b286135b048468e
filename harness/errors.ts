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

export {
  INSTRUCTION_FAILED,
  describeError,
  isRendered,
  renderedError,
  verboseErrors,
  type DescribeOptions,
} from "./error-text.js";
