/**
 * The runner's Logging service: keeps the workers' log entries (bounded) so a
 * failure can show what the workers said, and prints them as they come when
 * verbose.
 */
import type * as grpc from "@grpc/grpc-js";
import { INSTRUCTION_FAILED } from "../../../harness/errors.js";
import { fnApi } from "../../../proto/index.js";

const SEVERITY_NAMES = new Map<number, string>(
  Object.entries(fnApi.LogEntry.Severity.Enum)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v as number, k]),
);

export function severityName(severity: number): string {
  return SEVERITY_NAMES.get(severity) ?? String(severity);
}

export class LoggingService {
  readonly entries: fnApi.LogEntry[] = [];

  constructor(
    private readonly options: {
      /** Print every entry at or above this severity as it arrives; undefined: print nothing. */
      printFrom?: number;
      maxEntries?: number;
      print?: (line: string) => void;
    } = {},
  ) {}

  serve(call: grpc.ServerDuplexStream<fnApi.LogEntry.List, fnApi.LogControl>): void {
    call.on("data", (list: fnApi.LogEntry.List) => {
      for (const entry of list.log_entries) this.add(entry);
    });
    call.on("error", () => undefined);
    call.on("end", () => call.end());
  }

  /** Entries at or above a severity (e.g. WARN), as printable lines. */
  lines(minSeverity: number = fnApi.LogEntry.Severity.Enum.WARN): string[] {
    return this.entries
      .filter((e) => e.severity >= minSeverity && !reportedElsewhere(e))
      .map(formatEntry);
  }

  private add(entry: fnApi.LogEntry): void {
    const max = this.options.maxEntries ?? 10_000;
    if (this.entries.length >= max) this.entries.shift();
    this.entries.push(entry);
    const from = this.options.printFrom;
    if (from !== undefined && entry.severity >= from && !reportedElsewhere(entry))
      (this.options.print ?? ((l: string) => process.stderr.write(`${l}\n`)))(formatEntry(entry));
  }
}

/**
 * A worker's log of a failed instruction: the runner reports the response's
 * error (the same text) itself, so printing the entry would say it twice.
 */
function reportedElsewhere(entry: fnApi.LogEntry): boolean {
  return entry.message === INSTRUCTION_FAILED && entry.instruction_id !== "";
}

export function formatEntry(entry: fnApi.LogEntry): string {
  const where = [entry.instruction_id, entry.transform_id].filter(Boolean).join(" ");
  const trace = entry.trace ? `\n${entry.trace}` : "";
  return `[${severityName(entry.severity)}]${where ? ` (${where})` : ""} ${entry.message}${trace}`;
}
