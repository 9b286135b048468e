/**
 * The JSON payload that names user code (`firefly:dofn:v1`,
 * `firefly:combinefn:v1`, `firefly:windowfn:v1`):
 * `{"module": "<specifier>", "export": "<name>", "config": <any JSON>}` or
 * `{"source": "<ES module text>", "export": "<name>", "config": ...}`.
 * `export` defaults to `"default"`.
 */
import { errorMessage } from "../errors.js";
export interface UserCodeSpec {
  module?: string;
  source?: string;
  export: string;
  config: unknown;
}

export class UserCodeSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserCodeSpecError";
  }
}

/** Parses and validates a payload; every problem is a UserCodeSpecError that says what is wrong. */
export function parseUserCodeSpec(payload: Uint8Array, what: string): UserCodeSpec {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch (err) {
    throw new UserCodeSpecError(`${what} payload is not UTF-8 JSON: ${errorMessage(err)}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new UserCodeSpecError(`${what} payload must be a JSON object with "module" or "source"`);
  }
  const o = json as Record<string, unknown>;
  const hasModule = typeof o.module === "string" && o.module !== "";
  const hasSource = typeof o.source === "string" && o.source !== "";
  if (hasModule === hasSource) {
    throw new UserCodeSpecError(
      `${what} payload must have exactly one of "module" and "source" (a non-empty string)`,
    );
  }
  if (o.export !== undefined && typeof o.export !== "string") {
    throw new UserCodeSpecError(`${what} payload "export" must be a string`);
  }
  return {
    module: hasModule ? (o.module as string) : undefined,
    source: hasSource ? (o.source as string) : undefined,
    export: (o.export as string | undefined) ?? "default",
    config: o.config,
  };
}
