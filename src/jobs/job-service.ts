/**
 * Firefly's job server: Beam's `JobService` (Prepare, Run, GetJobs, GetState,
 * GetStateStream, GetMessageStream, GetPipeline, Cancel,
 * DescribePipelineOptions), `ArtifactStagingService` and, for the jobs'
 * workers, `ArtifactRetrievalService`, on one gRPC server. Jobs run on the
 * local runner (run-job.ts), several at once. A malformed pipeline is
 * rejected at Prepare with INVALID_ARGUMENT; a message above
 * `maxMessageBytes` (64 MiB by default) with RESOURCE_EXHAUSTED before it is
 * read. Staging tokens are secret and per job, and each job's workers fetch
 * only that job's artifacts (artifact-store.ts). GetPipeline answers the
 * pipeline as submitted; options leave redacted (job.ts).
 */
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, endpointsApi, jobApi, pipelineApi, wkt } from "../../proto/index.js";
import { ArtifactStore, type StagingSession } from "./artifact-store.js";
import { isTerminal, Job, JobState, type JobEvent } from "./job.js";
import { pipelineOptionDescriptors } from "./option-descriptors.js";
import { runJob } from "./run-job.js";
import { InvalidPipelineError, validatePipeline } from "./validate-pipeline.js";
import { bindsEveryInterface } from "../pool/exposed-address.js";
import { shutdownServer } from "../util/shutdown-server.js";

export interface JobServerOptions {
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 8099 */
  port?: number;
  /**
   * Where staged artifacts are stored (a directory per job, removed when the
   * job ends); it must be this user's and not writable by others.
   * @default a new private directory under os.tmpdir(), removed by stop()
   */
  artifactsDir?: string;
  /** Largest message the server reads (Prepare's pipeline, staging chunks). @default JOB_SERVER_MAX_MESSAGE_BYTES */
  maxMessageBytes?: number;
  /** Run Firefly's default PROCESS environment on in-process workers. @default false */
  inProcessWorkers?: boolean;
  /** How long Run waits for the client to finish staging. @default 60000 */
  stagingTimeoutMs?: number;
}

interface Entry {
  job: Job;
  staging: StagingSession;
  run?: Promise<void>;
}

type Callback<T> = grpc.sendUnaryData<T>;
type Unary<Req, Res> = grpc.ServerUnaryCall<Req, Res>;

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/**
 * Default cap on a message the job server reads: 64 MiB. Pipelines are
 * usually kilobytes (Beam Python's pickled ones a few MB) and artifacts come
 * in 1 MiB chunks; unlimited, a 60 MB Prepare took the server from 73 to
 * 357 MB.
 */
export const JOB_SERVER_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export class JobServer {
  private readonly server: grpc.Server;
  private readonly jobs = new Map<string, Entry>();
  readonly artifacts: ArtifactStore;
  url = "";

  constructor(private readonly options: JobServerOptions = {}) {
    this.server = new grpc.Server({
      "grpc.max_receive_message_length": options.maxMessageBytes ?? JOB_SERVER_MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": -1,
    });
    this.artifacts = new ArtifactStore(options.artifactsDir);
  }

  async start(): Promise<string> {
    this.server.addService(jobApi.UnimplementedJobServiceService.definition, this.jobService());
    this.server.addService(
      artifactApi.UnimplementedArtifactStagingServiceService.definition,
      this.artifacts.stagingService(),
    );
    this.server.addService(
      artifactApi.UnimplementedArtifactRetrievalServiceService.definition,
      this.artifacts.retrievalService(),
    );
    const host = this.options.host ?? "127.0.0.1";
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${host}:${this.options.port ?? 8099}`,
        grpc.ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    this.url = `${bindsEveryInterface(host) ? "127.0.0.1" : host}:${port}`;
    return this.url;
  }

  /** Cancels running jobs, waits for them, stops the server and removes the artifacts it stored. */
  async stop(): Promise<void> {
    for (const entry of this.jobs.values()) entry.job.abort.abort();
    await Promise.allSettled([...this.jobs.values()].map((e) => e.run));
    await shutdownServer(this.server);
    this.artifacts.dispose();
  }

  private entry(jobId: string): Entry {
    const entry = this.jobs.get(jobId);
    if (!entry) throw fail(grpc.status.NOT_FOUND, `no job ${JSON.stringify(jobId)}`);
    return entry;
  }

  private prepare(request: jobApi.PrepareJobRequest): jobApi.PrepareJobResponse {
    try {
      validatePipeline(request.has_pipeline ? request.pipeline : undefined);
    } catch (err) {
      if (err instanceof InvalidPipelineError)
        throw fail(grpc.status.INVALID_ARGUMENT, err.message);
      throw err;
    }
    const name = request.job_name || "job";
    const id = `${name.replace(/[^\w.-]/g, "_").slice(0, 40)}-${randomUUID().slice(0, 8)}`;
    const pipeline = request.pipeline;
    const dependencies = new Map(
      [...pipeline.components.environments].map(([envId, env]) => [envId, env.dependencies]),
    );
    const staging = this.artifacts.open(id, dependencies);
    const job = new Job(id, name, pipeline, request.pipeline_options ?? new wkt.Struct());
    this.jobs.set(id, { job, staging });
    return new jobApi.PrepareJobResponse({
      preparation_id: id,
      artifact_staging_endpoint: new endpointsApi.ApiServiceDescriptor({ url: this.url }),
      staging_session_token: staging.token,
    });
  }

  private async run(request: jobApi.RunJobRequest): Promise<jobApi.RunJobResponse> {
    const entry = this.entry(request.preparation_id);
    if (entry.run || entry.job.state !== JobState.STOPPED)
      throw fail(grpc.status.FAILED_PRECONDITION, `job ${entry.job.id} was already run`);
    const timeoutMs = this.options.stagingTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let stored: Map<string, pipelineApi.ArtifactInformation[]>;
    try {
      stored = await Promise.race([
        entry.staging.done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`the client did not stage the artifacts within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.artifacts.release(entry.job.id);
      throw fail(
        grpc.status.FAILED_PRECONDITION,
        `job ${entry.job.id}: artifact staging failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      clearTimeout(timer);
      this.artifacts.close(entry.staging.token);
    }
    // The stored paths go to the job's workers only (provisioning), not into
    // the pipeline GetPipeline answers: they are the job's key to its files.
    const artifacts = [...stored.values()].flat();
    entry.run = runJob(entry.job, {
      artifactEndpoint: this.url,
      inProcessWorkers: this.options.inProcessWorkers ?? false,
      artifacts,
      artifactDir: entry.staging.dir,
    }).finally(() => this.artifacts.release(entry.job.id));
    return new jobApi.RunJobResponse({ job_id: entry.job.id });
  }

  private cancel(request: jobApi.CancelJobRequest): jobApi.CancelJobResponse {
    const { job, run, staging } = this.entry(request.job_id);
    if (!isTerminal(job.state)) {
      job.abort.abort();
      if (run) job.setState(JobState.CANCELLING);
      else {
        job.setState(JobState.CANCELLED);
        this.artifacts.close(staging.token);
        this.artifacts.release(job.id);
      }
    }
    return new jobApi.CancelJobResponse({ state: job.state });
  }

  /** Streams a job's events (replayed, then live) until it ends or the client goes away. */
  private follow<T>(
    call: grpc.ServerWritableStream<unknown, T>,
    jobId: string,
    toMessage: (event: JobEvent) => T | undefined,
  ): void {
    let entry: Entry;
    try {
      entry = this.entry(jobId);
    } catch (err) {
      call.emit("error", err);
      return;
    }
    let ended = false;
    const unsubscribe = entry.job.subscribe((event) => {
      if (ended) return;
      const message = toMessage(event);
      if (message !== undefined) call.write(message);
      if (event.kind === "state" && isTerminal(event.event.state)) {
        ended = true;
        call.end();
      }
    });
    call.on("cancelled", () => {
      ended = true;
      unsubscribe();
    });
  }

  private jobService(): grpc.UntypedServiceImplementation {
    const unary =
      <Req, Res>(handler: (request: Req) => Res | Promise<Res>) =>
      (call: Unary<Req, Res>, cb: Callback<Res>) => {
        Promise.resolve()
          .then(() => handler(call.request))
          .then(
            (res) => cb(null, res),
            (err: unknown) =>
              cb(
                err && typeof err === "object" && "code" in err
                  ? (err as grpc.ServiceError)
                  : fail(grpc.status.INTERNAL, err instanceof Error ? err.message : String(err)),
              ),
          );
      };
    return {
      Prepare: unary((r: jobApi.PrepareJobRequest) => this.prepare(r)),
      Run: unary((r: jobApi.RunJobRequest) => this.run(r)),
      GetJobs: unary(
        () =>
          new jobApi.GetJobsResponse({
            job_info: [...this.jobs.values()].map((e) => e.job.info()),
          }),
      ),
      GetState: unary((r: jobApi.GetJobStateRequest) => this.entry(r.job_id).job.stateEvent()),
      GetPipeline: unary(
        (r: jobApi.GetJobPipelineRequest) =>
          new jobApi.GetJobPipelineResponse({ pipeline: this.entry(r.job_id).job.pipeline }),
      ),
      Cancel: unary((r: jobApi.CancelJobRequest) => this.cancel(r)),
      Drain: unary(() => {
        throw fail(grpc.status.UNIMPLEMENTED, "Drain is not supported (batch jobs only)");
      }),
      GetJobMetrics: unary((r: jobApi.GetJobMetricsRequest) => {
        this.entry(r.job_id);
        return new jobApi.GetJobMetricsResponse({ metrics: new jobApi.MetricResults() });
      }),
      DescribePipelineOptions: unary(
        () => new jobApi.DescribePipelineOptionsResponse({ options: pipelineOptionDescriptors() }),
      ),
      GetStateStream: (
        call: grpc.ServerWritableStream<jobApi.GetJobStateRequest, jobApi.JobStateEvent>,
      ) =>
        this.follow(call, call.request.job_id, (e) => (e.kind === "state" ? e.event : undefined)),
      GetMessageStream: (
        call: grpc.ServerWritableStream<jobApi.JobMessagesRequest, jobApi.JobMessagesResponse>,
      ) =>
        this.follow(call, call.request.job_id, (e) =>
          e.kind === "state"
            ? new jobApi.JobMessagesResponse({ state_response: e.event })
            : new jobApi.JobMessagesResponse({ message_response: e.message }),
        ),
    };
  }
}

/** Starts a job server; resolves once it listens. */
export async function startJobServer(options: JobServerOptions = {}): Promise<JobServer> {
  const server = new JobServer(options);
  await server.start();
  return server;
}
