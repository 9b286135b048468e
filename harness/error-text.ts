/**
 * Renders a failure for people, once: the string an `InstructionResponse.error`
 * carries, a pool thread hands to the conductor, the local runner prints and a
 * portable runner shows. User code failures read
 *
 *     step "Map(parse)" failed in process: Error: bad record 3
 *       element: 3
 *         at parse (bad.mjs:4:54)
 *
 * (the step, the method, the error once, the element, the user's frames);
 * harness frames appear only with `verbose`. Other errors keep their message
 * and cause chain (repeats dropped); their stack only with `verbose`.
 */
import { fileURLToPath } from "node:url";
import { OperationError, UserCodeError, safeString, thrownSummary } from "../operations/errors.js";

export interface DescribeOptions {
  /** Show harness frames and the stacks of non-user errors (pipeline option `verbose`). @default false */
  verbose?: boolean;
}

/** Marks an error whose message is a finished rendering (it crossed from a pool thread). */
const RENDERED = "firefly:rendered-failure";

/**
 * An error whose message is already rendered (by `describeError` in a pool
 * thread). Its `cause` carries the mark and the transform id: `cause`, unlike
 * `name`, survives structured cloning, so the conductor knows not to wrap it.
 */
export function renderedError(text: string, transformId?: string): Error {
  return new Error(text, { cause: { mark: RENDERED, transformId } });
}

/** True for an error made by `renderedError` (also after crossing a thread). */
export function isRendered(err: unknown): err is Error & { cause: { transformId?: string } } {
  return (
    err instanceof Error &&
    typeof err.cause === "object" &&
    err.cause !== null &&
    (err.cause as { mark?: unknown }).mark === RENDERED
  );
}

/** True when the pipeline options ask for verbose errors (`--verbose`). */
export function verboseErrors(options: Readonly<Record<string, unknown>> | undefined): boolean {
  const v = options?.verbose;
  return v === true || v === "true" || v === "1";
}

/**
 * The message a worker logs a failed instruction with (its rendered error in
 * the `error` field); a runner that reports the response's error itself can
 * leave these entries out instead of saying the error twice.
 */
export const INSTRUCTION_FAILED = "instruction failed";

const MAX_CAUSES = 8;

export function describeError(err: unknown, options: DescribeOptions = {}): string {
  const verbose = options.verbose ?? false;
  let current = err;
  const wrappers: string[] = [];
  // Bundle wrappers add only the instruction id (the response's own): say it once, at most.
  while (isWrapper(current)) {
    if (!isRendered(current.cause) && !(current.cause instanceof UserCodeError))
      wrappers.push(current.message);
    current = current.cause;
  }
  const body = isRendered(current)
    ? current.message
    : current instanceof UserCodeError
      ? describeUserCodeError(current, verbose)
      : describeOther(current, verbose);
  return wrappers.length > 0 ? `${wrappers.join(": ")}: ${body}` : body;
}

/** A BundleError (by name: the class lives in harness/errors.ts) that wraps a cause. */
function isWrapper(err: unknown): err is Error & { cause: unknown } {
  return err instanceof Error && err.name === "BundleError" && "cause" in err;
}

function describeUserCodeError(err: UserCodeError, verbose: boolean): string {
  const step = err.stepName ?? err.transformId;
  const where =
    step === err.transformId
      ? `step ${JSON.stringify(step)}`
      : `step ${JSON.stringify(step)} (transform ${JSON.stringify(err.transformId)})`;
  const lines = [`${where} failed in ${err.method}: ${thrownSummary(err.cause)}`];
  lines.push(...causeLines(err.cause));
  if (err.elementPreview !== undefined) lines.push(`  element: ${err.elementPreview}`);
  const stack = err.cause instanceof Error ? err.cause.stack : undefined;
  lines.push(...frames(stack, verbose));
  return lines.join("\n");
}

function describeOther(err: unknown, verbose: boolean): string {
  const lines = [thrownSummary(err), ...causeLines(err)];
  if (!(err instanceof Error)) return lines.join("\n");
  if (verbose) {
    lines.push(...frames(innermostStack(err), true));
  } else if (!isNamedFailure(err)) {
    // An unexpected error (a bug, not a bad input): say where, and how to see more.
    const top = frames(innermostStack(err), true)[0];
    if (top) lines.push(top, "    (run with --verbose for the whole stack)");
  }
  return lines.join("\n");
}

/** Errors whose message says all an operator needs (they name the transform or the request). */
function isNamedFailure(err: Error): boolean {
  return (
    err instanceof OperationError ||
    [
      "ProtocolError",
      "TransportError",
      "IllegalStateError",
      "UserCodeSpecError",
      "BundleError",
    ].includes(err.name)
  );
}

/** `caused by:` lines of an error's cause chain, without repeats of what was already said. */
function causeLines(err: unknown): string[] {
  const said = [thrownSummary(err)];
  const lines: string[] = [];
  let current = err;
  for (let depth = 0; depth < MAX_CAUSES; depth++) {
    if (!(current instanceof Error) || !("cause" in current) || isRendered(current)) break;
    current = current.cause;
    const text = thrownSummary(current);
    const message = current instanceof Error ? current.message : safeString(current);
    // `Error: UserCodeError: …` re-wrappings say again what an outer line said.
    if (said.some((s) => s === text || (message !== "" && s.includes(message)))) continue;
    said.push(text);
    lines.push(`  caused by: ${text}`);
  }
  return lines;
}

function innermostStack(err: Error): string | undefined {
  let stack = err.stack;
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSES && current instanceof Error; depth++) {
    stack = current.stack ?? stack;
    current = current.cause;
  }
  return stack;
}

/** Firefly's compiled code (this file is `dist/harness/error-text.js`) and its own packages. */
const FIREFLY_CODE = ["coders", "harness", "operations", "proto", "src"].map((dir) =>
  fileURLToPath(new URL(`../${dir}/`, import.meta.url)),
);
const FIREFLY_PACKAGES = fileURLToPath(new URL("../../node_modules/", import.meta.url));
const FRAME = /^\s+at (?:async )?(?:(.*) \((.*)\)|(.*))$/;

/** The stack's frames, as `    at …` lines: the user's only, unless `all`. */
export function frames(stack: string | undefined, all: boolean): string[] {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split("\n")) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const location = match[2] ?? match[3] ?? "";
    if (!all && !isUserFrame(location)) continue;
    out.push(`    ${line.trim().replace(/data:[^\s)]*/g, "<inline source>")}`);
  }
  return out;
}

/** A frame of user code: not Firefly's own files, Node's internals, the thread pool, or shipped glue. */
export function isUserFrame(location: string): boolean {
  if (location === "" || location === "<anonymous>" || location.startsWith("index ")) return false;
  if (location.startsWith("node:") || location.startsWith("firefly:")) return false;
  let file = location;
  if (file.startsWith("file://")) {
    try {
      file = fileURLToPath(file.replace(/(:\d+)+$/, ""));
    } catch {
      return true;
    }
  }
  return (
    !FIREFLY_CODE.some((dir) => file.startsWith(dir)) &&
    !file.startsWith(FIREFLY_PACKAGES) &&
    !file.includes("/node_modules/piscina/")
  );
}
