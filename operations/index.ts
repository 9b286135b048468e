/**
 * Importing this module registers every built-in operation URN.
 */
import "./data-source.js";
import "./data-sink.js";
import "./pardo/pardo-operation.js";

export { registerOperation, operationFactory, registeredOperationUrns } from "./registry.js";
export type { OperationContext, OperationFactory } from "./registry.js";
export type { Operation, Receiver, MaybePromise } from "./operation.js";
export type { BundleServices, ElementSink, StateAccess } from "./bundle-services.js";
