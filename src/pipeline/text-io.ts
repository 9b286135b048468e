/**
 * The shipped code of `readText` and `writeText` (file IO with node:fs in
 * the worker, so paths are resolved when the pipeline is built).
 *   readText(glob):  Impulse → ExpandGlob (file names) → Reshuffle → ReadLines
 *   writeText(prefix, {shards}): AssignShards (+ one empty seed per shard) →
 *     GroupByKey → WriteShards (`<prefix>-00000-of-00003<suffix>`, written to a
 *     temporary file and renamed; every shard is written, empty or not).
 * Lines end at `\n`, `\r\n` or `\r`; written lines end with `\n`. Elements
 * that are not strings are written as JSON.
 */
import type { UserCodePayload } from "./ship-function.js";

const module = (source: string, config: unknown): UserCodePayload => ({
  source,
  export: "default",
  config,
});

/** Expands a glob (`*`, `?` within a path segment, `**` across segments) into sorted file names. */
export const expandGlobDoFn = (pattern: string): UserCodePayload =>
  module(
    `import * as fs from "node:fs";
import * as path from "node:path";

const WILD = /[*?]/;
const escape = (s) => s.replace(/[.+^\${}()|[\\]\\\\]/g, "\\\\$&");
function toRegExp(glob) {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") { out += ".*"; i++; if (glob[i + 1] === "/") i++; }
    else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += escape(c);
  }
  return new RegExp("^" + out + "$");
}
function* walk(dir) {
  let entries;
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile()) yield full;
  }
}
export default {
  process(_impulse, ctx) {
    const pattern = ctx.config.pattern;
    if (!WILD.test(pattern)) {
      if (!fs.statSync(pattern, { throwIfNoEntry: false })?.isFile())
        throw new Error("readText: no file " + JSON.stringify(pattern));
      return [pattern];
    }
    const segments = pattern.split("/");
    const firstWild = segments.findIndex((s) => WILD.test(s));
    const base = segments.slice(0, firstWild).join("/") || "/";
    const re = toRegExp(segments.slice(firstWild).join("/"));
    const files = [];
    for (const file of walk(base)) {
      if (re.test(path.relative(base, file).split(path.sep).join("/"))) files.push(file);
    }
    return files.sort();
  },
};
`,
    { pattern },
  );

/** Reads a file's lines (streamed). */
export const readLinesDoFn = (): UserCodePayload =>
  module(
    `import * as fs from "node:fs";
import * as readline from "node:readline";

export default async function* readLines(file) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) yield line;
}
`,
    {},
  );

/** One empty seed per shard, so every shard file is written. */
export const shardSeedsDoFn = (shards: number): UserCodePayload =>
  module(
    `export default (_impulse, ctx) => Array.from({ length: ctx.config.shards }, (_, key) => ({ key, value: null }));\n`,
    { shards },
  );

/** Keys each element by a shard (round robin from a random start per bundle). */
export const assignShardsDoFn = (shards: number): UserCodePayload =>
  module(
    `export default {
  startBundle(ctx) { this.next = Math.floor(Math.random() * ctx.config.shards); },
  process(x, ctx) {
    const key = this.next;
    this.next = (this.next + 1) % ctx.config.shards;
    return [{ key, value: typeof x === "string" ? x : JSON.stringify(x) }];
  },
};
`,
    { shards },
  );

/** Writes one shard's lines; emits the file name. */
export const writeShardsDoFn = (prefix: string, suffix: string, shards: number): UserCodePayload =>
  module(
    `import * as fs from "node:fs";
import * as path from "node:path";

export default (shard, ctx) => {
  const { prefix, suffix, shards } = ctx.config;
  const pad = (n) => String(n).padStart(5, "0");
  const file = prefix + "-" + pad(shard.key) + "-of-" + pad(shards) + suffix;
  const lines = shard.value.filter((line) => line !== null);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + ".tmp-" + process.pid + "-" + Math.random().toString(36).slice(2);
  fs.writeFileSync(tmp, lines.length === 0 ? "" : lines.join("\\n") + "\\n");
  fs.renameSync(tmp, file);
  return [file];
};
`,
    { prefix, suffix, shards },
  );
