/**
 * Pipeline options, from the command line (`--key=value`, `--key value` for
 * the options below that take a value, `--flag` for true, `--no-flag` for
 * false) or from an object. Options Firefly does not know are kept as they
 * are (strings, or true for a bare flag), for the runner and for DoFns;
 * `Pipeline.run()` warns about a command-line option that looks like a typo
 * of a known one unless the user's code read it with `get` (option-suggestions.ts).
 */

/** The options Firefly reads. Every other option is kept in `PipelineOptions.values`. */
export interface KnownPipelineOptions {
  /** The runner that executes the pipeline. @default "local" */
  runner: string;
  /** Worker threads per worker (0: bundles run on the worker's main thread). @default one per core */
  threads?: number;
  /** Worker processes the local runner starts (0: in-process workers). @default 0 */
  workers?: number;
  /** The Job API endpoint of a portable runner (host:port). */
  job_endpoint?: string;
  /** How a portable runner starts Firefly: PROCESS, DOCKER, EXTERNAL. @default "PROCESS" */
  environment_type?: string;
  /** PROCESS: `{"command": "..."}` or the command; DOCKER: the image; EXTERNAL: host:port. */
  environment_config?: string;
  /** Foreign environments as EXTERNAL worker pools: `MATCH=HOST:PORT,...` (environment-overrides.ts). */
  environment_overrides?: string;
  /** Where examples write their output. */
  output?: string;
  /** No progress line. @default false */
  quiet?: boolean;
}

/** Options whose value may follow as the next argument (`--runner local`). */
const VALUE_OPTIONS = new Set([
  "runner",
  "threads",
  "workers",
  "job_endpoint",
  "environment_type",
  "environment_config",
  "environment_overrides",
  "output",
]);
const INTEGER_OPTIONS = new Set(["threads", "workers"]);
const BOOLEAN_OPTIONS = new Set(["quiet"]);

/** Every option name this module parses (the builder's and the local runner's own). */
export const PARSED_OPTIONS: readonly string[] = [...VALUE_OPTIONS, ...BOOLEAN_OPTIONS];

export type OptionValue = string | number | boolean;

export class PipelineOptionsError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "PipelineOptionsError";
  }
}

function coerce(name: string, raw: OptionValue): OptionValue {
  if (INTEGER_OPTIONS.has(name)) {
    const n = typeof raw === "number" ? raw : Number(raw);
    if (raw === "" || typeof raw === "boolean" || !Number.isSafeInteger(n) || n < 0)
      throw new PipelineOptionsError(
        `--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`,
      );
    return n;
  }
  if (BOOLEAN_OPTIONS.has(name)) {
    if (typeof raw === "boolean") return raw;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw new PipelineOptionsError(
      `--${name} is a flag (true or false), got ${JSON.stringify(raw)}`,
    );
  }
  if (VALUE_OPTIONS.has(name) && typeof raw !== "string")
    throw new PipelineOptionsError(`--${name} needs a value (--${name}=VALUE)`);
  return raw;
}

/** Pipeline options: the known ones typed, all of them (known and not) in `values`. */
export class PipelineOptions {
  /** Every option by name (dashes in names become underscores). */
  readonly values: Readonly<Record<string, OptionValue>>;
  /** Command-line arguments that are not options. */
  readonly args: readonly string[];
  /** The options given on the command line: name → the argument as written (`--thread=2`). */
  readonly commandLine: ReadonlyMap<string, string>;
  /** Names read with `get` (shared by the options `with` makes). */
  private readonly read: Set<string>;

  constructor(
    values: Record<string, OptionValue | undefined> = {},
    args: readonly string[] = [],
    commandLine: ReadonlyMap<string, string> = new Map(),
    read: Set<string> = new Set(),
  ) {
    const normalized: Record<string, OptionValue> = {};
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const name = key.replace(/-/g, "_");
      normalized[name] = coerce(name, value);
    }
    normalized.runner ??= "local";
    this.values = Object.freeze(normalized);
    this.args = Object.freeze([...args]);
    this.commandLine = commandLine;
    this.read = read;
  }

  /** Parses command-line arguments (e.g. `process.argv.slice(2)`). */
  static fromArgv(argv: readonly string[]): PipelineOptions {
    const values: Record<string, OptionValue> = {};
    const args: string[] = [];
    const commandLine = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith("--") || arg === "--") {
        args.push(arg);
        continue;
      }
      const eq = arg.indexOf("=");
      const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/-/g, "_");
      if (name === "") throw new PipelineOptionsError(`malformed option ${JSON.stringify(arg)}`);
      const bare = name.startsWith("no_") && name.length > 3 ? name.slice(3) : name;
      commandLine.set(eq < 0 ? bare : name, arg);
      if (eq >= 0) values[name] = arg.slice(eq + 1);
      else if (VALUE_OPTIONS.has(name)) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith("--"))
          throw new PipelineOptionsError(`--${name} needs a value (--${name}=VALUE)`);
        values[name] = next;
        i++;
      } else if (name.startsWith("no_") && name.length > 3) values[name.slice(3)] = false;
      else values[name] = true;
    }
    return new PipelineOptions(values, args, commandLine);
  }

  /** Options from an object, an argv array, or options (returned as they are). */
  static from(
    options: PipelineOptions | readonly string[] | Record<string, OptionValue | undefined>,
  ): PipelineOptions {
    if (options instanceof PipelineOptions) return options;
    if (Array.isArray(options)) return PipelineOptions.fromArgv(options as readonly string[]);
    return new PipelineOptions(options as Record<string, OptionValue | undefined>);
  }

  get runner(): string {
    return this.values.runner as string;
  }
  get threads(): number | undefined {
    return this.values.threads as number | undefined;
  }
  get workers(): number | undefined {
    return this.values.workers as number | undefined;
  }
  get jobEndpoint(): string | undefined {
    return this.values.job_endpoint as string | undefined;
  }
  get environmentType(): string | undefined {
    return this.values.environment_type as string | undefined;
  }
  get environmentConfig(): string | undefined {
    return this.values.environment_config as string | undefined;
  }
  get output(): string | undefined {
    return this.values.output as string | undefined;
  }
  get quiet(): boolean {
    return this.values.quiet === true;
  }

  /** The value of any option (undefined when not given). */
  get(name: string): OptionValue | undefined {
    const key = name.replace(/-/g, "_");
    this.read.add(key);
    return this.values[key];
  }

  /** True when `get(name)` was called (the user's code reads the option: it is never warned about). */
  wasRead(name: string): boolean {
    return this.read.has(name.replace(/-/g, "_"));
  }

  /** New options with some values replaced. */
  with(overrides: Record<string, OptionValue | undefined>): PipelineOptions {
    return new PipelineOptions(
      { ...this.values, ...overrides },
      this.args,
      this.commandLine,
      this.read,
    );
  }

  /** The options as a portable runner receives them (`beam:option:<name>:v1` keys, as Beam's SDKs send them). */
  toPortableOptions(): Record<string, OptionValue> {
    return Object.fromEntries(
      Object.entries(this.values).map(([k, v]) => [`beam:option:${k}:v1`, v]),
    );
  }
}
