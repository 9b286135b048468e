/**
 * The fuzz targets by name. `node dist/test/fuzz/main.js [name...]` runs
 * them (each in a worker thread with a watchdog). A target is a module
 * exporting `run(options): FuzzReport`; add one here to make it runnable.
 */

/** What a target gets. */
export interface FuzzRunOptions {
  /** Cases per unit (e.g. per coder for the `coders` target). */
  cases: number;
  seed: number;
  /** Called before each case with its label and input (the watchdog reports the last one). */
  onCase?: ((label: string, input: Uint8Array) => void) | undefined;
  /**
   * Called with the pid of each process the target starts (0 once it is
   * gone), so the watchdog can kill it when it stops a hung target.
   */
  onChildProcess?: ((pid: number) => void) | undefined;
}

/** Counts of one unit (e.g. one coder). */
export interface FuzzCount {
  name: string;
  cases: number;
  /** Inputs that decoded to values. */
  decoded: number;
  /** Inputs rejected with a typed error. */
  rejected: number;
  crashes: number;
  /** Requests unanswered within the bound while the worker answered others (slow, not hung). */
  slow?: number;
}

/** A crash: an untyped exception or a broken invariant. */
export interface FuzzFinding {
  unit: string;
  label: string;
  inputHex: string;
  error: string;
}

/** The outcome of a target's run. */
export interface FuzzReport {
  counts: FuzzCount[];
  findings: FuzzFinding[];
}

/** A target module's shape. */
export interface FuzzTargetModule {
  run(options: FuzzRunOptions): FuzzReport | Promise<FuzzReport>;
}

/** A registered target. */
export interface FuzzTargetInfo {
  description: string;
  /** The compiled module, relative to this file. */
  module: string;
  /** @default cases when `--cases` is not given */
  defaultCases: number;
}

/** Every fuzz target by name. */
export const FUZZ_TARGETS: Readonly<Record<string, FuzzTargetInfo>> = {
  coders: {
    description:
      "decode random and mutated bytes with every standard coder (one-shot, both contexts, and streamed)",
    module: "./coders-target.js",
    defaultCases: 100_000,
  },
  instructions: {
    description:
      "random and mutated InstructionRequests, descriptors and data streams against a live worker process (inline and threads=2): every instruction answered within a bound, the worker never dies",
    module: "./instructions-target.js",
    defaultCases: 2_000,
  },
};

/** Loads a target's module. */
export async function loadFuzzTarget(name: string): Promise<FuzzTargetModule> {
  const info = FUZZ_TARGETS[name];
  if (!info)
    throw new Error(
      `unknown fuzz target ${JSON.stringify(name)} (known: ${Object.keys(FUZZ_TARGETS).join(", ")})`,
    );
  return (await import(new URL(info.module, import.meta.url).href)) as FuzzTargetModule;
}
