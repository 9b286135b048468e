/**
 * Well-known protobuf types used by the Beam protos, re-exported from
 * `proto/index.ts` as the `wkt` namespace.
 */
import * as structFile from "./gen/google/protobuf/struct.js";
import * as timestampFile from "./gen/google/protobuf/timestamp.js";
import * as durationFile from "./gen/google/protobuf/duration.js";

export import Struct = structFile.google.protobuf.Struct;
export import Value = structFile.google.protobuf.Value;
export import ListValue = structFile.google.protobuf.ListValue;
export import NullValue = structFile.google.protobuf.NullValue;
export import Timestamp = timestampFile.google.protobuf.Timestamp;
export import Duration = durationFile.google.protobuf.Duration;
