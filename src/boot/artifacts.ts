/**
 * Staged artifacts: the pipeline's `dependencies` (from provisioning) are
 * resolved and fetched through `ArtifactRetrievalService` into
 * `<semi_persist_dir>/artifacts`, checked against their sha256 when one is
 * declared, and installed so `{"module": ...}` DoFns resolve from them:
 *   - `.js`/`.mjs`/`.cjs`/`.json` files stay as files (load with `./name.mjs`);
 *   - npm tarballs (`.tgz`) are unpacked into `artifacts/node_modules/<package name>`
 *     (load with the package name).
 * An artifact already present with the declared sha256 is reused (restarts).
 * Names cannot escape the artifacts directory.
 *
 * On a shared machine the directory is private (see `privateScratchDir`) and
 * nothing here follows a symlink: files are created with O_EXCL|O_NOFOLLOW,
 * reused files and directories are checked with lstat, and a tarball that
 * holds links is refused.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, pipelineApi } from "../../proto/index.js";
import { grpcTarget, workerMetadata } from "../../harness/grpc-settings.js";

export const FILE_TYPE = "beam:artifact:type:file:v1";
export const URL_TYPE = "beam:artifact:type:url:v1";
export const EMBEDDED_TYPE = "beam:artifact:type:embedded:v1";
export const STAGING_TO_ROLE = "beam:artifact:role:staging_to:v1";

export class ArtifactError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ArtifactError";
  }
}

export interface InstalledArtifact {
  name: string;
  file: string;
  reused: boolean;
}

/** A staged name that is a plain file name (no directories, no traversal). */
export function safeArtifactName(name: string): string {
  const base = path.basename(name);
  if (
    !name ||
    base !== name ||
    name === "." ||
    name === ".." ||
    name.includes("\0") ||
    /[\\/]/.test(name)
  ) {
    throw new ArtifactError(
      `artifact name ${JSON.stringify(name)} is not a plain file name (it could escape the artifacts directory)`,
    );
  }
  return name;
}

/** A scratch directory and whether it is ours to remove. */
export interface ScratchDir {
  dir: string;
  /** Removes the directory when it was created fresh (a given one is kept). */
  remove(): void;
}

const myUid = (): number | undefined => process.getuid?.();

/**
 * Checks that `dir` is a directory (not a symlink) owned by this user that
 * no other user can write to; throws an ArtifactError naming it and why.
 */
export function assertPrivateDirectory(dir: string, what = "directory"): void {
  const stat = fs.lstatSync(dir);
  const why = stat.isSymbolicLink()
    ? "it is a symbolic link"
    : !stat.isDirectory()
      ? "it is not a directory"
      : myUid() !== undefined && stat.uid !== myUid()
        ? `it is owned by uid ${stat.uid}, not by this user (uid ${myUid()})`
        : (stat.mode & 0o022) !== 0
          ? `it is writable by ${stat.mode & 0o002 ? "every user" : "its group"} (mode ${(stat.mode & 0o7777).toString(8)})`
          : undefined;
  if (why)
    throw new ArtifactError(
      `refusing ${what} ${JSON.stringify(dir)}: ${why}; other users could plant files or links there`,
    );
}

/** A directory every user may create entries in, each keeping their own (like /tmp: mode 1777). */
function isSharedStickyDirectory(dir: string): boolean {
  const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
  return !!stat?.isDirectory() && (stat.mode & 0o1002) === 0o1002;
}

/**
 * A private scratch directory (the worker's semi-persistent directory, the
 * job server's artifacts). None given: a fresh one (`<tmpdir>/<prefix>XXXXXX`,
 * mode 0700), removed by `remove()`. Given (`naming.flag` names it in
 * errors): it is created (mode 0700) when missing and must then be private
 * (`assertPrivateDirectory`); a shared sticky directory such as /tmp (the
 * default of Beam's own boot) gets a fresh private directory inside it.
 */
export function privateScratchDir(
  given: string | undefined,
  naming: { flag: string; prefix: string } = { flag: "--semi_persist_dir", prefix: "firefly-" },
): ScratchDir {
  const fresh = (parent: string): ScratchDir => {
    const dir = fs.mkdtempSync(path.join(parent, naming.prefix));
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
  };
  if (given === undefined || given === "") return fresh(os.tmpdir());
  const dir = path.resolve(given);
  if (isSharedStickyDirectory(dir)) return fresh(dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertPrivateDirectory(dir, naming.flag);
  return { dir, remove: () => undefined };
}

/** Creates `dir` (mode 0700) unless it exists; either way it must be a private real directory. */
function privateSubdirectory(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertPrivateDirectory(dir);
}

/** Opens a new file (mode 0600) for writing; fails if anything (a file, a symlink) is already there. */
export function createExclusive(file: string): number {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  return fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
}

/** Whether `file` is a regular file (a symlink is not). */
function isRegularFile(file: string): boolean {
  return fs.lstatSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

function describe(info: pipelineApi.ArtifactInformation): { name: string; sha256: string } {
  let name = "";
  if (info.role_urn === STAGING_TO_ROLE)
    name = pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(
      info.role_payload,
    ).staged_name;
  let sha256 = "";
  if (info.type_urn === FILE_TYPE) {
    const p = pipelineApi.ArtifactFilePayload.deserializeBinary(info.type_payload);
    sha256 = p.sha256;
    name ||= path.basename(p.path);
  } else if (info.type_urn === URL_TYPE) {
    const p = pipelineApi.ArtifactUrlPayload.deserializeBinary(info.type_payload);
    sha256 = p.sha256;
    name ||= path.basename(new URL(p.url).pathname);
  }
  return { name: safeArtifactName(name), sha256: sha256.toLowerCase() };
}

function sha256Of(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function fetchArtifact(
  client: artifactApi.ArtifactRetrievalServiceClient,
  workerId: string,
  info: pipelineApi.ArtifactInformation,
  file: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    fs.rmSync(file, { force: true }); // a leftover of a crashed run (a link is removed, not followed)
    const out = fs.createWriteStream(file, { fd: createExclusive(file) });
    const call = client.GetArtifact(
      new artifactApi.GetArtifactRequest({ artifact: info }),
      workerMetadata(workerId),
    );
    call.on("data", (chunk: artifactApi.GetArtifactResponse) => {
      hash.update(chunk.data);
      if (!out.write(chunk.data)) {
        call.pause();
        out.once("drain", () => call.resume());
      }
    });
    call.on("error", (err) => {
      out.destroy();
      reject(err);
    });
    call.on("end", () => out.end(() => resolve(hash.digest("hex"))));
  });
}

/** An npm package name: `name` or `@scope/name`, each part a plain name not starting with `.` or `_`. */
const PACKAGE_NAME = /^(@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;

/** Refuses a tree holding anything but files and directories (links could point anywhere). */
function assertNoLinks(dir: string, tarball: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() || entry.isDirectory()) continue;
    const name = path.relative(dir, path.join(entry.parentPath, entry.name));
    throw new ArtifactError(
      `${tarball} holds ${JSON.stringify(name)}, which is not a plain file or directory (links are not installed)`,
    );
  }
}

function installTarball(file: string, artifactsDir: string): void {
  const staging = fs.mkdtempSync(path.join(artifactsDir, ".unpack-"));
  const tarball = path.basename(file);
  try {
    const tar = spawnSync(
      "tar",
      ["-xzf", file, "-C", staging, "--no-same-owner", "--no-same-permissions"],
      { encoding: "utf8" },
    );
    if (tar.status !== 0)
      throw new ArtifactError(`cannot unpack ${tarball}: ${tar.stderr || tar.error?.message}`);
    assertNoLinks(staging, tarball);
    const root = fs.existsSync(path.join(staging, "package"))
      ? path.join(staging, "package")
      : staging;
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
      name?: unknown;
    };
    if (typeof manifest.name !== "string" || !PACKAGE_NAME.test(manifest.name)) {
      throw new ArtifactError(
        `${tarball} has no valid package name in package.json (got ${JSON.stringify(manifest.name)}; it must be a plain name or @scope/name)`,
      );
    }
    const modules = path.join(artifactsDir, "node_modules");
    privateSubdirectory(modules);
    if (manifest.name.startsWith("@")) privateSubdirectory(path.join(modules, manifest.name, ".."));
    const target = path.join(modules, manifest.name);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(root, target);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Retrieves and installs every dependency; returns the artifacts directory
 * (to add as a user-code root) and what was installed.
 */
export async function retrieveArtifacts(options: {
  url: string;
  workerId: string;
  dependencies: readonly pipelineApi.ArtifactInformation[];
  semiPersistDir: string;
}): Promise<{ dir: string; installed: InstalledArtifact[] }> {
  const dir = path.join(options.semiPersistDir, "artifacts");
  privateSubdirectory(dir);
  const installed: InstalledArtifact[] = [];
  if (options.dependencies.length === 0) return { dir, installed };
  const client = new artifactApi.ArtifactRetrievalServiceClient(
    grpcTarget(options.url),
    grpc.credentials.createInsecure(),
  );
  try {
    for (const info of options.dependencies) {
      const { name, sha256 } = describe(info);
      const file = path.join(dir, name);
      if (sha256 && isRegularFile(file) && sha256Of(file) === sha256) {
        installed.push({ name, file, reused: true });
        continue;
      }
      const partial = `${file}.partial`;
      let actual: string;
      try {
        actual = await fetchArtifact(client, options.workerId, info, partial);
      } catch (err) {
        fs.rmSync(partial, { force: true });
        throw new ArtifactError(
          `cannot retrieve artifact ${JSON.stringify(name)} from ${options.url}: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
          },
        );
      }
      if (sha256 && actual !== sha256) {
        fs.rmSync(partial, { force: true });
        throw new ArtifactError(
          `artifact ${JSON.stringify(name)} has sha256 ${actual}, but the pipeline declares ${sha256}`,
        );
      }
      fs.renameSync(partial, file);
      if (name.endsWith(".tgz") || name.endsWith(".tar.gz")) installTarball(file, dir);
      installed.push({ name, file, reused: false });
    }
  } finally {
    client.close();
  }
  return { dir, installed };
}
