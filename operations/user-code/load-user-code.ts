/**
 * Loads the export a UserCodeSpec names. `source` modules are imported from a
 * `data:` URL (cached per source hash: they may import Node built-ins but not
 * packages — use `module` for code with dependencies). `module` specifiers are
 * resolved from the working directory (relative paths) or as installed
 * packages, and must lie under an allowed root (the working directory, staged
 * artifact directories) unless `allowAnyModule` is set.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { UserCodeSpecError, type UserCodeSpec } from "./user-code-spec.js";
import { errorMessage } from "../errors.js";

export interface UserCodeRoots {
  /** Directories user modules may be loaded from (resolved absolute). */
  roots: string[];
  /** Load modules from anywhere (explicit opt-in). */
  allowAnyModule: boolean;
}

/** Roots and the opt-in travel in the environment too, so pool threads (which copy it) see them. */
export const ROOTS_ENV = "FIREFLY_USER_CODE_ROOTS";
export const ALLOW_ANY_ENV = "FIREFLY_ALLOW_ANY_MODULE";

const settings: UserCodeRoots = {
  roots: [
    process.cwd(),
    ...(process.env[ROOTS_ENV] ?? "").split(path.delimiter).filter((r) => r !== ""),
  ],
  allowAnyModule: process.env[ALLOW_ANY_ENV] === "1",
};
const modules = new Map<string, Promise<Record<string, unknown>>>();

/** Adds a root (e.g. the staged-artifacts directory) user modules may be loaded from. */
export function addUserCodeRoot(dir: string): void {
  const resolved = path.resolve(dir);
  if (!settings.roots.includes(resolved)) settings.roots.push(resolved);
  process.env[ROOTS_ENV] = settings.roots.slice(1).join(path.delimiter);
}

export function allowModulesFromAnywhere(allow: boolean): void {
  settings.allowAnyModule = allow;
  process.env[ALLOW_ANY_ENV] = allow ? "1" : "0";
}

/** The resolved file of a module specifier (relative to the working directory or an allowed root). */
export function resolveUserModule(specifier: string): string {
  const candidates =
    specifier.startsWith(".") || path.isAbsolute(specifier)
      ? settings.roots.map((root) => path.resolve(root, specifier))
      : [];
  let resolved: string | undefined;
  if (candidates.length > 0) {
    for (const candidate of candidates) {
      try {
        resolved = createRequire(candidate).resolve(candidate);
        break;
      } catch {
        // try the next root
      }
    }
  } else {
    for (const root of settings.roots) {
      try {
        resolved = createRequire(path.join(root, "noop.js")).resolve(specifier);
        break;
      } catch {
        // try the next root
      }
    }
  }
  if (!resolved) {
    throw new UserCodeSpecError(
      `cannot resolve user module ${JSON.stringify(specifier)} from ${settings.roots.map((r) => JSON.stringify(r)).join(", ")}`,
    );
  }
  if (
    !settings.allowAnyModule &&
    !settings.roots.some((root) => isInside(root, resolved as string))
  ) {
    throw new UserCodeSpecError(
      `user module ${JSON.stringify(specifier)} resolves to ${resolved}, outside the working directory and staged artifacts (set firefly_allow_any_module to allow it)`,
    );
  }
  return resolved;
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

async function importModule(spec: UserCodeSpec): Promise<Record<string, unknown>> {
  const key =
    spec.source !== undefined
      ? `source:${createHash("sha256").update(spec.source).digest("hex")}`
      : `module:${resolveUserModule(spec.module as string)}`;
  let loaded = modules.get(key);
  if (!loaded) {
    const url =
      spec.source !== undefined
        ? `data:text/javascript;base64,${Buffer.from(named(spec.source, key), "utf8").toString("base64")}`
        : pathToFileURL(key.slice("module:".length)).href;
    loaded = import(url) as Promise<Record<string, unknown>>;
    modules.set(key, loaded);
    loaded.catch(() => modules.delete(key));
  }
  return loaded;
}

/**
 * Source without a `//# sourceURL` of its own is named after its hash, so its
 * stack frames read `shipped-source-1a2b3c4d.mjs:1:20`, not a long `data:` URL.
 * (The builder names its modules and the user's functions in them: ship-function.ts.)
 */
function named(source: string, key: string): string {
  if (/\/\/# sourceURL=\S+\s*$/.test(source)) return source;
  return `${source}\n//# sourceURL=shipped-source-${key.slice("source:".length, "source:".length + 8)}.mjs\n`;
}

/** Imports the module and returns the named export; errors name the module and export. */
export async function loadUserExport(spec: UserCodeSpec): Promise<unknown> {
  const where =
    spec.module !== undefined ? `module ${JSON.stringify(spec.module)}` : "inline source";
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(spec);
  } catch (err) {
    if (err instanceof UserCodeSpecError) throw err;
    throw new UserCodeSpecError(`cannot load ${where}: ${errorMessage(err)}`);
  }
  if (!(spec.export in mod)) {
    const names = Object.keys(mod).join(", ") || "none";
    throw new UserCodeSpecError(
      `${where} has no export ${JSON.stringify(spec.export)} (exports: ${names})`,
    );
  }
  return mod[spec.export];
}
