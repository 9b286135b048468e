/**
 * Warnings for likely typos of pipeline options: a command-line option that
 * no part of Firefly reads, that the user's code did not read
 * (`p.options.get(name)`), and that is close to an option Firefly or Beam
 * knows (Damerau–Levenshtein distance ≤ 2, or a prefix of it) gets
 * `--thread=2: unknown option; did you mean --threads?`. Other unknown
 * options stay free-form, without a word.
 */
import { pipelineOptionDescriptors } from "../jobs/option-descriptors.js";
import { PARSED_OPTIONS, type PipelineOptions } from "./options.js";

/** Options the builder, the local runner and the `firefly run` command read. */
const FIREFLY_OPTIONS = [...PARSED_OPTIONS, "verbose", "stage_files", "help"];

/** Beam's portable pipeline options, which Firefly passes through to a portable runner. */
const BEAM_OPTIONS = [
  "job_name",
  "job_endpoint",
  "artifact_endpoint",
  "job_server_timeout",
  "environment_type",
  "environment_config",
  "environment_options",
  "environment_cache_millis",
  "sdk_worker_parallelism",
  "output_executable_path",
  "runner",
  "streaming",
  "experiments",
  "temp_location",
  "staging_location",
  "project",
  "region",
  "labels",
  "parallelism",
  "max_parallelism",
  "flink_master",
  "spark_master_url",
  "checkpointing_interval",
  "default_sdk_harness_log_level",
  "sdk_harness_log_level_overrides",
  "save_main_session",
  "sdk_location",
];

let known: ReadonlySet<string> | undefined;

/** Every option name Firefly knows (its own, its job server's descriptors, Beam's portable ones). */
export function knownOptionNames(): ReadonlySet<string> {
  known ??= new Set([
    ...FIREFLY_OPTIONS,
    ...pipelineOptionDescriptors().map((d) => d.name),
    ...BEAM_OPTIONS,
  ]);
  return known;
}

/** Damerau–Levenshtein distance (optimal string alignment: adjacent transpositions count 1). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known option an unknown name is probably a typo of, or undefined when none is close. */
export function suggestOption(
  name: string,
  names: Iterable<string> = knownOptionNames(),
): string | undefined {
  // A typo changes at most 2 characters (fewer than the name has); an
  // abbreviation (3+ characters) is a prefix, ranked after typos and by how
  // much it leaves out. Ties go to the first name alphabetically.
  let best: { name: string; score: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    let score = distance <= 2 && distance < name.length ? distance : Infinity;
    if (score === Infinity && name.length >= 3 && candidate.startsWith(name)) score = 3 + distance;
    if (score === Infinity) continue;
    if (!best || score < best.score || (score === best.score && candidate < best.name))
      best = { name: candidate, score };
  }
  return best?.name;
}

/**
 * The warnings for the command-line options of `options`: one per option
 * that is neither known nor read by the user's code and is close to a known
 * option.
 */
export function optionTypoWarnings(options: PipelineOptions): string[] {
  const names = knownOptionNames();
  const warnings: string[] = [];
  for (const [name, text] of options.commandLine) {
    if (names.has(name) || options.wasRead(name)) continue;
    const suggestion = suggestOption(name);
    if (suggestion !== undefined)
      warnings.push(`${text}: unknown option; did you mean --${suggestion}?`);
  }
  return warnings;
}
