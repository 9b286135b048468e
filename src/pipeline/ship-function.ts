/**
 * Turns user functions into the `firefly:dofn:v1` / `firefly:combinefn:v1`
 * JSON payload the worker loads: a function's source text (`toString()`) is
 * wrapped into an ES module, values it needs travel in `config`, and
 * `{module, export}` references pass through unchanged.
 *
 * A shipped function must be self-contained: it may use its parameters,
 * `ctx.config` and globals (or `await import("node:…")`), not variables of
 * the file that builds the pipeline. What cannot be shipped is refused here,
 * naming the function: native functions, bound functions, anything whose
 * source text does not parse as a function, and functions that use variables
 * of the building module (free-variables.ts; the builder's transforms check
 * first, naming the step).
 */
import { freeVariableError } from "./free-variables.js";
import { locateSource, locatedExpression } from "./source-location.js";

/** A reference to code in a module: `{module, export}` (export defaults to "default"). */
export interface ModuleRef {
  module: string;
  export?: string;
}

/** The JSON payload of a `firefly:dofn:v1` / `firefly:combinefn:v1` FunctionSpec. */
export interface UserCodePayload {
  source?: string;
  module?: string;
  export: string;
  config?: unknown;
}

export class UnshippableFunctionError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "UnshippableFunctionError";
  }
}

export const isModuleRef = (v: unknown): v is ModuleRef =>
  v !== null &&
  typeof v === "object" &&
  typeof (v as { module?: unknown }).module === "string" &&
  typeof (v as { process?: unknown }).process !== "function";

function describe(name: string, what: string): string {
  return `${what} ${name ? JSON.stringify(name) : "(anonymous function)"}`;
}

function parses(source: string): boolean {
  try {
    // Compiles (never runs) the text, to see whether it is an expression.
    new Function(`return (${source}\n);`);
    return true;
  } catch {
    return false;
  }
}

/**
 * A JavaScript expression that evaluates to the function, from its source
 * text: function and arrow expressions and classes stand as they are; a
 * method (`process(x) {…}`, from an object literal or a class) is taken out
 * of an object literal.
 */
export function functionExpression(fn: unknown, what: string): string {
  if (typeof fn !== "function")
    throw new UnshippableFunctionError(`${what} is ${typeof fn}, not a function`);
  const source = Function.prototype.toString.call(fn);
  const name = (fn as { name: string }).name;
  if (name.startsWith("bound ") && /\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new UnshippableFunctionError(
      `${describe(name, what)} is a bound function, whose source cannot be shipped: pass the function itself and put the values it needs in config`,
    );
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new UnshippableFunctionError(
      `${describe(name, what)} is native code, which cannot be shipped: wrap it in a function, e.g. (x) => ${name || "f"}(x)`,
    );
  }
  const [prefix, suffix] = parses(source)
    ? ["(", "\n)"]
    : parses(`Object.values({ ${source}\n })[0]`)
      ? ["Object.values({ ", "\n })[0]"]
      : [undefined, undefined];
  if (prefix !== undefined) {
    const error = freeVariableError(source, what);
    if (error) throw error;
    // Evaluated from a script named after its file, so its stack frames name the user's line.
    const at = locateSource(source, fn);
    // As a property value, an anonymous function takes its name as V8 names frames (not "eval").
    const key = JSON.stringify(name || "<anonymous>");
    const layouts: [string, string][] =
      prefix === "("
        ? [
            [`({ ${key}: (`, `\n) })[${key}]`],
            [prefix, suffix],
          ]
        : [[prefix, suffix]];
    let located: string | undefined;
    for (const [before, after] of layouts)
      located ??= at && locatedExpression(source, before, after, at);
    located ??= locatedExpression(
      source,
      layouts[0][0],
      layouts[0][1],
      `shipped:${name || "anonymous"}`,
    );
    return located ?? `${prefix}${source}${suffix}`;
  }
  throw new UnshippableFunctionError(
    `${describe(name, what)} cannot be shipped: its source text does not parse as a function (${source.slice(0, 60)}${source.length > 60 ? "…" : ""})`,
  );
}

/** True for a class (its source starts with `class`). */
export const isClass = (fn: unknown): boolean =>
  typeof fn === "function" && /^class[\s{]/.test(Function.prototype.toString.call(fn));

/**
 * An expression for a DoFn-like object: its function properties by source,
 * nested plain objects (e.g. `onTimer`) recursively, other values as JSON.
 */
export function objectExpression(obj: object, what: string): string {
  const members = Object.entries(obj).map(([key, value]) => {
    const name = `${what}.${key}`;
    let expression: string;
    if (typeof value === "function") expression = functionExpression(value, name);
    else if (value !== null && typeof value === "object" && !Array.isArray(value))
      expression = objectExpression(value, name);
    else {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch {
        json = undefined;
      }
      if (json === undefined)
        throw new UnshippableFunctionError(
          `${name} cannot be shipped: ${typeof value} is not JSON (put such values in config)`,
        );
      expression = json;
    }
    return `  ${JSON.stringify(key)}: ${expression},`;
  });
  return `{\n${members.join("\n")}\n}`;
}

/** Names the modules the builder ships (see moduleExporting). */
export const GLUE_URL = "//# sourceURL=firefly:shipped\n";

/**
 * An ES module whose default export is the expression. Its own frames (the
 * wrappers around user functions) are named `firefly:shipped`, which error
 * messages leave out as harness frames.
 */
export const moduleExporting = (expression: string, prelude = ""): string =>
  `${prelude}export default ${expression};\n${GLUE_URL}`;

/**
 * The payload for user code: a function, an object of methods (DoFn,
 * CombineFn), a class, an instance of a class (its class is shipped), or a
 * module reference.
 */
export function shipUserCode(dofn: unknown, what: string, config?: unknown): UserCodePayload {
  if (isModuleRef(dofn)) return { module: dofn.module, export: dofn.export ?? "default", config };
  if (typeof dofn === "function") {
    return { source: moduleExporting(functionExpression(dofn, what)), export: "default", config };
  }
  if (dofn !== null && typeof dofn === "object") {
    const proto = Object.getPrototypeOf(dofn) as object | null;
    if (proto !== null && proto !== Object.prototype) {
      // An instance of a DoFn class: ship the class (the worker constructs it).
      const ctor = (proto as { constructor?: unknown }).constructor;
      if (typeof ctor !== "function" || !isClass(ctor))
        throw new UnshippableFunctionError(
          `${what} is an instance of a non-class prototype: pass a plain object, a class, or {module, export}`,
        );
      return { source: moduleExporting(functionExpression(ctor, what)), export: "default", config };
    }
    return { source: moduleExporting(objectExpression(dofn, what)), export: "default", config };
  }
  throw new UnshippableFunctionError(
    `${what} is ${dofn === null ? "null" : typeof dofn}: pass a function, a DoFn object or class, or {module, export}`,
  );
}
