import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../support/paths.js";

// No Docker engine runs on these machines: the image is checked by structure,
// and its entrypoint script by running it against this checkout.

const dockerfile = fs.readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
const instructions = dockerfile
  .split("\n")
  .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"))
  .join("\n")
  .replace(/\\\n/g, " ")
  .split("\n");

test("the Dockerfile is multi-stage on a slim Node 20 base with production dependencies only", () => {
  const froms = instructions.filter((l) => l.startsWith("FROM "));
  assert.equal(froms.length, 2);
  for (const from of froms) assert.match(from, /^FROM node:20[-\w.]*slim/);
  assert.ok(
    instructions.some((l) => /npm prune --omit=dev/.test(l)),
    "dev dependencies are pruned",
  );
  assert.ok(
    instructions.some((l) => /tsconfig\.build\.json/.test(l)),
    "only runtime code is compiled",
  );
});

test("the image runs as a non-root user with the entrypoint runners expect", () => {
  const final = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")));
  const user = final.filter((l) => l.startsWith("USER ")).at(-1);
  assert.ok(user && !/\broot\b/.test(user), `a non-root USER in the final stage (got ${user})`);
  assert.ok(final.includes('ENTRYPOINT ["/opt/apache/beam/boot"]'));
  assert.ok(final.some((l) => /COPY bin\/docker-boot \/opt\/apache\/beam\/boot/.test(l)));
});

test("the entrypoint runs `firefly boot` with the flags it receives", () => {
  const script = path.join(repoRoot, "bin", "docker-boot");
  // Flags reach `firefly boot`: a missing --id and an invalid --threads are its own errors.
  const noId = spawnSync("sh", [script, "--control_endpoint=127.0.0.1:1"], {
    env: { ...process.env, FIREFLY_HOME: repoRoot },
    encoding: "utf8",
  });
  assert.notEqual(noId.status, 0);
  assert.match(noId.stderr, /firefly boot: --id is required/);
  const badThreads = spawnSync("sh", [script, "--id", "w1", "--threads", "many"], {
    env: { ...process.env, FIREFLY_HOME: repoRoot },
    encoding: "utf8",
  });
  assert.notEqual(badThreads.status, 0);
  assert.match(badThreads.stderr, /--threads must be a non-negative integer, got "many"/);
});
