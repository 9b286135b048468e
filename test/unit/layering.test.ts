import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findLayerViolations } from "../support/layering.js";
import { repoRoot } from "../support/paths.js";

test("no lower layer imports a higher one (src → harness → operations → coders → proto)", () => {
  const violations = findLayerViolations(repoRoot);
  assert.deepEqual(
    violations.map((v) => `${v.file}:${v.line} (${v.from}) imports ${v.specifier} (${v.to})`),
    [],
  );
});

test("the layering check reports an upward import", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-layers-"));
  try {
    fs.mkdirSync(path.join(root, "coders"));
    fs.mkdirSync(path.join(root, "harness"));
    fs.writeFileSync(path.join(root, "harness", "h.ts"), "export const h = 1;\n");
    fs.writeFileSync(
      path.join(root, "coders", "c.ts"),
      'import { x } from "./ok.js";\nimport { h } from "../harness/h.js";\nexport const c = h;\n',
    );
    const violations = findLayerViolations(root);
    assert.equal(violations.length, 1);
    assert.deepEqual(
      { ...violations[0], file: violations[0].file.split(path.sep).join("/") },
      { file: "coders/c.ts", line: 2, specifier: "../harness/h.js", from: "coders", to: "harness" },
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
