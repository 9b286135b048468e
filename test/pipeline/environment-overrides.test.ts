/** `--environment_overrides`: foreign environments to EXTERNAL pools; Firefly's untouched. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pipelineApi } from "../../proto/index.js";
import { overrideEnvironments } from "../../src/pipeline/environment-overrides.js";
import { parseEnvironmentOverrides, PipelineOptions } from "../../src/pipeline/index.js";

const docker = (image: string) =>
  new pipelineApi.Environment({
    urn: "beam:env:docker:v1",
    payload: new pipelineApi.DockerPayload({ container_image: image }).serializeBinary(),
    capabilities: ["beam:coder:bytes:v1"],
    dependencies: [new pipelineApi.ArtifactInformation({ type_urn: "beam:artifact:type:file:v1" })],
  });

const foreign = new Map([
  ["py", docker("apache/beam_python3.11_sdk:2.50.0")],
  ["java", docker("apache/beam_java11_sdk:2.50.0")],
]);

const endpointOf = (env: pipelineApi.Environment) =>
  pipelineApi.ExternalPayload.deserializeBinary(env.payload).endpoint.url;

test("by image, by id, and * rewrite foreign environments to EXTERNAL, keeping capabilities and dependencies", () => {
  const byImage = new Map(
    overrideEnvironments(
      foreign,
      new PipelineOptions({
        environment_overrides: "apache/beam_python3.11_sdk:2.50.0=127.0.0.1:50000",
      }),
    ),
  );
  assert.equal(byImage.get("py")?.urn, "beam:env:external:v1");
  assert.equal(endpointOf(byImage.get("py")!), "127.0.0.1:50000");
  assert.deepEqual(byImage.get("py")?.capabilities, ["beam:coder:bytes:v1"]);
  assert.equal(byImage.get("py")?.dependencies.length, 1);
  assert.equal(byImage.get("java")?.urn, "beam:env:docker:v1", "not matched: kept");
  const all = new Map(
    overrideEnvironments(foreign, new PipelineOptions({ environment_overrides: "java=h:1,*=h:2" })),
  );
  assert.equal(endpointOf(all.get("java")!), "h:1", "the first match wins");
  assert.equal(endpointOf(all.get("py")!), "h:2");
  assert.equal(foreign.get("py")?.urn, "beam:env:docker:v1", "the graph's copy is not changed");
});

test("a malformed override is an error naming the entry", () => {
  assert.throws(
    () => parseEnvironmentOverrides("py=nohostport"),
    /--environment_overrides: "py=nohostport" is not MATCH=HOST:PORT/,
  );
  assert.throws(() => parseEnvironmentOverrides("=h:1"), /is not MATCH=HOST:PORT/);
  assert.deepEqual(parseEnvironmentOverrides(undefined), []);
});
