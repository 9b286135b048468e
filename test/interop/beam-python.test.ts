/**
 * Interop with a runner nobody here wrote: Beam Python 2.50's FnApiRunner and
 * its portable job service run Firefly pipelines, and each output must be
 * exactly the local runner's.
 *
 *   (a) FnApiRunner, Firefly workers from a `firefly pool` (EXTERNAL environment);
 *   (b) Beam Python's job service (local_job_service_main) with Firefly's
 *       portable client, EXTERNAL (the same pool) and LOOPBACK;
 *   (c) cross-language: Python transforms expanded by Beam Python's expansion
 *       service inside Firefly pipelines, run on (a) and (b) with the Python
 *       steps on Beam Python's worker pool (worker_pool_main), exact results.
 *
 * Needs Beam Python: FIREFLY_BEAM_PYTHON=DIR (`npm run interop -- --beam-python DIR`),
 * where DIR has an env.sh that sets up Beam's Python environment, or is a Beam
 * source tree (DIR/sdks/python goes on PYTHONPATH). Without it the suite skips
 * with one line (CI has no Beam Python).
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
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
  /** FnApiRunner sends ProcessBundleSplit requests to a stage's bundle (Beam's direct_test_splits). */
  testSplits?: Record<string, { timings: number[]; fractions: number[] }>;
  /** FnApiRunner expands splittable DoFns as for a drain (truncate before process). */
  drain?: boolean;
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
  {
    name: "schema rows in batches: decoded into columns, nulls kept, encoded from columns",
    file: "test/interop/cases/batch-rows.mjs",
  },
  example("numeric-features.mjs", ["--rows=20000"]),
  {
    name: "a splittable DoFn: restrictions split, sized and checkpointed",
    file: "test/interop/cases/splittable.mjs",
  },
  {
    name: "a splittable DoFn expanded for a drain (truncate sized restrictions)",
    file: "test/interop/cases/splittable.mjs",
    drain: true,
  },
  {
    name: "a splittable DoFn split by the runner while it runs",
    file: "test/interop/cases/splittable-splits.mjs",
    testSplits: {
      Range: { timings: [0.5, 1.0, 1.5, 2.0], fractions: [0.5, 0.5, 0.3, 0.5] },
    },
  },
  {
    name: "sessions merged by Firefly's merge_windows",
    file: "examples/snippets/windows.mjs",
    sdkMergesSessions: true,
  },
];

/** A pipeline with Python transforms, and its exact output (sorted lines). */
interface XlangCase {
  name: string;
  file: string;
  expected: string[];
}

const XLANG_CASES: XlangCase[] = [
  {
    name: "xlang: Python Count.PerElement, its KV output written by Firefly",
    file: "test/interop/cases/xlang-count.mjs",
    expected: ['{"key":"a","value":3}', '{"key":"b","value":2}', '{"key":"c","value":1}'],
  },
  {
    name: "xlang: Python Map with a callable and a requested output coder",
    file: "test/interop/cases/xlang-map.mjs",
    expected: [1001, 1004, 1009, 1016, 1025].map((n) => `square+1000: ${n}`),
  },
  {
    name: "xlang: a Python transform between two Firefly ParDos",
    file: "test/interop/cases/xlang-between.mjs",
    expected: ["dog: 1", "fox: 2", "lazy: 1", "quick: 1", "the: 3"],
  },
  {
    // The README's example (test/examples cannot run it: it needs Beam Python).
    name: "xlang: examples/xlang/python-wordcount.mjs (Firefly → Count.PerElement → Map → Firefly)",
    file: "examples/xlang/python-wordcount.mjs",
    expected: [
      "brown: 1",
      "dog: 1",
      "fox: 1",
      "jumps: 1",
      "lazy: 1",
      "over: 1",
      "quick: 1",
      "the: 2",
    ],
  },
];

/** A port free on 127.0.0.1 now (for Beam servers that print no address). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when 127.0.0.1:port accepts connections (polls for up to 60 s). */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server for port ${port} exited`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(true));
      socket.once("error", () => resolve(false));
    }).finally(() => undefined);
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Starts a Beam Python server module on a free port given by `portFlag`. */
async function startPythonServer(
  python: string,
  env: NodeJS.ProcessEnv,
  module: string,
  portFlag: string,
  args: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    python,
    [path.join(INTEROP_DIR, "beam_module.py"), module, `${portFlag}=${port}`, ...args],
    { env, cwd: INTEROP_DIR, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.resume();
  await waitForPort(port, child);
  return { child, address: `127.0.0.1:${port}` };
}

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
    let expansionService: Server | undefined;
    let pythonPool: Server | undefined;
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
          FIREFLY_INTEROP_TEST_SPLITS: c.testSplits ? JSON.stringify(c.testSplits) : "",
          FIREFLY_INTEROP_DRAIN: c.drain ? "1" : "0",
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
      expansionService = await startPythonServer(
        python,
        env,
        "apache_beam.runners.portability.expansion_service_main",
        "--port",
        ["--fully_qualified_name_glob=*"],
      );
      pythonPool = await startPythonServer(
        python,
        env,
        "apache_beam.runners.worker.worker_pool_main",
        "--service_port",
      );
    });

    after(async () => {
      await stop(expansionService);
      await stop(pythonPool);
      await stop(jobService);
      await stop(pool);
      fs.rmSync(tempRoot, { recursive: true, force: true });
    });

    for (const c of CASES) {
      const portable = !c.stateIterables && !c.sdkMergesSessions && !c.testSplits && !c.drain;
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
        if (c.testSplits) {
          const residuals = Number(/with residual roots: (\d+)/.exec(onFnApi.output)?.[1]);
          assert.ok(
            residuals > 0,
            `Firefly handed work back to the runner's splits\n${onFnApi.output}`,
          );
        }
        if (c.drain) {
          const truncates = Number(/truncate steps: (\d+)/.exec(onFnApi.output)?.[1]);
          assert.ok(truncates > 0, `the runner expanded a truncate step\n${onFnApi.output}`);
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

    for (const c of XLANG_CASES) {
      test(`${c.name}: exact output on FnApiRunner and the job service (EXTERNAL, LOOPBACK), Python steps on Beam's worker pool`, async () => {
        const xlang = {
          name: c.name,
          file: c.file,
          args: [`--expansion_service=${expansionService!.address}`],
        };
        const onFnApi = await runPipeline(
          [path.join(distRoot, "test", "interop", "run-on-fnapi.js"), c.file, ...xlang.args],
          {
            FIREFLY_INTEROP_POOL: pool!.address,
            FIREFLY_INTEROP_PYTHON_POOL: pythonPool!.address,
            FIREFLY_INTEROP_PYTHON: python,
          },
        );
        assert.equal(onFnApi.code, 0, onFnApi.output);
        assert.deepEqual(
          onFnApi.lines,
          c.expected,
          "FnApiRunner, firefly pool + Python worker pool",
        );
        const overrides = `--environment_overrides=*=${pythonPool!.address}`;
        const external = await jobServer(xlang, [
          "--environment_type=EXTERNAL",
          `--environment_config=${pool!.address}`,
          overrides,
        ]);
        assert.equal(external.code, 0, external.output);
        assert.deepEqual(external.lines, c.expected, "job service, EXTERNAL");
        const loopback = await jobServer(xlang, ["--environment_type=LOOPBACK", overrides]);
        assert.equal(loopback.code, 0, loopback.output);
        assert.deepEqual(loopback.lines, c.expected, "job service, LOOPBACK");
      });
    }

    test("xlang: Firefly's local runner refuses a Python step, naming it", async () => {
      const outcome = await runPipeline([
        fireflyBin,
        "run",
        "test/interop/cases/xlang-between.mjs",
        `--expansion_service=${expansionService!.address}`,
        "--quiet",
      ]);
      assert.equal(outcome.code, 1, outcome.output);
      assert.match(outcome.output, /step "Count\.PerElement" .* cross-language transform/);
      assert.match(outcome.output, /--runner=portable/);
    });

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
