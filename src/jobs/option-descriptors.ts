/**
 * The pipeline options Firefly's job server and workers read, as
 * `DescribePipelineOptions` answers them (one table).
 */
import { jobApi } from "../../proto/index.js";

const T = jobApi.PipelineOptionType.Enum;

const OPTIONS: [
  name: string,
  type: jobApi.PipelineOptionType.Enum,
  group: string,
  defaultValue: string,
  description: string,
][] = [
  ["job_name", T.STRING, "job", "job", "the job's name (GetJobs)"],
  [
    "environment_type",
    T.STRING,
    "environment",
    "PROCESS",
    "how workers start: PROCESS, DOCKER, EXTERNAL, LOOPBACK",
  ],
  [
    "environment_config",
    T.STRING,
    "environment",
    "",
    'PROCESS: {"command": ...}; DOCKER: the image; EXTERNAL: the worker pool\'s host:port',
  ],
  [
    "environment_overrides",
    T.STRING,
    "environment",
    "",
    "foreign (cross-language) environments as EXTERNAL worker pools: MATCH=HOST:PORT,... (MATCH: environment id, Docker image or *)",
  ],
  ["workers", T.INTEGER, "runner", "1", "workers started per job"],
  [
    "threads",
    T.INTEGER,
    "worker",
    "",
    "bundle threads per worker (0 = inline); default one per core",
  ],
  ["firefly_threads", T.INTEGER, "worker", "", "the same, read by workers from provisioning"],
  [
    "firefly_inline_small_bundles",
    T.BOOLEAN,
    "worker",
    "true",
    "with threads, run a bundle on the worker's main thread when its stage's recent bundles were all quick",
  ],
  [
    "firefly_small_bundle_ms",
    T.INTEGER,
    "worker",
    "5",
    "a bundle counts as quick for firefly_inline_small_bundles at this many ms in a thread (2/5 of it on the main thread)",
  ],
  [
    "gbk_memory_mb",
    T.INTEGER,
    "runner",
    "256",
    "memory a GroupByKey holds before spilling to disk",
  ],
  ["max_bundle_kb", T.INTEGER, "runner", "8192", "largest bundle input"],
  [
    "lift_combiners",
    T.BOOLEAN,
    "runner",
    "true",
    "lift combine_per_key into precombine/merge/extract",
  ],
  [
    "dynamic_splits",
    T.BOOLEAN,
    "runner",
    "true",
    "split the slowest bundle of a splittable DoFn's stage when a worker slot is idle",
  ],
  [
    "spill_dir",
    T.STRING,
    "runner",
    "",
    "directory for GroupByKey spills (default the temp directory)",
  ],
  ["log_level", T.STRING, "worker", "warn", "workers' log level"],
  [
    "verbose",
    T.BOOLEAN,
    "worker",
    "false",
    "errors with Firefly's own stack frames after the user's",
  ],
  [
    "firefly_allow_any_module",
    T.BOOLEAN,
    "worker",
    "false",
    "load {module} DoFns from outside the working directory and staged artifacts",
  ],
  [
    "firefly_max_iterable_bytes",
    T.INTEGER,
    "worker",
    String(256 * 1024 * 1024),
    "most bytes of State API pages a ParDo reads into arrays for one element's state-backed iterables",
  ],
  [
    "firefly_max_state_read_bytes",
    T.INTEGER,
    "worker",
    String(1024 * 1024 * 1024),
    "most bytes one State API read gathers over its continuation pages",
  ],
  [
    "firefly_state_backed_iterable_threshold",
    T.INTEGER,
    "runner",
    "0",
    "GroupByKey groups larger than this many bytes go to workers as state-backed iterables (0: never)",
  ],
];

export function pipelineOptionDescriptors(): jobApi.PipelineOptionDescriptor[] {
  return OPTIONS.map(
    ([name, type, group, default_value, description]) =>
      new jobApi.PipelineOptionDescriptor({ name, type, group, default_value, description }),
  );
}
