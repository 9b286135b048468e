/** Runs an example as a user does: `bin/firefly run examples/<file> ... --output=<temp dir>/out`. */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";
import { promisify } from "node:util";
import { fireflyBin, repoRoot } from "../support/paths.js";

export const run = promisify(execFile);

/** A temporary directory, removed when the test file ends. */
export const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-examples-"));
after(() => fs.rmSync(tempRoot, { recursive: true, force: true }));
let runs = 0;

/**
 * Runs `firefly run examples/<example> ...args --output=<temp>/out` from the
 * repository root; returns stdout, each written file's lines, and all lines sorted.
 */
export async function runExample(
  example: string,
  args: string[] = [],
): Promise<{ stdout: string; files: Record<string, string[]>; lines: string[] }> {
  const dir = path.join(tempRoot, `run${++runs}`);
  const { stdout } = await run(
    process.execPath,
    [fireflyBin, "run", path.join("examples", example), ...args, `--output=${dir}/out`],
    { cwd: repoRoot, maxBuffer: 16 << 20 },
  );
  const files: Record<string, string[]> = {};
  for (const f of fs.readdirSync(dir).sort())
    files[f] = fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean);
  return { stdout, files, lines: Object.values(files).flat().sort() };
}
