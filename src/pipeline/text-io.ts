/**
 * The shipped code of `readText` and `writeText` (file IO with node:fs in
 * the worker, so paths are resolved when the pipeline is built).
 *   readText(glob):  Impulse → ExpandGlob (file names) → Reshuffle → ReadLines
 *     (a splittable DoFn over byte ranges: large files are read in parallel)
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

/**
 * The `splitRestriction` method of Firefly's own splittable sources (shipped
 * as text): an offset range cut into pieces of `ctx.config[name]` offsets.
 */
export const splitByConfig = (name: string): string => `splitRestriction(_element, range, ctx) {
    const step = BigInt(ctx.config.${name});
    const parts = [];
    for (let start = range.start; start < range.stop; start += step)
      parts.push({ start, stop: start + step < range.stop ? start + step : range.stop });
    return parts;
  },`;

/** How many bytes of a file one restriction of `readText` covers (files larger than this are read in parallel). */
export const DEFAULT_READ_SPLIT_BYTES = 32 * 1024 * 1024;

/**
 * Reads a file's lines as a splittable DoFn: the restriction is a byte range
 * of the file, cut into `splitBytes` pieces, and a line belongs to the piece
 * holding its first byte (a line starts at 0 or right after `\n`, `\r\n` or a
 * lone `\r`). Each piece seeks to its first line start, then claims every
 * line start it reads; lines may run past the piece's end.
 */
export const readLinesDoFn = (splitBytes = DEFAULT_READ_SPLIT_BYTES): UserCodePayload =>
  module(
    `import * as fs from "node:fs";

const CHUNK = 256 * 1024;
const LF = 10, CR = 13;

/**
 * Where the line starting at index i of buf ends: [end of its text, start of
 * the next line], or undefined when that needs bytes not read yet.
 */
function lineEnd(buf, i, eof) {
  const n = buf.length;
  let k = i;
  while (k < n) {
    const b = buf[k];
    if (b === LF) return [k, k + 1];
    if (b === CR) {
      if (k + 1 < n) return [k, buf[k + 1] === LF ? k + 2 : k + 1];
      return eof ? [k, k + 1] : undefined;
    }
    k++;
  }
  return undefined;
}

export default {
  initialRestriction(file) {
    return { start: 0n, stop: BigInt(fs.statSync(file).size) };
  },
  ${splitByConfig("splitBytes")}
  async process(file, ctx) {
    const tracker = ctx.tracker;
    const start = Number(tracker.currentRestriction().start);
    const fd = await fs.promises.open(file, "r");
    try {
      let base = start > 0 ? start - 1 : 0; // the file offset of buf[0]
      let buf = Buffer.alloc(0);
      let eof = false;
      const fill = async () => {
        const chunk = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await fd.read(chunk, 0, CHUNK, base + buf.length);
        if (bytesRead === 0) eof = true;
        else {
          const got = chunk.subarray(0, bytesRead);
          buf = buf.length === 0 ? got : Buffer.concat([buf, got]);
        }
      };
      let i = 0; // index in buf of the next line start
      if (start > 0) {
        // The line holding byte start-1 (buf[0]) belongs to the range before.
        while (buf.length < 2 && !eof) await fill();
        const before = buf[0];
        if (before === LF) i = 1;
        else if (before === CR) i = buf[1] === LF ? 2 : 1;
        else {
          let r;
          while ((r = lineEnd(buf, 0, eof)) === undefined && !eof) await fill();
          i = r === undefined ? buf.length : r[1];
        }
      }
      for (;;) {
        const r = lineEnd(buf, i, eof);
        if (r === undefined) {
          if (!eof) {
            buf = buf.subarray(i);
            base += i;
            i = 0;
            await ctx.flushOutputs(); // downstream took this chunk's lines
            await fill();
            continue;
          }
          // The end of the file: a last line without a terminator, then nothing.
          if (i < buf.length && tracker.tryClaim(BigInt(base + i)))
            ctx.output(buf.toString("utf8", i, buf.length));
          if (tracker.tryClaim(BigInt(base + buf.length))) tracker.tryClaim(BigInt(Number.MAX_SAFE_INTEGER));
          break;
        }
        if (!tracker.tryClaim(BigInt(base + i))) break;
        ctx.output(buf.toString("utf8", i, r[0]));
        i = r[1];
      }
    } finally {
      await fd.close();
    }
  },
};
`,
    { splitBytes },
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
