/**
 * One job of the job server: its pipeline and options, its state
 * (STOPPED → STARTING → RUNNING → DONE | FAILED | CANCELLED, with CANCELLING
 * while a cancel is in progress), and its messages. Every state change and
 * message is kept (for streams opened later) and pushed to subscribers.
 * What leaves the job server is redacted: `info()` carries the options with
 * secrets replaced, and messages have the options' secret values (and any
 * URL credentials) scrubbed.
 */
import { jobApi, pipelineApi, wkt } from "../../proto/index.js";
import {
  normalizePipelineOptions,
  redactedOptions,
  redactedText,
  secretOptionValues,
} from "../boot/pipeline-options.js";
import { jsonToStruct, structToJson } from "../boot/struct-json.js";

export const JobState = jobApi.JobState.Enum;
export type JobStateValue = jobApi.JobState.Enum;
export const Importance = jobApi.JobMessage.MessageImportance;

const TERMINAL = new Set<JobStateValue>([JobState.DONE, JobState.FAILED, JobState.CANCELLED]);

/** Transitions a job may make (anything → CANCELLED/FAILED is allowed from non-terminal states). */
const NEXT: Partial<Record<JobStateValue, JobStateValue[]>> = {
  [JobState.STOPPED]: [JobState.STARTING],
  [JobState.STARTING]: [JobState.RUNNING],
  [JobState.RUNNING]: [JobState.DONE],
  [JobState.CANCELLING]: [],
};

export function isTerminal(state: JobStateValue): boolean {
  return TERMINAL.has(state);
}

export function stateName(state: JobStateValue): string {
  return JobState[state] ?? String(state);
}

export class IllegalJobStateError extends Error {
  constructor(jobId: string, from: JobStateValue, to: JobStateValue) {
    super(`job ${jobId} cannot go from ${stateName(from)} to ${stateName(to)}`);
    this.name = "IllegalJobStateError";
  }
}

export type JobEvent =
  { kind: "state"; event: jobApi.JobStateEvent } | { kind: "message"; message: jobApi.JobMessage };

function now(): wkt.Timestamp {
  const ms = Date.now();
  return new wkt.Timestamp({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
}

export class Job {
  private current: JobStateValue = JobState.STOPPED;
  /** Every state change and message, oldest first. */
  readonly history: JobEvent[] = [];
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private messageCount = 0;
  /** Aborted by Cancel. */
  readonly abort = new AbortController();
  /** The secret option values, scrubbed from messages. */
  private readonly secrets: string[];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly pipeline: pipelineApi.Pipeline,
    /** As submitted (secrets included): for the job's workers only. */
    readonly options: wkt.Struct,
  ) {
    this.secrets = secretOptionValues(normalizePipelineOptions(structToJson(options)));
    this.record({ kind: "state", event: this.stateEvent() });
  }

  get state(): JobStateValue {
    return this.current;
  }

  stateEvent(): jobApi.JobStateEvent {
    return new jobApi.JobStateEvent({ state: this.current, timestamp: now() });
  }

  info(): jobApi.JobInfo {
    return new jobApi.JobInfo({
      job_id: this.id,
      job_name: this.name,
      pipeline_options: jsonToStruct(redactedOptions(structToJson(this.options))),
      state: this.current,
    });
  }

  /** Moves to `next`; throws IllegalJobStateError for a transition the lifecycle does not allow. */
  setState(next: JobStateValue): void {
    const from = this.current;
    if (from === next) return;
    const allowed =
      !isTerminal(from) &&
      ((NEXT[from] ?? []).includes(next) ||
        next === JobState.FAILED ||
        next === JobState.CANCELLED ||
        (next === JobState.CANCELLING && from !== JobState.CANCELLING));
    if (!allowed) throw new IllegalJobStateError(this.id, from, next);
    this.current = next;
    this.record({ kind: "state", event: this.stateEvent() });
    if (isTerminal(next)) this.listeners.clear();
  }

  message(importance: jobApi.JobMessage.MessageImportance, text: string): void {
    this.record({
      kind: "message",
      message: new jobApi.JobMessage({
        message_id: `${this.id}-${++this.messageCount}`,
        time: new Date().toISOString(),
        importance,
        message_text: redactedText(text, this.secrets),
      }),
    });
  }

  /** Replays the history, then calls `listener` for each new event until the job ends. */
  subscribe(listener: (event: JobEvent) => void): () => void {
    for (const event of this.history) listener(event);
    if (isTerminal(this.current)) return () => undefined;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: JobEvent): void {
    this.history.push(event);
    for (const listener of [...this.listeners]) listener(event);
  }
}
