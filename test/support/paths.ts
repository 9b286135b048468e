import { fileURLToPath } from "node:url";
import * as path from "node:path";

/** The repository root (tests run from `dist/test/...`). */
export const repoRoot = path.resolve(fileURLToPath(new URL("../../../", import.meta.url)));

/** The compiled output root (`dist/`). */
export const distRoot = path.join(repoRoot, "dist");

/** The `bin/firefly` launcher. */
export const fireflyBin = path.join(repoRoot, "bin", "firefly");
