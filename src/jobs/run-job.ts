/**
 * Runs a job on the local runner, honouring its Firefly environment:
 * workers are started as the environment says (environment-workers.ts), or
 * in this process when the job server allows it for Firefly's own PROCESS
 * command (with the job's artifact directory as a user-code root). State
 * changes and messages go to the Job.
 */
import { addUserCodeRoot } from "../../operations/user-code/load-user-code.js";
import { pipelineApi } from "../../proto/index.js";
import { normalizePipelineOptions } from "../boot/pipeline-options.js";
import { structToJson } from "../boot/struct-json.js";
import { ENVIRONMENT_ID, FIREFLY_BIN } from "../pipeline/environment.js";
import { PipelineOptions, type OptionValue } from "../pipeline/options.js";
import { failureLines } from "../runner/failure-text.js";
import { localRunnerOptions, runPipeline, type PipelineResult } from "../runner/index.js";
import { environmentLauncher, type LaunchContext } from "./environment-workers.js";
import { Importance, JobState, type Job } from "./job.js";

export interface RunJobSettings {
  /** The job server's ArtifactRetrievalService (host:port). */
  artifactEndpoint: string;
  /** Run PROCESS environments whose command is `firefly boot` on in-process workers. */
  inProcessWorkers: boolean;
  /** The staged artifacts (file artifacts in the job's directory) and that directory. */
  artifacts: pipelineApi.ArtifactInformation[];
  artifactDir: string;
}

/** The job's options as the local runner reads them (URN keys unwrapped; lists and objects as JSON). */
export function runnerOptions(job: Job): PipelineOptions {
  const values: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(normalizePipelineOptions(structToJson(job.options)))) {
    if (value === null) continue;
    values[key] =
      typeof value === "object" ? JSON.stringify(value) : (value as string | number | boolean);
  }
  return new PipelineOptions(values);
}

/**
 * The environment whose workers the job server starts: Firefly's (id
 * `firefly`), or the only one. Other environments (cross-language transforms)
 * are refused by the local runner with the transform's name.
 */
function theEnvironment(pipeline: pipelineApi.Pipeline): pipelineApi.Environment {
  const envs = pipeline.components.environments;
  const env = envs.get(ENVIRONMENT_ID) ?? (envs.size === 1 ? [...envs.values()][0] : undefined);
  if (!env)
    throw new Error(
      `the job server runs Firefly's environment (id ${JSON.stringify(ENVIRONMENT_ID)}); this pipeline has ${envs.size} environments (${[...envs.keys()].join(", ")}) and none is Firefly's`,
    );
  return env;
}

/** Firefly's own default PROCESS command (`<this package>/bin/firefly boot`). */
function isFireflyBoot(env: pipelineApi.Environment): boolean {
  return (
    env.urn === "beam:env:process:v1" &&
    pipelineApi.ProcessPayload.deserializeBinary(env.payload).command === `${FIREFLY_BIN} boot`
  );
}

function describeResult(result: PipelineResult): string {
  const stages = result.stages.map((s) => `${s.name}: ${s.inputElements} → ${s.outputElements}`);
  return `finished in ${Math.round(result.durationMs)} ms; ${stages.join("; ")}`;
}

export async function runJob(job: Job, settings: RunJobSettings): Promise<void> {
  try {
    job.setState(JobState.STARTING);
    const options = runnerOptions(job);
    const env = theEnvironment(job.pipeline);
    const context: LaunchContext = {
      artifactEndpoint: settings.artifactEndpoint,
      onWorkerOutput: (id, line) => {
        if (/"level":(4|5|6)\d/.test(line) || /error/i.test(line))
          job.message(Importance.JOB_MESSAGE_DETAILED, `${id}: ${line}`);
      },
    };
    const inProcess = settings.inProcessWorkers && isFireflyBoot(env);
    if (inProcess) addUserCodeRoot(settings.artifactDir);
    const launchWorker = inProcess ? undefined : environmentLauncher(env, context);
    job.message(
      Importance.JOB_MESSAGE_BASIC,
      `starting ${inProcess ? "in-process workers" : `workers (${env.urn})`} with ${settings.artifacts.length} staged artifact(s)`,
    );
    if (job.abort.signal.aborted) {
      job.setState(JobState.CANCELLED);
      return;
    }
    job.setState(JobState.RUNNING);
    let lastNode = 0;
    const result = await runPipeline(job.pipeline, {
      ...localRunnerOptions(options),
      ...(launchWorker ? { launchWorker } : {}),
      artifacts: { endpoint: settings.artifactEndpoint, dependencies: settings.artifacts },
      signal: job.abort.signal,
      onProgress: (p) => {
        if (p.node === lastNode) return;
        lastNode = p.node;
        job.message(
          Importance.JOB_MESSAGE_DETAILED,
          `[${p.node}/${p.nodes}] ${p.name} (${p.elements} elements so far)`,
        );
      },
    });
    for (const line of result.logs) job.message(Importance.JOB_MESSAGE_WARNING, line);
    if (result.state === "CANCELLED" || job.abort.signal.aborted) {
      job.message(Importance.JOB_MESSAGE_BASIC, "the job was cancelled");
      job.setState(JobState.CANCELLED);
    } else if (result.state === "DONE") {
      job.message(Importance.JOB_MESSAGE_BASIC, describeResult(result));
      job.setState(JobState.DONE);
    } else {
      job.message(Importance.JOB_MESSAGE_ERROR, failureLines(result.error).join("\n"));
      job.setState(JobState.FAILED);
    }
  } catch (err) {
    job.message(Importance.JOB_MESSAGE_ERROR, err instanceof Error ? err.message : String(err));
    job.setState(JobState.FAILED);
  }
}
