#!/usr/bin/env node
// Generates TypeScript from the Beam model protos in proto/*.proto into proto/gen/.
//
//   node scripts/proto-gen.mjs           regenerate proto/gen/
//   node scripts/proto-gen.mjs --check   regenerate into a temp dir and exit 1 if
//                                        anything differs from proto/gen/
//
// Uses protoc (Debian's protobuf-compiler; the well-known types come from its
// include dir) and the npm plugin protoc-gen-ts 0.8.7 (target=node: classes on
// google-protobuf plus @grpc/grpc-js clients and service definitions). The
// plugin's relative imports lack the `.js` extension that ES modules under
// NodeNext need; they are rewritten here. The output is deterministic: no
// timestamps or absolute paths.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = path.join(root, "proto");
const genDir = path.join(protoDir, "gen");
const plugin = path.join(root, "node_modules", "protoc-gen-ts", "protoc-gen-ts.js");
const check = process.argv.includes("--check");

/** Well-known types the Beam protos import (generated too, under gen/google/protobuf/). */
const wellKnown = [
  "google/protobuf/duration.proto",
  "google/protobuf/struct.proto",
  "google/protobuf/timestamp.proto",
];

function findWellKnownInclude() {
  const candidates = [process.env.PROTOC_INCLUDE, "/usr/include", "/usr/local/include"];
  for (const dir of candidates) {
    if (dir && fs.existsSync(path.join(dir, "google", "protobuf", "struct.proto"))) return dir;
  }
  throw new Error(
    "google/protobuf/*.proto not found (install protobuf-compiler / libprotobuf-dev, " +
      "or set PROTOC_INCLUDE)",
  );
}

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

/** Relative file names (posix separators) of every file under dir, sorted. */
function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return [...walk(dir)].map((f) => path.relative(dir, f).split(path.sep).join("/")).sort();
}

/**
 * Makes the plugin's output compile as ES modules under NodeNext with `strict` and
 * `noImplicitOverride`:
 * - `from "./x"` / `from "../x"` become `from "./x.js"`;
 * - `static deserializeBinary` (which shadows google-protobuf's `Message.deserializeBinary`)
 *   gets the `override` modifier.
 */
function postProcess(source) {
  return source
    .replace(/(from\s+")(\.{1,2}\/[^"]+?)(")/g, (match, pre, spec, post) =>
      spec.endsWith(".js") ? match : `${pre}${spec}.js${post}`,
    )
    .replace(/^(\s+)static deserializeBinary\(/gm, "$1static override deserializeBinary(");
}

function generate(outDir) {
  const protos = fs
    .readdirSync(protoDir)
    .filter((f) => f.endsWith(".proto"))
    .sort();
  if (protos.length === 0) throw new Error(`no .proto files in ${protoDir}`);
  const include = findWellKnownInclude();
  fs.mkdirSync(outDir, { recursive: true });
  const args = [
    `--plugin=protoc-gen-ts=${plugin}`,
    `--ts_out=${outDir}`,
    "--ts_opt=target=node",
    `-I${protoDir}`,
    `-I${include}`,
    ...protos,
    ...wellKnown,
  ];
  const result = spawnSync("protoc", args, { cwd: protoDir, encoding: "utf8" });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`protoc failed with status ${result.status}`);
  }
  if (result.stderr.trim()) process.stderr.write(result.stderr);
  for (const rel of listFiles(outDir)) {
    const file = path.join(outDir, rel);
    fs.writeFileSync(file, postProcess(fs.readFileSync(file, "utf8")));
  }
}

function main() {
  if (!check) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-proto-"));
    try {
      generate(tmp);
      fs.rmSync(genDir, { recursive: true, force: true });
      fs.cpSync(tmp, genDir, { recursive: true });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const files = listFiles(genDir);
    console.log(`proto-gen: wrote ${files.length} files to proto/gen/`);
    return 0;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-proto-check-"));
  try {
    generate(tmp);
    const expected = listFiles(tmp);
    const actual = listFiles(genDir);
    const missing = expected.filter((f) => !actual.includes(f));
    const extra = actual.filter((f) => !expected.includes(f));
    const changed = expected.filter(
      (f) =>
        actual.includes(f) &&
        !fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(genDir, f))),
    );
    if (missing.length + extra.length + changed.length === 0) {
      console.log(`proto-check: proto/gen/ is up to date (${expected.length} files)`);
      return 0;
    }
    console.error("proto-check: proto/gen/ is out of date with proto/*.proto:");
    for (const f of missing) console.error(`  missing:   proto/gen/${f}`);
    for (const f of extra) console.error(`  unexpected: proto/gen/${f}`);
    for (const f of changed) {
      const a = fs.readFileSync(path.join(genDir, f), "utf8").split("\n");
      const b = fs.readFileSync(path.join(tmp, f), "utf8").split("\n");
      let line = 0;
      while (line < a.length && line < b.length && a[line] === b[line]) line++;
      console.error(
        `  changed:   proto/gen/${f} (first difference at line ${line + 1}; ` +
          `${a.length} lines committed, ${b.length} generated)`,
      );
    }
    console.error("Run `npm run proto:gen` and commit proto/gen/.");
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  process.exit(main());
} catch (err) {
  console.error(`proto-gen: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
