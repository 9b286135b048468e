/**
 * `firefly-beam/pipeline`: build Beam pipelines in TypeScript/JavaScript and
 * run them.
 *
 * ```js
 * import { Pipeline } from "firefly-beam/pipeline";
 * const p = new Pipeline();                       // options from the command line
 * p.readText("input/*.txt")
 *   .flatMap((line) => line.split(/\W+/).filter((w) => w))
 *   .map((word) => ({ key: word, value: 1 }), { coder: kv("string", "varint") })
 *   .combinePerKey("sum")
 *   .map((kv) => `${kv.key}: ${kv.value}`, { coder: "string" })
 *   .writeText("out/counts");
 * await p.run();                                  // --runner=local by default
 * ```
 */
export { Pipeline, type NameOption } from "./pipeline.js";
export {
  PCollection,
  SideInputView,
  type Context,
  type DoFnArg,
  type KV,
  type MapOptions,
  type OutputsDecl,
  type ParDoOptions,
} from "./pcollection.js";
export {
  DEFAULT_CODER,
  inferCoder,
  iterable,
  kv,
  nullable,
  row,
  type CoderName,
  type RowFieldTypeName,
  type CoderProtoSpec,
  type CoderType,
} from "./coder-types.js";
export {
  top,
  type BuiltinCombineFn,
  type BuiltinCombineName,
  type CombineFnArg,
  type CombineFnObject,
  type CombineOptions,
} from "./combine-fns.js";
export {
  fixedWindows,
  globalWindows,
  sessions,
  slidingWindows,
  type WindowFnSpec,
} from "./windowing.js";
export type { StateDeclaration, TimerDeclaration } from "./pardo-payload.js";
export {
  PipelineOptions,
  PipelineOptionsError,
  type KnownPipelineOptions,
  type OptionValue,
} from "./options.js";
export {
  onPipelineRun,
  registerRunner,
  registeredRunners,
  UnknownRunnerError,
  type PipelineResult,
  type RunListener,
  type Runner,
} from "./runners.js";
export { UnshippableFunctionError, type ModuleRef } from "./ship-function.js";
export {
  ExpansionError,
  external,
  externalTagged,
  ExternalTransform,
  type ExternalOptions,
} from "./external.js";
export {
  pythonTransform,
  schemaTransform,
  PYTHON_FULLY_QUALIFIED_NAMED_URN,
  type PythonTransformOptions,
} from "./python-transform.js";
export {
  configRow,
  externalConfigurationPayload,
  pythonCallable,
  PythonCallable,
  typed,
  TypedValue,
} from "./config-row.js";
export { parseEnvironmentOverrides } from "./environment-overrides.js";
