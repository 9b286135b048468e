/**
 * Conveniences over {@link external}: a Python transform by its fully
 * qualified name (`beam:transforms:python:fully_qualified_named`, expanded by
 * Beam Python's `expansion_service_main --fully_qualified_name_glob ...`), and
 * any transform configured by a row (Java's registered external transforms).
 */
import { externalConfigurationPayload } from "./config-row.js";
import { external, type ExternalOptions, type ExternalTransform } from "./external.js";
import type { PCollection } from "./pcollection.js";

export const PYTHON_FULLY_QUALIFIED_NAMED_URN = "beam:transforms:python:fully_qualified_named";

export interface PythonTransformOptions extends ExternalOptions {
  /** Positional arguments of the constructor (`pythonCallable(source)` for a function). */
  args?: readonly unknown[];
  /** Keyword arguments of the constructor. */
  kwargs?: Record<string, unknown>;
}

/**
 * A Python transform: `pythonTransform("apache_beam.transforms.combiners.Count.PerElement",
 * {expansionService: "localhost:8097"})`, or `pythonTransform("apache_beam.Map", {args:
 * [pythonCallable("lambda x: x * 2")], outputCoder: "varint", expansionService})`.
 */
export function pythonTransform<O = any>(
  constructor: string,
  options: PythonTransformOptions,
): ExternalTransform<PCollection<O>> {
  if (typeof constructor !== "string" || constructor === "")
    throw new TypeError(
      "pythonTransform(constructor): a fully qualified name such as apache_beam.Map",
    );
  const { args = [], kwargs = {}, ...rest } = options;
  if (!Array.isArray(args))
    throw new TypeError(`pythonTransform ${constructor}: args must be an array`);
  const payload = externalConfigurationPayload(
    {
      constructor,
      args: Object.fromEntries(args.map((v, i) => [`arg${i}`, v])),
      kwargs,
    },
    constructor,
  );
  return external<O>(PYTHON_FULLY_QUALIFIED_NAMED_URN, payload, {
    ...rest,
    name: rest.name ?? defaultName(constructor),
  });
}

/** The name from the first capitalized segment on: `Count.PerElement`, `Map`; else the last segment. */
function defaultName(constructor: string): string {
  const segments = constructor.split(".");
  const first = segments.findIndex((s) => /^[A-Z]/.test(s));
  return segments.slice(first >= 0 ? first : segments.length - 1).join(".");
}

/**
 * A transform configured by a row (an `ExternalConfigurationPayload` of
 * `config`, field types inferred, see config-row.ts), as Java's registered
 * external transforms take it: `schemaTransform("beam:transform:org.apache.beam:kafka_read_without_metadata:v1",
 * {topics: ["t"], consumer_config: {...}}, {expansionService})`.
 */
export function schemaTransform<O = any>(
  urn: string,
  config: Record<string, unknown>,
  options: ExternalOptions,
): ExternalTransform<PCollection<O>> {
  return external<O>(urn, externalConfigurationPayload(config, urn), options);
}
