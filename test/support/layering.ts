/**
 * Import-direction check for the layering in DESIGN.md:
 * `src → harness → operations → coders → proto`. A module may import its own
 * layer or any lower one, never a higher one.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const LAYERS = ["proto", "coders", "operations", "harness", "src"] as const;
export type Layer = (typeof LAYERS)[number];

export interface LayerViolation {
  file: string;
  line: number;
  specifier: string;
  from: Layer;
  to: Layer;
}

const IMPORT_RE =
  /(?:^|\s)(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function layerOf(root: string, file: string): Layer | undefined {
  const top = path.relative(root, file).split(path.sep)[0];
  return (LAYERS as readonly string[]).includes(top) ? (top as Layer) : undefined;
}

function* sourceFiles(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield full;
  }
}

/** Every import in the layer folders under `root` that points to a higher layer. */
export function findLayerViolations(root: string): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const layer of LAYERS) {
    for (const file of sourceFiles(path.join(root, layer))) {
      const text = fs.readFileSync(file, "utf8");
      for (const match of text.matchAll(IMPORT_RE)) {
        const specifier = match[1] ?? match[2];
        if (!specifier || !specifier.startsWith(".")) continue;
        const target = layerOf(root, path.resolve(path.dirname(file), specifier));
        if (target && LAYERS.indexOf(target) > LAYERS.indexOf(layer)) {
          const start = (match.index ?? 0) + match[0].search(/\S/);
          const line = text.slice(0, start).split("\n").length;
          violations.push({
            file: path.relative(root, file),
            line,
            specifier,
            from: layer,
            to: target,
          });
        }
      }
    }
  }
  return violations;
}
