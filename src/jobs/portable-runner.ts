/**
 * The "portable" runner (`--runner=portable --job_endpoint=HOST:PORT`):
 * submits the pipeline to a Beam job server (Flink's, Spark's, Firefly's own)
 * through the Job API — Prepare (pipeline + options as `beam:option:<name>:v1`),
 * artifact staging with the staging token, Run — then follows the job's state
 * and message streams (printed to stderr; the progress line on a TTY), cancels
 * the job on Ctrl-C, and resolves with the terminal state.
 * `--environment_type=LOOPBACK` starts a Firefly worker pool in this process
 * and submits an EXTERNAL environment pointing at it.
 */
import * as grpc from "@grpc/grpc-js";
import { jobApi, type pipelineApi } from "../../proto/index.js";
import { jsonToStruct } from "../boot/struct-json.js";
import { ENVIRONMENT_ID, fireflyEnvironment } from "../pipeline/environment.js";
import type { PipelineOptions } from "../pipeline/options.js";
import { registerRunner, type PipelineResult } from "../pipeline/runners.js";
import { offerArtifacts } from "./artifact-offer.js";
import { isTerminal, JobState, stateName, type JobStateValue } from "./job.js";
import { startLoopbackPool, type LoopbackPool } from "./loopback.js";
import { stageUserModules } from "./stage-modules.js";

export interface PortableResult extends PipelineResult {
  jobId: string;
  /** Every job message, as printed. */
  messages: string[];
  error?: { message: string };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  callback: (err: grpc.ServiceError | null, response?: Res) => void,
) => unknown;

function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, (err, res) =>
      err || !res ? reject(err ?? new Error("no response")) : resolve(res),
    ),
  );
}

const IMPORTANCE = jobApi.JobMessage.MessageImportance;

class Reporter {
  readonly lines: string[] = [];
  private progressShown = false;
  constructor(
    private readonly quiet: boolean,
    private readonly tty = process.stderr.isTTY === true,
  ) {}

  message(m: jobApi.JobMessage): void {
    const level = IMPORTANCE[m.importance]?.replace("JOB_MESSAGE_", "") ?? "INFO";
    const line = `${level}: ${m.message_text}`;
    this.lines.push(line);
    if (this.quiet) return;
    if (m.importance <= IMPORTANCE.JOB_MESSAGE_DETAILED) {
      if (this.tty) {
        process.stderr.write(`\r\x1b[K${m.message_text.split("\n")[0].slice(0, 120)}`);
        this.progressShown = true;
      }
      return;
    }
    this.print(line);
  }

  state(jobId: string, state: JobStateValue): void {
    if (!this.quiet) this.print(`job ${jobId}: ${stateName(state)}`);
  }

  private print(line: string): void {
    if (this.progressShown) process.stderr.write("\r\x1b[K");
    this.progressShown = false;
    process.stderr.write(`${line}\n`);
  }
}

/** Follows the job until both streams end; resolves with the terminal state. */
function follow(
  client: jobApi.JobServiceClient,
  jobId: string,
  reporter: Reporter,
): Promise<JobStateValue> {
  const states = client.GetStateStream(new jobApi.GetJobStateRequest({ job_id: jobId }));
  const messages = client.GetMessageStream(new jobApi.JobMessagesRequest({ job_id: jobId }));
  let terminal: JobStateValue | undefined;
  const ended = (stream: grpc.ClientReadableStream<unknown>) =>
    new Promise<void>((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("error", reject);
    });
  states.on("data", (event: jobApi.JobStateEvent) => {
    reporter.state(jobId, event.state);
    if (isTerminal(event.state)) terminal = event.state;
  });
  messages.on("data", (response: jobApi.JobMessagesResponse) => {
    if (response.has_message_response) reporter.message(response.message_response);
  });
  return Promise.all([ended(states), ended(messages)]).then(() => {
    if (terminal === undefined)
      throw new Error(`the job server ended job ${jobId}'s streams before it finished`);
    return terminal;
  });
}

function resultState(state: JobStateValue): PipelineResult["state"] {
  if (state === JobState.DONE) return "DONE";
  if (state === JobState.CANCELLED) return "CANCELLED";
  return "FAILED";
}

export async function runPortable(
  pipeline: pipelineApi.Pipeline,
  options: PipelineOptions,
): Promise<PortableResult> {
  const endpoint = options.jobEndpoint;
  if (!endpoint) throw new TypeError("--runner=portable needs --job_endpoint=HOST:PORT");
  let pool: LoopbackPool | undefined;
  let envOptions = options;
  if ((options.environmentType ?? "").toUpperCase() === "LOOPBACK") {
    pool = await startLoopbackPool();
    envOptions = options.with({ environment_type: "EXTERNAL", environment_config: pool.address });
  }
  const client = new jobApi.JobServiceClient(endpoint, grpc.credentials.createInsecure());
  const reporter = new Reporter(options.quiet);
  let jobId = "";
  const onSigint = () => {
    if (jobId)
      void call(client.Cancel.bind(client), new jobApi.CancelJobRequest({ job_id: jobId })).catch(
        () => undefined,
      );
  };
  try {
    const extra = String(options.get("stage_files") ?? "")
      .split(",")
      .filter((f) => f !== "");
    const staged = stageUserModules(pipeline, extra);
    // Only Firefly's own environment: foreign ones (cross-language transforms) stay as
    // their expansion services returned them (or as --environment_overrides made them).
    const env = pipeline.components.environments.get(ENVIRONMENT_ID);
    if (env) {
      const wanted = fireflyEnvironment(envOptions);
      env.urn = wanted.urn;
      env.payload = wanted.payload;
      env.dependencies = staged.dependencies;
    }
    const prepared = await call(
      client.Prepare.bind(client),
      new jobApi.PrepareJobRequest({
        pipeline,
        pipeline_options: jsonToStruct(envOptions.toPortableOptions()),
        job_name: String(options.get("job_name") ?? "firefly-job"),
      }),
    );
    await offerArtifacts(
      prepared.artifact_staging_endpoint?.url || endpoint,
      prepared.staging_session_token,
      staged.files.values(),
    );
    const run = await call(
      client.Run.bind(client),
      new jobApi.RunJobRequest({ preparation_id: prepared.preparation_id }),
    );
    jobId = run.job_id;
    process.on("SIGINT", onSigint);
    const terminal = await follow(client, jobId, reporter);
    const state = resultState(terminal);
    const errors = reporter.lines.filter((l) => l.startsWith("ERROR: "));
    return {
      state,
      jobId,
      messages: reporter.lines,
      ...(state === "FAILED"
        ? {
            error: {
              message: errors.map((l) => l.slice(7)).join("\n") || `job ${stateName(terminal)}`,
            },
          }
        : {}),
    };
  } finally {
    process.off("SIGINT", onSigint);
    client.close();
    await pool?.stop();
  }
}

registerRunner("portable", runPortable);
