/**
 * Client side of staging: the user's module files that `{module}` user code
 * (ParDo DoFns, CombineFns, WindowFns) names by a relative or absolute path
 * become dependencies of the Firefly environment — `beam:artifact:type:file:v1`
 * with sha256 and role `staging_to` under a content-addressed name
 * (`upper-<sha12>.mjs`) — and the references are rewritten to `./<name>`,
 * which workers resolve from their staged-artifacts directory. Extra files
 * (e.g. an `npm pack` tarball of the project) are staged under their base name.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipelineApi } from "../../proto/index.js";
import { fileArtifact } from "./artifact-store.js";

const DOFN_URN = "firefly:dofn:v1";
const COMBINEFN_URN = "firefly:combinefn:v1";
const WINDOWFN_URN = "firefly:windowfn:v1";

export interface StagedFiles {
  dependencies: pipelineApi.ArtifactInformation[];
  /** Local file of each staged artifact (what the client serves), by staged name. */
  files: Map<string, string>;
}

function sha256Of(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function resolveLocal(specifier: string, cwd: string): string | undefined {
  if (!specifier.startsWith(".") && !path.isAbsolute(specifier)) return undefined;
  const candidate = path.resolve(cwd, specifier);
  try {
    return createRequire(candidate).resolve(candidate);
  } catch {
    return undefined;
  }
}

class Stager {
  readonly staged: StagedFiles = { dependencies: [], files: new Map() };

  constructor(private readonly cwd: string) {}

  add(file: string, name: string, sha256 = sha256Of(file)): string {
    if (this.staged.files.has(name)) return name;
    this.staged.files.set(name, file);
    this.staged.dependencies.push(fileArtifact(file, sha256, name));
    return name;
  }

  /** Rewrites a user-code FunctionSpec's `{module}` path to its staged name; true if changed. */
  rewrite(spec: pipelineApi.FunctionSpec | undefined): boolean {
    if (!spec || ![DOFN_URN, COMBINEFN_URN, WINDOWFN_URN].includes(spec.urn)) return false;
    let payload: { module?: unknown };
    try {
      payload = JSON.parse(new TextDecoder().decode(spec.payload)) as { module?: unknown };
    } catch {
      return false;
    }
    if (typeof payload.module !== "string") return false;
    const file = resolveLocal(payload.module, this.cwd);
    if (!file) return false;
    const sha256 = sha256Of(file);
    const ext = path.extname(file);
    const name = this.add(file, `${path.basename(file, ext)}-${sha256.slice(0, 12)}${ext}`, sha256);
    payload.module = `./${name}`;
    spec.payload = new TextEncoder().encode(JSON.stringify(payload));
    return true;
  }
}

type PayloadClass<T> = { deserializeBinary(bytes: Uint8Array): T };

/** User-code specs inside a transform payload, by transform URN. */
const USER_CODE_IN: Record<
  string,
  {
    cls: PayloadClass<{ serializeBinary(): Uint8Array }>;
    specs: (p: never) => (pipelineApi.FunctionSpec | undefined)[];
  }
> = {
  "beam:transform:pardo:v1": {
    cls: pipelineApi.ParDoPayload,
    specs: (p: pipelineApi.ParDoPayload) => [p.do_fn],
  },
  "beam:transform:combine_per_key:v1": {
    cls: pipelineApi.CombinePayload,
    specs: (p: pipelineApi.CombinePayload) => [p.combine_fn],
  },
  "beam:transform:combine_globally:v1": {
    cls: pipelineApi.CombinePayload,
    specs: (p: pipelineApi.CombinePayload) => [p.combine_fn],
  },
  "beam:transform:combine_grouped_values:v1": {
    cls: pipelineApi.CombinePayload,
    specs: (p: pipelineApi.CombinePayload) => [p.combine_fn],
  },
  "beam:transform:window_into:v1": {
    cls: pipelineApi.WindowIntoPayload,
    specs: (p: pipelineApi.WindowIntoPayload) => [p.window_fn],
  },
};

/**
 * Stages the pipeline's local user modules (rewriting the pipeline in place)
 * and `extraFiles`; returns the dependencies and the files to serve.
 */
export function stageUserModules(
  pipeline: pipelineApi.Pipeline,
  extraFiles: readonly string[] = [],
  cwd = process.cwd(),
): StagedFiles {
  const stager = new Stager(cwd);
  for (const transform of pipeline.components.transforms.values()) {
    const kind = USER_CODE_IN[transform.spec?.urn ?? ""];
    if (!kind || !transform.spec) continue;
    const payload = kind.cls.deserializeBinary(transform.spec.payload);
    const changed = kind.specs(payload as never).map((s) => stager.rewrite(s));
    if (changed.some(Boolean)) transform.spec.payload = payload.serializeBinary();
  }
  for (const file of extraFiles) {
    const resolved = path.resolve(cwd, file);
    if (!fs.existsSync(resolved))
      throw new Error(`--stage_files: ${JSON.stringify(file)} does not exist`);
    stager.add(resolved, path.basename(resolved));
  }
  return stager.staged;
}
