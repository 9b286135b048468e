/**
 * Pipeline options as runners hand them to a worker: a Struct that is either
 * `{"options": {name: value}}` (Beam's Java/Python form) or
 * `{"beam:option:<name>:v1": value}` (the URN form). Both become one flat
 * object keyed by option name.
 *
 * Redaction, wherever options or text about them leave the process (worker
 * logs, the job server's GetJobs and job messages): `redactedOptions` for
 * option values (by name: password, passwd, secret, token, credential,
 * api_key/apikey, private_key, access_key, auth...; and credentials in URLs
 * `scheme://user:pass@host`), `redactedText` for free text (the same rules
 * plus the secret values of the options it is given).
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

/** Option names (or URN keys such as `beam:option:db_password:v1`) whose values are secrets. */
const SECRET_NAME =
  /passw(or)?d|passphrase|pwd|secret|token|credential|api[-_]?key|private[-_]?key|access[-_]?key|auth/i;

export const REDACTED = "<redacted>";

export function isSecretOptionName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `scheme://user:password@host` (the password part). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi;
/** `name=value`, `name: value`, `"name":"value"` with a secret-looking name (flags, query strings, JSON). */
const NAMED_VALUE = /(["']?)([\w.:-]+)\1(\s*[=:]\s*)(["']?)([^\s"'&,;]+)\4/g;

function redactPatterns(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(
      NAMED_VALUE,
      (match, q: string, name: string, sep: string, vq: string, value: string) =>
        isSecretOptionName(name) && value !== REDACTED
          ? `${q}${name}${q}${sep}${vq}${REDACTED}${vq}`
          : match,
    );
}

function redactValue(value: JsonValue): JsonValue {
  if (typeof value === "string") return redactPatterns(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, inner] of Object.entries(value))
      out[key] = isSecretOptionName(key) ? REDACTED : redactValue(inner);
    return out;
  }
  return value;
}

/** Options (either form, nested values too) with every secret replaced by `<redacted>`. */
export function redactedOptions<T extends { [key: string]: JsonValue }>(options: T): T {
  return redactValue(options) as T;
}

/** The values of secret-named options (at any depth), to scrub from free text. */
export function secretOptionValues(options: { [key: string]: JsonValue }): string[] {
  const out: string[] = [];
  const visit = (value: JsonValue, secret: boolean) => {
    if (Array.isArray(value)) for (const v of value) visit(v, secret);
    else if (value && typeof value === "object")
      for (const [key, inner] of Object.entries(value))
        visit(inner, secret || isSecretOptionName(key));
    else if (secret && value !== null && String(value).length >= 4) out.push(String(value));
  };
  visit(options, false);
  return out.sort((a, b) => b.length - a.length);
}

/** Free text with URL credentials, `secret_name=value` pairs and the given secret values redacted. */
export function redactedText(text: string, secretValues: readonly string[] = []): string {
  let out = text;
  for (const secret of secretValues) out = out.split(secret).join(REDACTED);
  return redactPatterns(out);
}
