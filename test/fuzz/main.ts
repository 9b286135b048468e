/**
 * `npm run fuzz` (= `node dist/test/fuzz/main.js`): runs fuzz targets by name.
 *
 *   node dist/test/fuzz/main.js [target...] [--cases N] [--seed S] [--hang-ms MS] [--list]
 *
 * No target runs all. Each target runs in a worker thread with a memory
 * limit; a case making no progress for `--hang-ms` is a hang. Prints counts
 * per unit and exits non-zero on any crash or hang, printing the input.
 */
import { Worker } from "node:worker_threads";
import { FUZZ_TARGETS, type FuzzReport } from "./registry.js";
import {
  HEADER_INTS,
  LABEL_BYTES,
  MAX_INPUT_BYTES,
  type FuzzWorkerData,
} from "./worker-protocol.js";

interface Args {
  targets: string[];
  cases: number | undefined;
  seed: number;
  hangMs: number;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { targets: [], cases: undefined, seed: 1, hangMs: 30_000, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = (): number => {
      const v = Number(inline ?? argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0)
        throw new TypeError(`${flag} must be a non-negative integer`);
      return v;
    };
    if (flag === "--cases") args.cases = value();
    else if (flag === "--seed") args.seed = value();
    else if (flag === "--hang-ms") args.hangMs = value();
    else if (flag === "--list") args.list = true;
    else if (flag.startsWith("--")) throw new TypeError(`unknown option ${flag}`);
    else args.targets.push(flag);
  }
  return args;
}

function runTarget(name: string, cases: number, seed: number, hangMs: number): Promise<boolean> {
  const shared = new SharedArrayBuffer(HEADER_INTS * 4 + LABEL_BYTES + MAX_INPUT_BYTES);
  const header = new Int32Array(shared, 0, HEADER_INTS);
  const lastCase = (): string => {
    const label = Buffer.from(shared, HEADER_INTS * 4, Atomics.load(header, 1)).toString("utf8");
    const input = Buffer.from(
      shared,
      HEADER_INTS * 4 + LABEL_BYTES,
      Atomics.load(header, 2),
    ).toString("hex");
    return `${label} input=${input}`;
  };
  const data: FuzzWorkerData = { target: name, cases, seed, shared };
  const worker = new Worker(new URL("./worker.js", import.meta.url), {
    workerData: data,
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  const started = Date.now();
  return new Promise((resolve) => {
    let last = -1;
    let lastChange = Date.now();
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(ok);
    };
    const watchdog = setInterval(() => {
      const beat = Atomics.load(header, 0);
      if (beat !== last) {
        last = beat;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > hangMs) {
        console.error(
          `[${name}] HANG: no progress for ${hangMs} ms at case ${beat}: ${lastCase()}`,
        );
        void worker.terminate();
        killChild(Atomics.load(header, 3), name);
        settle(false);
      }
    }, 250);
    worker.on("message", (report: FuzzReport) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`[${name}] seed ${seed}, ${cases} cases per unit, ${seconds} s`);
      console.log(
        "(decoded/rejected count one-shot decodes: each case decodes in both contexts, and streams)",
      );
      console.log(
        `${"unit".padEnd(58)} ${"cases".padStart(8)} ${"decoded".padStart(8)} ${"rejected".padStart(9)} ${"crashes".padStart(8)}`,
      );
      let total = 0;
      for (const c of report.counts) {
        total += c.cases;
        console.log(
          `${c.name.padEnd(58)} ${String(c.cases).padStart(8)} ${String(c.decoded).padStart(8)} ${String(c.rejected).padStart(9)} ${String(c.crashes).padStart(8)}`,
        );
      }
      for (const c of report.counts)
        if (c.slow)
          console.log(
            `${c.name}: ${c.slow} requests unanswered after the bound while the worker answered others (slow input, not a hang)`,
          );
      console.log(
        `[${name}] ${report.counts.length} units, ${total} cases, ${report.findings.length} findings`,
      );
      for (const f of report.findings)
        console.error(`[${name}] CRASH in ${f.unit} (${f.label}) input=${f.inputHex}\n${f.error}`);
      settle(report.findings.length === 0 && report.counts.every((c) => c.crashes === 0));
    });
    worker.on("error", (err) => {
      console.error(`[${name}] CRASH: the worker died (${err.message}) at ${lastCase()}`);
      settle(false);
    });
    worker.on("exit", (code) => {
      if (!settled) {
        console.error(`[${name}] CRASH: the worker exited with code ${code} at ${lastCase()}`);
        settle(false);
      }
    });
  });
}

/** Kills the process a hung target was driving (a thread's children outlive it). */
function killChild(pid: number, name: string): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, "SIGKILL");
    console.error(`[${name}] killed its worker process ${pid}`);
  } catch {
    // already gone
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const [name, info] of Object.entries(FUZZ_TARGETS))
      console.log(`${name}: ${info.description}`);
    return 0;
  }
  const names = args.targets.length > 0 ? args.targets : Object.keys(FUZZ_TARGETS);
  let ok = true;
  for (const name of names) {
    const info = FUZZ_TARGETS[name];
    if (!info)
      throw new TypeError(
        `unknown fuzz target ${JSON.stringify(name)} (known: ${Object.keys(FUZZ_TARGETS).join(", ")})`,
      );
    ok = (await runTarget(name, args.cases ?? info.defaultCases, args.seed, args.hangMs)) && ok;
  }
  return ok ? 0 : 1;
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  return 2;
});
