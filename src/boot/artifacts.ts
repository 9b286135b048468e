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
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
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
    const out = fs.createWriteStream(file);
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

function installTarball(file: string, artifactsDir: string): void {
  const staging = fs.mkdtempSync(path.join(artifactsDir, ".unpack-"));
  try {
    const tar = spawnSync("tar", ["-xzf", file, "-C", staging], { encoding: "utf8" });
    if (tar.status !== 0)
      throw new ArtifactError(
        `cannot unpack ${path.basename(file)}: ${tar.stderr || tar.error?.message}`,
      );
    const root = fs.existsSync(path.join(staging, "package"))
      ? path.join(staging, "package")
      : staging;
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
      name?: unknown;
    };
    if (
      typeof manifest.name !== "string" ||
      !/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/i.test(manifest.name)
    ) {
      throw new ArtifactError(`${path.basename(file)} has no valid package name in package.json`);
    }
    const target = path.join(artifactsDir, "node_modules", manifest.name);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(target), { recursive: true });
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
  fs.mkdirSync(dir, { recursive: true });
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
      if (sha256 && fs.existsSync(file) && sha256Of(file) === sha256) {
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
