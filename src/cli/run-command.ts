/**
 * `firefly run <file.(m)js|ts> [options]`: loads a module that builds a
 * pipeline (and runs it with `pipeline.run()`, or exports it as default, or
 * exports a function returning it), runs it on the local runner unless
 * `--runner` says otherwise, shows a progress line on a TTY, prints a summary
 * and exits non-zero when the pipeline failed. The options after the file
 * are the pipeline's command line (`new Pipeline()` reads them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { frames } from "../../harness/error-text.js";
import { failureLines } from "../runner/failure-text.js";
import type { PipelineResult, Progress } from "../runner/index.js";
import type { Command } from "./main.js";

const USAGE =
  "usage: firefly run <file.(m)js|ts> [--threads=N] [--workers=N] [--quiet] [pipeline options]";

interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
  /** The progress line (a TTY's stderr), or undefined for none. */
  progress: ((line: string) => void) | undefined;
}

function defaultOutput(quiet: boolean): Output {
  const tty = process.stderr.isTTY === true && !quiet;
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: tty ? (line) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function progressLine(p: Progress): string {
  return `[${p.node}/${p.nodes}] ${p.name.slice(0, 60)} · ${p.elements.toLocaleString("en-US")} elements · ${seconds(p.elapsedMs)}`;
}

/** The summary `firefly run` prints for one pipeline run. */
export function formatSummary(result: PipelineResult): string[] {
  const lines: string[] = [];
  if (result.state === "DONE") {
    lines.push(`Pipeline DONE in ${seconds(result.durationMs)} (${result.stages.length} steps)`);
  } else {
    // The error first, in one block: its message, then the element and the user's frames.
    const [message, ...details] = failureLines(result.error);
    lines.push(`Pipeline FAILED after ${seconds(result.durationMs)}: ${message}`);
    const transform = result.error?.transform;
    if (transform && !message.includes(JSON.stringify(transform)))
      lines.push(`  transform: ${transform}`);
    lines.push(...details.map((l) => (l.startsWith("  ") ? l : `  ${l}`)));
  }
  if (result.stages.length > 0) {
    const width = Math.min(60, Math.max(10, ...result.stages.map((s) => s.name.length)));
    lines.push(
      `  ${"step".padEnd(width)} ${"in".padStart(10)} ${"out".padStart(10)} ${"bundles".padStart(8)}`,
    );
    for (const s of result.stages) {
      const bundles = s.kind === "stage" ? String(s.bundles) : "-";
      const note = [
        s.timersFired > 0 ? `${s.timersFired} timers` : "",
        s.residualsResumed ? `${s.residualsResumed} checkpoints resumed` : "",
        s.dynamicSplits ? `${s.dynamicSplits} dynamic splits` : "",
        s.note ?? "",
      ]
        .filter(Boolean)
        .join("; ");
      lines.push(
        `  ${s.name.slice(0, width).padEnd(width)} ${s.inputElements.toLocaleString("en-US").padStart(10)} ${s.outputElements.toLocaleString("en-US").padStart(10)} ${bundles.padStart(8)}${note ? `  (${note})` : ""}`,
      );
    }
  }
  if (result.metrics.length > 0) {
    lines.push("  user metrics:");
    for (const m of result.metrics) {
      const value =
        m.kind === "distribution"
          ? `count=${m.count} sum=${m.sum} min=${m.min} max=${m.max}`
          : String(m.value);
      lines.push(`    ${m.transform} ${m.namespace}/${m.name} (${m.kind}): ${value}`);
    }
  }
  return lines;
}

interface PipelineLike {
  run(): Promise<unknown>;
  toProto(): unknown;
}

function isPipeline(value: unknown): value is PipelineLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PipelineLike).run === "function" &&
    typeof (value as PipelineLike).toProto === "function"
  );
}

/** Imports a .js/.mjs module, or a .ts one (transpiled with the `typescript` package). */
/**
 * An error of the pipeline module itself (a build error such as an
 * unshippable function): its message and the user's frames (the line that
 * built the transform), Firefly's frames too with --verbose.
 */
function buildFailure(err: unknown, verbose: boolean): string {
  if (!(err instanceof Error)) return String(err);
  const own = frames(err.stack, verbose);
  return [
    `${err.name}: ${err.message}`,
    ...(own.length > 0 ? own : frames(err.stack, true).slice(0, 1)),
  ].join("\n");
}

async function importUserModule(file: string): Promise<Record<string, unknown>> {
  if (!/\.(c|m)?tsx?$/.test(file))
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  let ts: typeof import("typescript");
  try {
    ts = (await import("typescript")).default;
  } catch {
    throw new Error(
      `${file} is TypeScript: install the "typescript" package next to firefly-beam, or compile it to .mjs first`,
    );
  }
  const output = ts.transpileModule(fs.readFileSync(file, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  }).outputText;
  // Next to the source, so its relative imports and packages resolve as they would.
  const compiled = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.firefly.mjs`,
  );
  fs.writeFileSync(compiled, output);
  try {
    return (await import(pathToFileURL(compiled).href)) as Record<string, unknown>;
  } finally {
    fs.rmSync(compiled, { force: true });
  }
}

export async function runFile(args: string[], output?: Output): Promise<number> {
  const [file, ...rest] = args;
  const quiet = rest.includes("--quiet") || rest.includes("--quiet=true");
  const io = output ?? defaultOutput(quiet);
  if (!file || file.startsWith("-")) {
    io.err(USAGE);
    return 2;
  }
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile()) {
    io.err(`firefly run: no such file: ${file}`);
    return 2;
  }
  // Loaded here, not at CLI start: `firefly boot` does not need the runner.
  const { setRunObserver } = await import("../runner/index.js");
  const results: PipelineResult[] = [];
  let progressShown = false;
  setRunObserver({
    onProgress: io.progress
      ? (p) => {
          progressShown = true;
          io.progress?.(progressLine(p));
        }
      : undefined,
    onResult: (r) => {
      if (progressShown) io.progress?.("");
      progressShown = false;
      results.push(r);
    },
  });
  // Runs on other runners (--runner=portable ...) report themselves; count them here.
  const { onPipelineRun } = await import("../pipeline/index.js");
  const otherResults: PipelineResult[] = [];
  const stopListening = onPipelineRun((runner, result) => {
    if (runner !== "local") otherResults.push(result as PipelineResult);
  });
  const savedArgv = process.argv;
  process.argv = [savedArgv[0], resolved, ...rest];
  try {
    const mod = await importUserModule(resolved);
    if (results.length === 0 && otherResults.length === 0) {
      let exported = mod.default;
      if (typeof exported === "function" && !isPipeline(exported))
        exported = await (exported as () => unknown)();
      if (isPipeline(exported)) await exported.run();
    }
  } catch (err) {
    if (progressShown) io.progress?.("");
    const verbose = rest.some((a) => a === "--verbose" || a === "--verbose=true");
    io.err(`firefly run: ${file} failed: ${buildFailure(err, verbose)}`);
    return 1;
  } finally {
    process.argv = savedArgv;
    setRunObserver(undefined);
    stopListening();
  }
  if (results.length === 0 && otherResults.length === 0) {
    io.err(
      `firefly run: ${file} built no pipeline: call pipeline.run() in the module, or export the Pipeline (or a function returning one) as its default export`,
    );
    return 2;
  }
  for (const r of results)
    for (const line of formatSummary(r)) (r.state === "DONE" ? io.out : io.err)(line);
  for (const r of otherResults) (r.state === "DONE" ? io.out : io.err)(`Pipeline ${r.state}`);
  return [...results, ...otherResults].every((r) => r.state === "DONE") ? 0 : 1;
}

export const runCommand: Command = {
  name: "run",
  summary: "run a pipeline module on the local runner (firefly run <file.(m)js|ts> [options])",
  usage: `${USAGE}

Runs a pipeline module (it builds a Pipeline from firefly-beam/pipeline and runs
it) on the local runner unless --runner says otherwise, with a progress line on
a terminal and a summary. The options after the file are the pipeline's options.
Exit code 0 done, 1 failed, 2 usage.

options:
  --runner=local|portable  where the pipeline runs                default local
  --threads=N              bundle threads per worker (0 = inline) default one per core
  --workers=N              worker processes (local runner)        default in-process
  --quiet                  no progress line
  --verbose                Firefly's stack frames in errors; worker warnings
  --help, -h               print this help (before the file)`,
  run: (args) => {
    // `firefly run … | head` closes stdout early: stop writing, do not crash.
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
    return runFile(args);
  },
};
