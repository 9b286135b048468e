import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, pipelineApi } from "../../proto/index.js";
import { fileArtifact } from "../../src/jobs/artifact-store.js";
import {
  privateScratchDir,
  retrieveArtifacts,
  safeArtifactName,
} from "../../src/boot/artifacts.js";
import { addUserCodeRoot, loadUserExport } from "../../operations/user-code/load-user-code.js";

const artifact = (name: string, sha256: string): pipelineApi.ArtifactInformation =>
  fileArtifact(`/staging/${name}`, sha256, name);

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

/** An `npm pack`-style tarball (`package/...`) of `files` (name → text), with `links` (name → target). */
function tarball(
  work: string,
  name: string,
  files: Record<string, string>,
  links: Record<string, string> = {},
): Uint8Array {
  const pkg = path.join(work, `pack-${name}`, "package");
  fs.mkdirSync(pkg, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(pkg, file), text);
  for (const [link, target] of Object.entries(links)) fs.symlinkSync(target, path.join(pkg, link));
  const out = path.join(work, name);
  const tar = spawnSync("tar", ["-czf", out, "-C", path.dirname(pkg), "package"]);
  assert.equal(tar.status, 0, String(tar.stderr));
  return new Uint8Array(fs.readFileSync(out));
}

test("artifact writes never follow symlinks planted in the artifacts directory", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-artifacts-"));
  const victim = path.join(work, "victim.txt");
  const victim2 = path.join(work, "victim2.mjs");
  fs.writeFileSync(victim, "precious\n");
  const mod = new TextEncoder().encode("export default (s) => [s];\n");
  // Same bytes as the artifact, so a reuse check that follows the link would accept it.
  fs.writeFileSync(victim2, mod);
  const semi = path.join(work, "semi");
  fs.mkdirSync(path.join(semi, "artifacts"), { recursive: true, mode: 0o700 });
  fs.symlinkSync(victim, path.join(semi, "artifacts", "mod.mjs.partial"));
  fs.symlinkSync(victim2, path.join(semi, "artifacts", "other.mjs"));
  const server = await serveArtifacts(
    new Map([
      ["mod.mjs", mod],
      ["other.mjs", mod],
    ]),
  );
  try {
    const { installed } = await retrieveArtifacts({
      url: server.url,
      workerId: "1-1",
      dependencies: [artifact("mod.mjs", sha(mod)), artifact("other.mjs", sha(mod))],
      semiPersistDir: semi,
    });
    assert.equal(fs.readFileSync(victim, "utf8"), "precious\n", "the link target was not written");
    assert.deepEqual(
      installed.map((a) => [a.name, a.reused]),
      [
        ["mod.mjs", false],
        ["other.mjs", false],
      ],
      "a symlink is never reused as an artifact",
    );
    for (const name of ["mod.mjs", "other.mjs"]) {
      const stat = fs.lstatSync(path.join(semi, "artifacts", name));
      assert.ok(stat.isFile(), `${name} is a regular file`);
      assert.equal(stat.mode & 0o077, 0, `${name} is private`);
    }
    assert.ok(fs.lstatSync(victim2).isFile(), "the other link's target is untouched");
  } finally {
    server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test("a tarball whose package is named '..' or that holds links is refused; nothing is deleted", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-artifacts-"));
  const keep = new TextEncoder().encode("export const keep = 1;\n");
  const files = new Map([
    ["keep.mjs", keep],
    ["dots-1.0.0.tgz", tarball(work, "dots.tgz", { "package.json": '{"name": ".."}' })],
    ["scope-1.0.0.tgz", tarball(work, "scope.tgz", { "package.json": '{"name": "@../.."}' })],
    [
      "links-1.0.0.tgz",
      tarball(
        work,
        "links.tgz",
        { "package.json": '{"name": "links"}' },
        { "index.js": "/etc/passwd" },
      ),
    ],
  ]);
  const server = await serveArtifacts(files);
  const semi = path.join(work, "semi");
  try {
    await retrieveArtifacts({
      url: server.url,
      workerId: "w",
      dependencies: [artifact("keep.mjs", sha(keep))],
      semiPersistDir: semi,
    });
    for (const [name, error] of [
      ["dots-1.0.0.tgz", /has no valid package name in package\.json \(got "\.\."/],
      ["scope-1.0.0.tgz", /has no valid package name in package\.json \(got "@\.\.\/\.\."/],
      ["links-1.0.0.tgz", /holds "package\/index\.js", which is not a plain file or directory/],
    ] as const) {
      await assert.rejects(
        retrieveArtifacts({
          url: server.url,
          workerId: "w",
          dependencies: [artifact(name, sha(files.get(name)!))],
          semiPersistDir: semi,
        }),
        error,
        name,
      );
      assert.ok(
        fs.existsSync(path.join(semi, "artifacts", "keep.mjs")),
        `the artifacts directory survives ${name}`,
      );
    }
    assert.ok(!fs.existsSync(path.join(semi, "artifacts", "node_modules", "links")));
  } finally {
    server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test("the semi-persistent directory: fresh and private by default; a given one must be this user's and not writable by others", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-scratch-"));
  try {
    const a = privateScratchDir(undefined);
    const b = privateScratchDir(undefined);
    try {
      assert.notEqual(a.dir, b.dir);
      assert.equal(path.dirname(a.dir), os.tmpdir());
      assert.match(path.basename(a.dir), /^firefly-[A-Za-z0-9]{6}$/);
      assert.equal(fs.statSync(a.dir).mode & 0o777, 0o700);
    } finally {
      a.remove();
      b.remove();
    }
    assert.ok(!fs.existsSync(a.dir), "a fresh directory is removed by remove()");

    const missing = path.join(work, "new", "semi");
    const given = privateScratchDir(missing);
    assert.equal(given.dir, missing);
    assert.equal(fs.statSync(missing).mode & 0o777, 0o700);
    given.remove();
    assert.ok(fs.existsSync(missing), "a given directory is kept");

    const refused = (dir: string, why: RegExp) =>
      assert.throws(
        () => privateScratchDir(dir),
        (err: Error) => {
          assert.ok(
            err.message.includes(`refusing --semi_persist_dir ${JSON.stringify(dir)}: `),
            err.message,
          );
          assert.match(err.message, why);
          return true;
        },
        dir,
      );
    const open = path.join(work, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    refused(open, /writable by every user \(mode 777\)/);
    const group = path.join(work, "group");
    fs.mkdirSync(group);
    fs.chmodSync(group, 0o770);
    refused(group, /writable by its group \(mode 770\)/);
    const link = path.join(work, "link");
    fs.symlinkSync(missing, link);
    refused(link, /it is a symbolic link/);
    if (process.getuid?.() === 0) {
      const theirs = path.join(work, "theirs");
      fs.mkdirSync(theirs, { mode: 0o700 });
      fs.chownSync(theirs, 65534, 65534);
      refused(theirs, /owned by uid 65534, not by this user \(uid 0\)/);
    }

    // A shared sticky directory such as /tmp (Beam's boot default) gets a private directory inside.
    const shared = path.join(work, "shared");
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    const inside = privateScratchDir(shared);
    assert.equal(path.dirname(inside.dir), shared);
    assert.equal(fs.statSync(inside.dir).mode & 0o777, 0o700);
    inside.remove();
    assert.ok(!fs.existsSync(inside.dir));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
