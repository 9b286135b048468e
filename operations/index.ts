/**
 * Importing this module registers every built-in operation URN.
 */
import "./data-source.js";
import "./data-sink.js";
import "./pardo/pardo-operation.js";
import "./batch/plugin.js";
import "./flatten.js";
import "./passthrough.js";
import "./to-string.js";
import "./windowing/window-into.js";
import "./windowing/map-windows.js";
import "./windowing/merge-windows.js";
import "./windowing/window-mapping-fns.js";
import "./combine/precombine.js";
import "./combine/merge-accumulators.js";
import "./combine/extract-outputs.js";
import "./combine/convert-to-accumulators.js";
import "./combine/combine-grouped-values.js";
import "./sdf/restriction-steps.js";
import "./sdf/process-sized.js";

export { registerOperation, operationFactory, registeredOperationUrns } from "./registry.js";
export type { OperationContext, OperationFactory } from "./registry.js";
export type { Operation, Receiver, MaybePromise } from "./operation.js";
export type { BundleServices, ElementSink, StateAccess } from "./bundle-services.js";
