/**
 * The job server's artifacts, both directions:
 *   - staging (`ArtifactStagingService.ReverseArtifactRetrievalService`): the
 *     submitting client opens the stream and sends the staging token; the
 *     server asks it to resolve each environment's dependencies, then fetches
 *     each one (chunks until `is_last`) into the job's directory, checks the
 *     declared sha256, and keeps them as `beam:artifact:type:file:v1`
 *     artifacts pointing at the stored files (role `staging_to`, same name);
 *   - retrieval (`ArtifactRetrievalService`) for the job's workers: the
 *     stored file artifacts are streamed back, and nothing else.
 * Protocol as in Beam's beam_artifact_api.proto (and Python's artifact_service.py).
 *
 * Scoping: a staging token is a random UUID handed out only in Prepare's
 * answer (not the job id GetJobs lists), good for one staging. A job's files
 * live in `<root>/<job id>-<128 random bits>/`, a path only its workers are
 * told (provisioned dependencies); GetArtifact serves exactly the files
 * stored for a job, so knowing a job's id and staged names is not enough. The
 * root is private (`privateScratchDir`); a job's directory is removed when the
 * job ends, and `dispose()` removes whatever the store created.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, pipelineApi } from "../../proto/index.js";
import {
  createExclusive,
  EMBEDDED_TYPE,
  FILE_TYPE,
  privateScratchDir,
  safeArtifactName,
  type ScratchDir,
  STAGING_TO_ROLE,
  URL_TYPE,
} from "../boot/artifacts.js";

const CHUNK_BYTES = 1 << 20;

type StagingCall = grpc.ServerDuplexStream<
  artifactApi.ArtifactResponseWrapper,
  artifactApi.ArtifactRequestWrapper
>;

/** A job's staging: what to fetch (per environment) and, once done, what was stored. */
export interface StagingSession {
  /** The secret the client stages with (answered by Prepare only). */
  token: string;
  jobId: string;
  /** Where the job's artifacts are stored. */
  dir: string;
  dependencies: Map<string, pipelineApi.ArtifactInformation[]>;
  /** Settles when the client staged everything (immediately when there is nothing to stage). */
  done: Promise<Map<string, pipelineApi.ArtifactInformation[]>>;
}

interface PendingSession extends StagingSession {
  resolve(stored: Map<string, pipelineApi.ArtifactInformation[]>): void;
  reject(err: Error): void;
  started: boolean;
}

/** The name a dependency is staged under. */
function stagedName(info: pipelineApi.ArtifactInformation): string {
  if (info.role_urn === STAGING_TO_ROLE)
    return pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(info.role_payload)
      .staged_name;
  if (info.type_urn === FILE_TYPE)
    return path.basename(pipelineApi.ArtifactFilePayload.deserializeBinary(info.type_payload).path);
  if (info.type_urn === URL_TYPE)
    return path.basename(
      new URL(pipelineApi.ArtifactUrlPayload.deserializeBinary(info.type_payload).url).pathname,
    );
  return "";
}

function declaredSha256(info: pipelineApi.ArtifactInformation): string {
  if (info.type_urn === FILE_TYPE)
    return pipelineApi.ArtifactFilePayload.deserializeBinary(info.type_payload).sha256;
  if (info.type_urn === URL_TYPE)
    return pipelineApi.ArtifactUrlPayload.deserializeBinary(info.type_payload).sha256;
  return "";
}

/** A file artifact (what workers retrieve), staged under `name`. */
export function fileArtifact(
  file: string,
  sha256: string,
  name: string,
): pipelineApi.ArtifactInformation {
  return new pipelineApi.ArtifactInformation({
    type_urn: FILE_TYPE,
    type_payload: new pipelineApi.ArtifactFilePayload({ path: file, sha256 }).serializeBinary(),
    role_urn: STAGING_TO_ROLE,
    role_payload: new pipelineApi.ArtifactStagingToRolePayload({
      staged_name: name,
    }).serializeBinary(),
  });
}

/** Reads the client's next message or fails naming what was expected. */
async function next(
  messages: AsyncIterator<artifactApi.ArtifactResponseWrapper>,
  expected: string,
): Promise<artifactApi.ArtifactResponseWrapper> {
  const item = await messages.next();
  if (item.done) throw new Error(`the staging client ended the stream before sending ${expected}`);
  return item.value;
}

export class ArtifactStore {
  /** Open staging sessions by token. */
  private readonly sessions = new Map<string, PendingSession>();
  /** Every stored artifact file (absolute path) and its job: all that GetArtifact serves. */
  private readonly files = new Map<string, string>();
  /** Each job's directory, by job id. */
  private readonly jobDirs = new Map<string, string>();
  private readonly scratch: ScratchDir;
  readonly root: string;

  /** `root`: a directory to keep the jobs' artifacts in; none: a fresh private temporary one. */
  constructor(root?: string) {
    this.scratch = privateScratchDir(root, {
      flag: "--artifacts_dir",
      prefix: "firefly-jobserver-",
    });
    this.root = this.scratch.dir;
  }

  /** Opens the staging session of a job: a new secret token, and a new directory for its files. */
  open(
    jobId: string,
    dependencies: Map<string, pipelineApi.ArtifactInformation[]>,
  ): StagingSession {
    const token = randomUUID();
    const dir = path.join(
      this.root,
      `${safeArtifactName(jobId)}-${randomBytes(16).toString("hex")}`,
    );
    fs.mkdirSync(dir, { mode: 0o700 });
    this.jobDirs.set(jobId, dir);
    let resolve!: PendingSession["resolve"];
    let reject!: PendingSession["reject"];
    const done = new Promise<Map<string, pipelineApi.ArtifactInformation[]>>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => undefined);
    const session: PendingSession = {
      token,
      jobId,
      dir,
      dependencies,
      done,
      resolve,
      reject,
      started: false,
    };
    const empty = [...dependencies.values()].every((deps) => deps.length === 0);
    if (empty) resolve(new Map([...dependencies.keys()].map((env) => [env, []])));
    this.sessions.set(token, session);
    return session;
  }

  /** Forgets a session (staged, or the job was cancelled before it ran). */
  close(token: string): void {
    const session = this.sessions.get(token);
    this.sessions.delete(token);
    session?.reject(new Error(`staging session of job ${session.jobId} closed`));
  }

  /** Removes a job's artifacts (its workers are gone). */
  release(jobId: string): void {
    const dir = this.jobDirs.get(jobId);
    if (dir === undefined) return;
    this.jobDirs.delete(jobId);
    for (const [file, owner] of this.files) if (owner === jobId) this.files.delete(file);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Removes what the store created: every job's directory, and the root when it made a fresh one. */
  dispose(): void {
    for (const token of [...this.sessions.keys()]) this.close(token);
    for (const jobId of [...this.jobDirs.keys()]) this.release(jobId);
    this.scratch.remove();
  }

  /** The grpc-js implementation of ArtifactStagingService. */
  stagingService(): grpc.UntypedServiceImplementation {
    return {
      ReverseArtifactRetrievalService: (call: StagingCall) => {
        this.stage(call).catch((err: unknown) => {
          call.destroy(err instanceof Error ? err : new Error(String(err)));
        });
      },
    };
  }

  /** The grpc-js implementation of ArtifactRetrievalService (for workers). */
  retrievalService(): grpc.UntypedServiceImplementation {
    return {
      ResolveArtifacts: (
        call: grpc.ServerUnaryCall<
          artifactApi.ResolveArtifactsRequest,
          artifactApi.ResolveArtifactsResponse
        >,
        cb: grpc.sendUnaryData<artifactApi.ResolveArtifactsResponse>,
      ) =>
        cb(
          null,
          new artifactApi.ResolveArtifactsResponse({ replacements: call.request.artifacts }),
        ),
      GetArtifact: (
        call: grpc.ServerWritableStream<
          artifactApi.GetArtifactRequest,
          artifactApi.GetArtifactResponse
        >,
      ) => {
        this.serveFile(call).catch((err: unknown) =>
          call.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      },
    };
  }

  private async serveFile(
    call: grpc.ServerWritableStream<
      artifactApi.GetArtifactRequest,
      artifactApi.GetArtifactResponse
    >,
  ): Promise<void> {
    const info = call.request.artifact;
    if (info?.type_urn !== FILE_TYPE) {
      call.emit("error", {
        code: grpc.status.INVALID_ARGUMENT,
        details: `the job server serves ${FILE_TYPE} artifacts only, not ${JSON.stringify(info?.type_urn ?? "")}`,
      });
      return;
    }
    const file = path.resolve(
      pipelineApi.ArtifactFilePayload.deserializeBinary(info.type_payload).path,
    );
    if (!this.files.has(file)) {
      call.emit("error", {
        code: grpc.status.NOT_FOUND,
        details: `no staged artifact ${JSON.stringify(file)} on this job server`,
      });
      return;
    }
    for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
      const ok = call.write(new artifactApi.GetArtifactResponse({ data: chunk as Buffer }));
      if (!ok) await new Promise((resolve) => call.once("drain", resolve));
    }
    call.end();
  }

  private async stage(call: StagingCall): Promise<void> {
    const messages = call[
      Symbol.asyncIterator
    ]() as AsyncIterator<artifactApi.ArtifactResponseWrapper>;
    const token = (await next(messages, "the staging token")).staging_token;
    const session = this.sessions.get(token);
    if (!session || session.started) {
      call.emit("error", {
        code: grpc.status.NOT_FOUND,
        details: `unknown or already used staging token ${JSON.stringify(token)}`,
      });
      return;
    }
    session.started = true;
    try {
      const stored = new Map<string, pipelineApi.ArtifactInformation[]>();
      const names = new Set<string>();
      for (const [env, deps] of session.dependencies) {
        if (deps.length === 0) {
          stored.set(env, []);
          continue;
        }
        call.write(
          new artifactApi.ArtifactRequestWrapper({
            resolve_artifact: new artifactApi.ResolveArtifactsRequest({
              artifacts: deps,
              preferred_urns: [FILE_TYPE, EMBEDDED_TYPE],
            }),
          }),
        );
        const resolved = (await next(messages, "the resolved artifacts")).resolve_artifact_response
          ?.replacements;
        if (!resolved)
          throw new Error("the staging client answered ResolveArtifacts without replacements");
        const out: pipelineApi.ArtifactInformation[] = [];
        for (const dep of resolved) {
          const name = safeArtifactName(stagedName(dep));
          if (names.has(name))
            throw new Error(`two artifacts are staged as ${JSON.stringify(name)}`);
          names.add(name);
          out.push(await this.fetch(call, messages, dep, session, name));
        }
        stored.set(env, out);
      }
      call.end();
      this.sessions.delete(token);
      session.resolve(stored);
    } catch (err) {
      session.reject(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  private async fetch(
    call: StagingCall,
    messages: AsyncIterator<artifactApi.ArtifactResponseWrapper>,
    dep: pipelineApi.ArtifactInformation,
    session: StagingSession,
    name: string,
  ): Promise<pipelineApi.ArtifactInformation> {
    const file = path.join(session.dir, name);
    const hash = createHash("sha256");
    const fd = createExclusive(file);
    try {
      if (dep.type_urn === EMBEDDED_TYPE) {
        const data = pipelineApi.EmbeddedFilePayload.deserializeBinary(dep.type_payload).data;
        hash.update(data);
        fs.writeSync(fd, data);
      } else {
        call.write(
          new artifactApi.ArtifactRequestWrapper({
            get_artifact: new artifactApi.GetArtifactRequest({ artifact: dep }),
          }),
        );
        for (;;) {
          const chunk = await next(messages, `the rest of artifact ${JSON.stringify(name)}`);
          const data = chunk.get_artifact_response?.data ?? new Uint8Array();
          hash.update(data);
          fs.writeSync(fd, data);
          if (chunk.is_last) break;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    const actual = hash.digest("hex");
    const declared = declaredSha256(dep).toLowerCase();
    if (declared && declared !== actual)
      throw new Error(
        `artifact ${JSON.stringify(name)} has sha256 ${actual}, but ${declared} was declared`,
      );
    this.files.set(file, session.jobId);
    return fileArtifact(file, actual, name);
  }
}
