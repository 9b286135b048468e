/**
 * Where a shipped function was written, so that its stack frames on a worker
 * name the user's file and line (`at parse (bad.mjs:4:54)`), not a `data:` URL.
 *
 * The builder runs inside the user's call (`p.create(…).map(fn)`): the files
 * on the current stack are the candidates, and the function's source text
 * (`Function.prototype.toString`, which is the exact text of the file) is
 * looked up in them. Several matches in one file: the first at or after the
 * call, else the last before it. Firefly's own files and Node's internals are
 * skipped; a function found nowhere (defined in a module that is not on the
 * stack, or produced by `eval`) has no location and ships as before.
 *
 * `locatedExpression` then makes the function's text evaluate from a script
 * whose `//# sourceURL` is that file, padded with newlines and spaces so that
 * V8's line and column numbers are the file's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

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
const COMPILED_TS = /^\.(.+\.(?:c|m)?tsx?)\.\d+\.firefly\.mjs$/;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const texts = new Map<string, string | undefined>();

interface CallSite {
  file: string;
  line: number;
  column: number;
}

/** The user's call sites on the current stack (outermost Firefly frames skipped). */
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
    if (FIREFLY_CODE.some((dir) => file.startsWith(dir))) continue;
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

function displayName(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)
    ? relative
    : file;
}

/** Where the function's text is written, if a file on the current stack holds it. */
export function locateSource(source: string): SourceLocation | undefined {
  if (source.length < 8) return undefined; // too short to be told apart from other text
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

const STRICT = '"use strict";';

/**
 * An expression that evaluates `prefix + source + suffix` (an expression whose
 * `source` part is the user's text) in a script of its own: named after the
 * location, with the source at the location's line and column, or, without a
 * location (or when the layout cannot put it there: a function at the very
 * start of its file's first line), named `label` with the source on line 1.
 * Undefined for text that must stay in a module (`import.meta`).
 */
export function locatedExpression(
  source: string,
  prefix: string,
  suffix: string,
  at: SourceLocation | undefined,
  label: string,
): string | undefined {
  if (source.includes("import.meta")) return undefined;
  let head = `${STRICT}${prefix}`;
  let name = label;
  if (at && !/[\n\r\u2028\u2029]/.test(at.file)) {
    const room = at.column - 1 - head.length;
    if (at.line >= 2) {
      head += `${"\n".repeat(at.line - 1)}${" ".repeat(at.column - 1)}`;
      name = at.file;
    } else if (room >= 0) {
      head += " ".repeat(room);
      name = at.file;
    }
  }
  const script = `${head}${source}${suffix}\n//# sourceURL=${name}\n`;
  return `(0, eval)(${JSON.stringify(script)})`;
}
