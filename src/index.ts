/**
 * `firefly-beam`: the embedding API. Start a Fn API worker inside your own
 * process (`FnHarness`), extend it with transform URNs (`registerOperation`)
 * and coders (`registerCoder`), or run a pipeline proto on the local runner
 * (`runPipeline`). The pipeline builder is `firefly-beam/pipeline`; the
 * coders are `firefly-beam/coders`.
 */
export { FnHarness, type HarnessState } from "../harness/fn-harness.js";
export type { HarnessOptions } from "../harness/config.js";
export { createHarnessLogger } from "../harness/logging/logger.js";
export {
  registerOperation,
  registeredOperationUrns,
  type MaybePromise,
  type Operation,
  type OperationContext,
  type OperationFactory,
  type Receiver,
} from "../operations/index.js";
export { registerCoder, registeredCoderUrns, type Coder } from "../coders/index.js";
export { runPipeline, type LocalRunnerOptions, type PipelineResult } from "./runner/index.js";
