/**
 * Pipeline options as runners hand them to a worker: a Struct that is either
 * `{"options": {name: value}}` (Beam's Java/Python form) or
 * `{"beam:option:<name>:v1": value}` (the URN form). Both become one flat
 * object keyed by option name. Values of secret-looking keys are redacted by
 * `redactedOptions` for logs and status pages.
 */
import type { JsonValue } from "./struct-json.js";

export type PipelineOptions = Record<string, JsonValue>;

const URN_KEY = /^beam:option:(.+):v\d+$/;

export function normalizePipelineOptions(raw: { [key: string]: JsonValue }): PipelineOptions {
  const out: PipelineOptions = {};
  const nested = raw.options;
  if (nested && typeof nested === "object" && !Array.isArray(nested)) Object.assign(out, nested);
  for (const [key, value] of Object.entries(raw)) {
    const match = URN_KEY.exec(key);
    if (match) out[match[1]] = value;
    else if (key !== "options" && !(key in out)) out[key] = value;
  }
  return out;
}

const SECRET = /password|token|secret|credential/i;

export function redactedOptions(options: PipelineOptions): PipelineOptions {
  const out: PipelineOptions = {};
  for (const [key, value] of Object.entries(options))
    out[key] = SECRET.test(key) ? "<redacted>" : value;
  return out;
}
