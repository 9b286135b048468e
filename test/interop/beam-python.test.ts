/**
 * Interop with a runner nobody here wrote: Beam Python 2.50's FnApiRunner and
 * its portable job service run Firefly pipelines, and each output must be
 * exactly the local runner's.
 *
 *   (a) FnApiRunner, Firefly workers from a `firefly pool` (EXTERNAL environment);
 *   (b) Beam Python's job service (local_job_service_main) with Firefly's
 *       portable client, EXTERNAL (the same pool) and LOOPBACK.
 *
 * Needs Beam Python: FIREFLY_BEAM_PYTHON=DIR (`npm run interop -- --beam-python DIR`),
 * where DIR has an env.sh that sets up Beam's Python environment, or is a Beam
 * source tree (DIR/sdks/python goes on PYTHONPATH). Without it the suite skips
 * with one line (CI has no Beam Python).
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { distRoot, fireflyBin, repoRoot } from "../support/paths.js";

const beamPython = process.env.FIREFLY_BEAM_PYTHON;
const run = promisify(execFile);
const INTEROP_DIR = path.join(repoRoot, "test", "interop");
const RUN_TIMEOUT_MS = 300_000;

/** One pipeline run on every path; `fnapiOnly` flags are FnApiRunner settings. */
interface Case {
  name: string;
  file: string;
  args?: string[];
  /** FnApiRunner sends GroupByKey values as state-backed iterables. */
  stateIterables?: boolean;
  /** FnApiRunner asks the SDK's merge_windows to merge sessions (it merges them itself otherwise). */
  sdkMergesSessions?: boolean;
}

const example = (file: string, args: string[] = []): Case => ({
  name: file,
  file: path.join("examples", file),
  args,
});

const CASES: Case[] = [
  example("wordcount.mjs"),
  example("windowed-events.mjs"),
  example("side-input-join.mjs"),
  example("stateful-timers.mjs"),
  example("snippets/basics.mjs"),
  example("snippets/dofn.mjs"),
  example("snippets/combine.mjs"),
  example("snippets/windows.mjs"),
  example("snippets/side-inputs.mjs"),
  example("snippets/state-timers.mjs"),
  { name: "200,000 elements: GroupByKey + lifted sum", file: "test/interop/cases/large.mjs" },
  {
    name: "GroupByKey values as state-backed iterables",
    file: "test/interop/cases/large.mjs",
    stateIterables: true,
  },
  {
    name: "batch DoFns on Arrow columns: mapBatches and processBatch",
    file: "test/interop/cases/batches.mjs",
  },
  example("numeric-features.mjs", ["--rows=20000"]),
  {
    name: "a splittable DoFn: restrictions split, sized and checkpointed",
    file: "test/interop/cases/splittable.mjs",
  },
  {
    name: "sessions merged by Firefly's merge_windows",
    file: "examples/snippets/windows.mjs",
    sdkMergesSessions: true,
  },
];

/** The environment Beam Python runs in: DIR/env.sh sourced, or DIR/sdks/python on PYTHONPATH. */
function pythonEnvironment(dir: string): NodeJS.ProcessEnv {
  const envScript = path.join(dir, "env.sh");
  if (fs.existsSync(envScript)) {
    const out = spawnSync("bash", ["-c", 'source "$1" && env -0', "bash", envScript], {
      encoding: "utf8",
    });
    if (out.status !== 0) throw new Error(`cannot source ${envScript}: ${out.stderr}`);
    return Object.fromEntries(
      out.stdout
        .split("\0")
        .filter((line) => line.includes("="))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
  }
  const sdk = path.join(dir, "sdks", "python");
  if (!fs.existsSync(sdk)) throw new Error(`${dir} has neither env.sh nor sdks/python`);
  return { ...process.env, PYTHONPATH: [sdk, process.env.PYTHONPATH].filter(Boolean).join(":") };
}

interface Server {
  child: ChildProcess;
  address: string;
}

/** Starts a server process and resolves with the address `listening` finds in its output. */
function startServer(
  command: string,
  args: string[],
  listening: RegExp,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  toAddress: (match: RegExpExecArray) => string = (match) => match[1]!,
): Promise<Server> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise<Server>((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = listening.exec(out);
      if (match) resolve({ child, address: toAddress(match) });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`${args.join(" ")} exited with ${code}: ${out}`)),
    );
  });
}

function stop(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
    server.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill("SIGTERM");
  });
}

interface Outcome {
  code: number;
  output: string;
  lines: string[];
}

if (!beamPython) {
  test("interop with Beam Python's runner", {
    skip: "no Beam Python given: npm run interop -- --beam-python DIR (README: 'Interop with Beam Python')",
  });
} else {
  describe(`Firefly under Beam Python's runner (${beamPython})`, () => {
    const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-interop-"));
    const env = pythonEnvironment(beamPython);
    const python = process.env.FIREFLY_INTEROP_PYTHON ?? "python3";
    let pool: Server | undefined;
    let jobService: Server | undefined;
    let runs = 0;

    /** Runs a node command that writes `--output`; returns its exit code, output and sorted lines. */
    async function runPipeline(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Outcome> {
      const dir = path.join(tempRoot, `run${++runs}`);
      let code = 0;
      let output = "";
      try {
        const r = await run(process.execPath, [...args, `--output=${dir}/out`], {
          cwd: repoRoot,
          env: { ...env, ...extraEnv },
          maxBuffer: 64 << 20,
          timeout: RUN_TIMEOUT_MS,
        });
        output = r.stdout + r.stderr;
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        code = typeof e.code === "number" ? e.code : 1;
        output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
      }
      const lines = fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n"))
            .filter(Boolean)
            .sort()
        : [];
      return { code, output, lines };
    }

    const local = (c: Case) =>
      runPipeline([fireflyBin, "run", c.file, ...(c.args ?? []), "--threads=0", "--quiet"]);
    const fnapi = (c: Case) =>
      runPipeline(
        [path.join(distRoot, "test", "interop", "run-on-fnapi.js"), c.file, ...(c.args ?? [])],
        {
          FIREFLY_INTEROP_POOL: pool!.address,
          FIREFLY_INTEROP_PYTHON: python,
          FIREFLY_INTEROP_USE_STATE_ITERABLES: c.stateIterables ? "1" : "0",
          FIREFLY_INTEROP_SDK_MERGES_SESSIONS: c.sdkMergesSessions ? "1" : "0",
        },
      );
    const jobServer = (c: Case, environment: string[]) =>
      runPipeline([
        fireflyBin,
        "run",
        c.file,
        ...(c.args ?? []),
        "--runner=portable",
        `--job_endpoint=${jobService!.address}`,
        ...environment,
      ]);

    before(async () => {
      pool = await startServer(
        process.execPath,
        [fireflyBin, "pool", "--port=0"],
        /listening on (\S+)/,
      );
      jobService = await startServer(
        python,
        [
          path.join(INTEROP_DIR, "beam_module.py"),
          "apache_beam.runners.portability.local_job_service_main",
          "--port=0",
        ],
        /Grpc server started at (\S+) on port (\d+)/,
        { env, cwd: INTEROP_DIR },
        (match) => `${match[1]}:${match[2]}`,
      );
    });

    after(async () => {
      await stop(jobService);
      await stop(pool);
      fs.rmSync(tempRoot, { recursive: true, force: true });
    });

    for (const c of CASES) {
      const portable = !c.stateIterables && !c.sdkMergesSessions;
      test(`${c.name}: FnApiRunner${portable ? " and the job service (EXTERNAL, LOOPBACK)" : ""} give exactly the local runner's output`, async () => {
        const expected = await local(c);
        assert.equal(expected.code, 0, expected.output);
        assert.ok(expected.lines.length > 0, "the pipeline writes something");
        const onFnApi = await fnapi(c);
        assert.equal(onFnApi.code, 0, onFnApi.output);
        assert.deepEqual(onFnApi.lines, expected.lines, "FnApiRunner + firefly pool");
        if (c.stateIterables) {
          const reads = Number(/runner state reads by the SDK: (\d+)/.exec(onFnApi.output)?.[1]);
          assert.ok(reads > 0, `the values came as state-backed iterables\n${onFnApi.output}`);
        }
        if (c.sdkMergesSessions) {
          const merges = Number(
            /merge_windows bundles run by the SDK: (\d+)/.exec(onFnApi.output)?.[1],
          );
          assert.ok(merges > 0, `the runner asked Firefly to merge windows\n${onFnApi.output}`);
        }
        if (!portable) return;
        const external = await jobServer(c, [
          "--environment_type=EXTERNAL",
          `--environment_config=${pool!.address}`,
        ]);
        assert.equal(external.code, 0, external.output);
        assert.deepEqual(external.lines, expected.lines, "job service, EXTERNAL");
        const loopback = await jobServer(c, ["--environment_type=LOOPBACK"]);
        assert.equal(loopback.code, 0, loopback.output);
        assert.deepEqual(loopback.lines, expected.lines, "job service, LOOPBACK");
      });
    }

    test("a DoFn that throws fails the job with the user's message, on every path", async () => {
      const c: Case = { name: "throwing", file: "test/interop/cases/throwing.mjs" };
      for (const outcome of [
        await fnapi(c),
        await jobServer(c, [
          "--environment_type=EXTERNAL",
          `--environment_config=${pool!.address}`,
        ]),
        await jobServer(c, ["--environment_type=LOOPBACK"]),
      ]) {
        assert.notEqual(outcome.code, 0, outcome.output);
        assert.match(outcome.output, /bad record 3/);
      }
    });
  });
}
