/**
 * The one import point for Beam's model protos (Beam 2.50 field numbers).
 *
 * Each alias is the namespace of one generated file (`proto/gen/*.ts`, made by
 * `npm run proto:gen` from `proto/*.proto`):
 *
 * | alias          | proto file                 | package                                   |
 * | -------------- | -------------------------- | ----------------------------------------- |
 * | `fnApi`        | beam_fn_api.proto          | org.apache.beam.model.fn_execution.v1     |
 * | `provisionApi` | beam_provision_api.proto   | org.apache.beam.model.fn_execution.v1     |
 * | `pipelineApi`  | beam_runner_api.proto      | org.apache.beam.model.pipeline.v1         |
 * | `endpointsApi` | endpoints.proto            | org.apache.beam.model.pipeline.v1         |
 * | `metricsApi`   | metrics.proto              | org.apache.beam.model.pipeline.v1         |
 * | `schemaApi`    | schema.proto               | org.apache.beam.model.pipeline.v1         |
 * | `windowFnsApi` | standard_window_fns.proto  | org.apache.beam.model.pipeline.v1         |
 * | `jobApi`       | beam_job_api.proto         | org.apache.beam.model.job_management.v1   |
 * | `artifactApi`  | beam_artifact_api.proto    | org.apache.beam.model.job_management.v1   |
 * | `expansionApi` | beam_expansion_api.proto   | org.apache.beam.model.expansion.v1        |
 * | `externalApi`  | external_transforms.proto  | org.apache.beam.model.pipeline.v1         |
 * | `wkt`          | google/protobuf/{struct,timestamp,duration}.proto | google.protobuf    |
 *
 * Usage: `import { fnApi } from "../proto/index.js";` then
 * `new fnApi.InstructionRequest({ instruction_id: "1", process_bundle: ... })`,
 * `fnApi.InstructionRequest.deserializeBinary(bytes)`, `msg.serializeBinary()`,
 * and `fnApi.InstructionRequest` as a type. Fields keep their proto
 * (snake_case) names; int64 fields are `number` except those declared
 * `[jstype = JS_STRING]` (decimal strings, e.g. `WindowingStrategy.allowed_lateness`).
 * gRPC: `new fnApi.BeamFnControlClient(address, credentials)` and
 * `fnApi.UnimplementedBeamFnControlService.definition` for `server.addService`.
 */
import "./harden-decoder.js";
import * as fnApiFile from "./gen/beam_fn_api.js";
import * as provisionApiFile from "./gen/beam_provision_api.js";
import * as pipelineApiFile from "./gen/beam_runner_api.js";
import * as endpointsFile from "./gen/endpoints.js";
import * as metricsFile from "./gen/metrics.js";
import * as schemaFile from "./gen/schema.js";
import * as windowFnsFile from "./gen/standard_window_fns.js";
import * as jobApiFile from "./gen/beam_job_api.js";
import * as artifactApiFile from "./gen/beam_artifact_api.js";
import * as expansionApiFile from "./gen/beam_expansion_api.js";
import * as externalApiFile from "./gen/external_transforms.js";

/** Fn API: control, data, state, logging, worker status, external worker pool. */
export import fnApi = fnApiFile.org.apache.beam.model.fn_execution.v1;
/** Provision API: `ProvisionService`, `ProvisionInfo`. */
export import provisionApi = provisionApiFile.org.apache.beam.model.fn_execution.v1;
/** Runner API (the pipeline model): `Pipeline`, `PTransform`, `Coder`, payloads, URN enums. */
export import pipelineApi = pipelineApiFile.org.apache.beam.model.pipeline.v1;
/** `ApiServiceDescriptor`, `AuthenticationSpec`. */
export import endpointsApi = endpointsFile.org.apache.beam.model.pipeline.v1;
/** `MonitoringInfo` and the URN enums of metrics. */
export import metricsApi = metricsFile.org.apache.beam.model.pipeline.v1;
/** Beam schemas (payload of `beam:coder:row:v1`). */
export import schemaApi = schemaFile.org.apache.beam.model.pipeline.v1;
/** Payloads of the standard window fns (fixed, sliding, sessions, global). */
export import windowFnsApi = windowFnsFile.org.apache.beam.model.pipeline.v1;
/** Job API: `JobService` and its messages. */
export import jobApi = jobApiFile.org.apache.beam.model.job_management.v1;
/** Artifact retrieval and staging services. */
export import artifactApi = artifactApiFile.org.apache.beam.model.job_management.v1;
/** Expansion API: `ExpansionService` (cross-language transforms), its requests and responses. */
export import expansionApi = expansionApiFile.org.apache.beam.model.expansion.v1;
/** Payloads of external transforms: `ExternalConfigurationPayload`, `SchemaTransformPayload`. */
export import externalApi = externalApiFile.org.apache.beam.model.pipeline.v1;

/** Well-known types used by the Beam protos: `Struct`, `Value`, `ListValue`, `Timestamp`, `Duration`. */
export * as wkt from "./wkt.js";
