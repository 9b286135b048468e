import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, pipelineApi } from "../../proto/index.js";
import {
  FILE_TYPE,
  STAGING_TO_ROLE,
  retrieveArtifacts,
  safeArtifactName,
} from "../../src/boot/artifacts.js";
import { addUserCodeRoot, loadUserExport } from "../../operations/user-code/load-user-code.js";

function artifact(name: string, sha256: string): pipelineApi.ArtifactInformation {
  return new pipelineApi.ArtifactInformation({
    type_urn: FILE_TYPE,
    type_payload: new pipelineApi.ArtifactFilePayload({
      path: `/staging/${name}`,
      sha256,
    }).serializeBinary(),
    role_urn: STAGING_TO_ROLE,
    role_payload: new pipelineApi.ArtifactStagingToRolePayload({
      staged_name: name,
    }).serializeBinary(),
  });
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function serveArtifacts(files: Map<string, Uint8Array>) {
  let served = 0;
  const server = new grpc.Server();
  server.addService(artifactApi.UnimplementedArtifactRetrievalServiceService.definition, {
    ResolveArtifacts: (
      call: grpc.ServerUnaryCall<
        artifactApi.ResolveArtifactsRequest,
        artifactApi.ResolveArtifactsResponse
      >,
      cb: grpc.sendUnaryData<artifactApi.ResolveArtifactsResponse>,
    ) =>
      cb(null, new artifactApi.ResolveArtifactsResponse({ replacements: call.request.artifacts })),
    GetArtifact: (
      call: grpc.ServerWritableStream<
        artifactApi.GetArtifactRequest,
        artifactApi.GetArtifactResponse
      >,
    ) => {
      const name = pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(
        call.request.artifact.role_payload,
      ).staged_name;
      const bytes = files.get(name) ?? new Uint8Array();
      served++;
      for (let i = 0; i < bytes.length; i += 7)
        call.write(new artifactApi.GetArtifactResponse({ data: bytes.subarray(i, i + 7) }));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { url: `127.0.0.1:${port}`, served: () => served, stop: () => server.forceShutdown() };
}

test("artifacts are retrieved in chunks, checked, installed, loadable as DoFn modules, and reused", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-artifacts-"));
  const mjs = new TextEncoder().encode("export function shout(s) { return [s + '!']; }\n");
  const pkg = path.join(work, "pkg", "package");
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(
    path.join(pkg, "package.json"),
    JSON.stringify({ name: "firefly-test-fns", version: "1.0.0", main: "index.js" }),
  );
  fs.writeFileSync(path.join(pkg, "index.js"), "exports.twice = (x) => [x, x];\n");
  assert.equal(
    spawnSync("tar", ["-czf", path.join(work, "fns.tgz"), "-C", path.join(work, "pkg"), "package"])
      .status,
    0,
  );
  const tgz = new Uint8Array(fs.readFileSync(path.join(work, "fns.tgz")));
  const files = new Map([
    ["shout.mjs", mjs],
    ["firefly-test-fns-1.0.0.tgz", tgz],
  ]);
  const server = await serveArtifacts(files);
  try {
    const dependencies = [
      artifact("shout.mjs", sha(mjs)),
      artifact("firefly-test-fns-1.0.0.tgz", sha(tgz)),
    ];
    const semiPersistDir = path.join(work, "semi");
    const first = await retrieveArtifacts({
      url: server.url,
      workerId: "w",
      dependencies,
      semiPersistDir,
    });
    assert.deepEqual(
      first.installed.map((a) => [a.name, a.reused]),
      [
        ["shout.mjs", false],
        ["firefly-test-fns-1.0.0.tgz", false],
      ],
    );
    addUserCodeRoot(first.dir);
    const shout = (await loadUserExport({
      module: "./shout.mjs",
      export: "shout",
      config: undefined,
    })) as (s: string) => string[];
    assert.deepEqual(shout("hi"), ["hi!"]);
    const twice = (await loadUserExport({
      module: "firefly-test-fns",
      export: "twice",
      config: undefined,
    })) as (x: number) => number[];
    assert.deepEqual(twice(3), [3, 3]);
    const again = await retrieveArtifacts({
      url: server.url,
      workerId: "w",
      dependencies,
      semiPersistDir,
    });
    assert.ok(
      again.installed.every((a) => a.reused),
      "a restart reuses what was retrieved",
    );
    assert.equal(server.served(), 2);
  } finally {
    server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test("a sha256 mismatch is a clear error and leaves nothing installed", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-artifacts-"));
  const server = await serveArtifacts(
    new Map([["bad.mjs", new TextEncoder().encode("export default 1;")]]),
  );
  try {
    await assert.rejects(
      retrieveArtifacts({
        url: server.url,
        workerId: "w",
        dependencies: [artifact("bad.mjs", "00".repeat(32))],
        semiPersistDir: work,
      }),
      /artifact "bad\.mjs" has sha256 [0-9a-f]{64}, but the pipeline declares 0{64}/,
    );
    assert.deepEqual(fs.readdirSync(path.join(work, "artifacts")), []);
  } finally {
    server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test("artifact names cannot escape the artifacts directory", () => {
  for (const name of ["../evil.mjs", "a/b.mjs", "..", "", "/etc/passwd", "x\\y"]) {
    assert.throws(() => safeArtifactName(name), /is not a plain file name/, name);
  }
  assert.equal(safeArtifactName("ok-1.0.0.tgz"), "ok-1.0.0.tgz");
});
