/**
 * Where a shipped function was written, so that its stack frames on a worker
 * name the user's file and line (`at parse (bad.mjs:4:54)`), not a `data:` URL.
 *
 * The builder runs inside the user's call (`p.create(…).map(fn)`): the files
 * on the current stack are the candidates, and the function's source text
 * (`Function.prototype.toString`, which is the exact text of the file) is
 * looked up in them. Several matches in one file: the first at or after the
 * call, else the last before it. Firefly's own files and Node's internals are
 * skipped. A function written in a module that is not on the stack (an
 * imported helper) is found where V8 says it is defined (function-location.ts);
 * one found nowhere (made by `eval`, or a `.ts` file's function whose compiled
 * text differs) is named `shipped:<name>`, its lines counted from its own text.
 *
 * `locatedExpression` then makes the function's text evaluate from a script
 * whose `//# sourceURL` is that file, padded with newlines and spaces so that
 * V8's line and column numbers are the file's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { definitionOf } from "./function-location.js";

export interface SourceLocation {
  /** The file as people read it: relative to the working directory when inside it, else absolute. */
  file: string;
  /** 1-based line and column (UTF-16 code units, as V8 counts them). */
  line: number;
  column: number;
}

/** Firefly's own compiled code (this file is `dist/src/pipeline/source-location.js`). */
const FIREFLY_CODE = ["coders", "harness", "operations", "proto", "src"].map((dir) =>
  fileURLToPath(new URL(`../../${dir}/`, import.meta.url)),
);
const FRAME_LOCATION = /\(?((?:file:\/\/)?\/[^()]*?|[A-Za-z]:\\[^()]*?):(\d+):(\d+)\)?$/;
const DIST = fileURLToPath(new URL("../../", import.meta.url));
const COMPILED_TS = /^\.(.+\.(?:c|m)?tsx?)\.\d+\.firefly\.mjs$/;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const texts = new Map<string, string | undefined>();

interface CallSite {
  file: string;
  line: number;
  column: number;
}

/** The call sites on the current stack, innermost first (Firefly's own included). */
function callSites(): CallSite[] {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = saved;
  const sites: CallSite[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME_LOCATION.exec(line.trim());
    if (!match) continue;
    let file = match[1];
    if (file.startsWith("file://")) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    sites.push({ file, line: Number(match[2]), column: Number(match[3]) });
  }
  return sites;
}

function fileText(file: string): string | undefined {
  if (texts.has(file)) return texts.get(file);
  let text: string | undefined;
  try {
    if (fs.statSync(file).size <= MAX_FILE_BYTES) text = fs.readFileSync(file, "utf8");
  } catch {
    text = undefined;
  }
  texts.set(file, text);
  return text;
}

/** Offset of a 1-based line and column in a text. */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset + column - 1;
}

/** 1-based line and column of an offset (line ends as V8 counts them). */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const ends = /\r\n|[\n\r\u2028\u2029]/g;
  for (let m = ends.exec(text); m !== null && m.index < offset; m = ends.exec(text)) {
    line++;
    lineStart = m.index + m[0].length;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The file as people read it. Firefly's own (functions its composites ship)
 * are `firefly:src/…`, which error messages leave out as harness frames.
 */
function displayName(file: string): string {
  if (FIREFLY_CODE.some((dir) => file.startsWith(dir)))
    return `firefly:${path.relative(DIST, file).split(path.sep).join("/")}`;
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)
    ? relative
    : file;
}

/** Where the function's text is written, if a file on the current stack holds it. */
export function locateSource(source: string, fn?: unknown): SourceLocation | undefined {
  if (source.length < 8) return undefined; // too short to be told apart from other text
  return onStack(source) ?? definedAt(source, fn);
}

/** In a file on the stack: the first match at or after the call, else the last before it. */
function onStack(source: string): SourceLocation | undefined {
  const seen = new Set<string>();
  for (const site of callSites()) {
    if (seen.has(site.file)) continue;
    seen.add(site.file);
    // `firefly run x.ts` imports a compiled copy (.x.ts.<pid>.firefly.mjs, deleted after):
    // look in the TypeScript file itself (a function without types reads the same there).
    const compiled = COMPILED_TS.exec(path.basename(site.file));
    if (compiled) site.file = path.join(path.dirname(site.file), compiled[1]);
    const text = fileText(site.file);
    if (text === undefined) continue;
    const first = text.indexOf(source);
    if (first < 0) continue;
    const call = offsetOf(text, site.line, site.column);
    let chosen = first;
    for (let at = first; at >= 0; at = text.indexOf(source, at + 1)) {
      chosen = at;
      if (at >= call) break;
    }
    return { file: displayName(site.file), ...positionOf(text, chosen) };
  }
  return undefined;
}

/** Where V8 says the function is defined (a module not on the stack, e.g. an imported helper). */
function definedAt(source: string, fn: unknown): SourceLocation | undefined {
  const defined = definitionOf(fn);
  if (!defined) return undefined;
  const text = fileText(defined.file);
  if (text === undefined) return undefined;
  // V8 points inside the text (at the parameters): take the match that holds that point.
  const inside = offsetOf(text, defined.line, defined.column);
  for (let at = text.indexOf(source); at >= 0 && at <= inside; at = text.indexOf(source, at + 1))
    if (inside < at + source.length)
      return { file: displayName(defined.file), ...positionOf(text, at) };
  return undefined;
}

/**
 * An expression that evaluates `prefix + source + suffix` (an expression whose
 * `source` part is the user's text) as a script of its own, by direct `eval`
 * (strict, as the shipped module is): named after the location, with the
 * source at its line and column; or, given a label instead, named by it with
 * the source on line 1. Undefined when the prefix does not fit before the
 * location's column on line 1, and for text that must stay in a module
 * (`import.meta`).
 */
export function locatedExpression(
  source: string,
  prefix: string,
  suffix: string,
  at: SourceLocation | string,
): string | undefined {
  if (source.includes("import.meta")) return undefined;
  let head = prefix;
  let name: string;
  if (typeof at === "string") {
    name = at;
  } else {
    if (/[\s]/.test(at.file)) return undefined;
    if (at.line >= 2) head += `${"\n".repeat(at.line - 1)}${" ".repeat(at.column - 1)}`;
    else if (at.column - 1 >= prefix.length) head += " ".repeat(at.column - 1 - prefix.length);
    else return undefined;
    name = at.file;
  }
  return `eval(${JSON.stringify(`${head}${source}${suffix}\n//# sourceURL=${name}\n`)})`;
}
