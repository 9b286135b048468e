/**
 * The expansion API and external transform payloads are wire-compatible with
 * Apache Beam's own TypeScript protos (apache-beam 2.49): every field Firefly
 * writes is read back under the same name by Beam's code, and Beam's bytes
 * parse back to the same message.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { expansionApi, externalApi, pipelineApi, schemaApi } from "../../proto/index.js";

const require = createRequire(import.meta.url);

interface BeamMessageType {
  fromBinary(bytes: Uint8Array): object;
  toBinary(message: object): Uint8Array;
  toJson(message: object): unknown;
}
const beamExpansion = require("apache-beam/proto/beam_expansion_api") as Record<
  string,
  BeamMessageType
>;
const beamExternal = require("apache-beam/proto/external_transforms") as Record<
  string,
  BeamMessageType
>;

function throughBeam<T extends { serializeBinary(): Uint8Array }>(
  ours: T,
  beamType: BeamMessageType,
  ourType: { deserializeBinary(bytes: Uint8Array): T },
): Record<string, unknown> {
  const bytes = ours.serializeBinary();
  const theirs = beamType.fromBinary(bytes);
  assert.deepEqual(ourType.deserializeBinary(beamType.toBinary(theirs)).serializeBinary(), bytes);
  return beamType.toJson(theirs) as Record<string, unknown>;
}

const schema = new schemaApi.Schema({
  id: "s",
  fields: [
    new schemaApi.Field({
      name: "constructor",
      type: new schemaApi.FieldType({ atomic_type: schemaApi.AtomicType.STRING }),
    }),
  ],
});

test("ExpansionRequest and ExpansionResponse: field numbers match Beam's", () => {
  const request = new expansionApi.ExpansionRequest({
    components: new pipelineApi.Components({
      coders: new Map([
        ["c", new pipelineApi.Coder({ spec: new pipelineApi.FunctionSpec({ urn: "u" }) })],
      ]),
    }),
    transform: new pipelineApi.PTransform({ unique_name: "T", inputs: new Map([["in", "pc"]]) }),
    namespace: "ns",
    output_coder_requests: new Map([["out", "c"]]),
  });
  const json = throughBeam(request, beamExpansion.ExpansionRequest!, expansionApi.ExpansionRequest);
  assert.equal(json.namespace, "ns");
  assert.deepEqual(json.outputCoderRequests, { out: "c" });
  assert.equal((json.transform as { uniqueName: string }).uniqueName, "T");
  const response = new expansionApi.ExpansionResponse({
    transform: new pipelineApi.PTransform({ unique_name: "T", subtransforms: ["a"] }),
    requirements: ["r"],
    error: "boom",
  });
  const r = throughBeam(response, beamExpansion.ExpansionResponse!, expansionApi.ExpansionResponse);
  assert.deepEqual([r.requirements, r.error], [["r"], "boom"]);
});

test("ExternalConfigurationPayload: field numbers match Beam's (2.49 has no SchemaTransformPayload)", () => {
  const payload = new externalApi.ExternalConfigurationPayload({
    schema,
    payload: new Uint8Array([1, 2]),
  });
  const json = throughBeam(
    payload,
    beamExternal.ExternalConfigurationPayload!,
    externalApi.ExternalConfigurationPayload,
  );
  assert.equal((json.schema as { id: string }).id, "s");
  assert.equal(json.payload, "AQI=");
});
