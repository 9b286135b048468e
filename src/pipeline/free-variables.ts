/**
 * Free variables of a shipped function: the names its source text uses that
 * are declared neither inside it (its parameters, `var`/`let`/`const`,
 * function and class declarations, catch parameters, its own name) nor as a
 * JavaScript/Node global. Such a name is a variable of the module that built
 * the pipeline, which the worker's copy of the function does not have: it
 * would fail there with a ReferenceError, so the builder refuses it.
 *
 * The source is parsed with acorn (a real JavaScript parser, not regexes) and
 * its scopes resolved here. Not references: property names (`a.b`, object
 * keys, methods, class fields), labels, `import.meta`/`new.target`, and an
 * undeclared name read only by `typeof` (which never throws).
 */
import { parse, type Node as AcornNode } from "acorn";
import { isModuleRef, UnshippableFunctionError } from "./ship-function.js";

type Node = AcornNode & Record<string, any>;

/** Names every worker has: the globals of this Node process (as it loaded Firefly) and the standard ones. */
const GLOBALS: ReadonlySet<string> = (() => {
  const names = new Set<string>([
    "undefined",
    "NaN",
    "Infinity",
    "globalThis",
    "eval",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "unescape",
    "AggregateError",
    "Array",
    "ArrayBuffer",
    "Atomics",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Boolean",
    "DataView",
    "Date",
    "Error",
    "EvalError",
    "FinalizationRegistry",
    "Float32Array",
    "Float64Array",
    "Function",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Intl",
    "JSON",
    "Map",
    "Math",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Set",
    "SharedArrayBuffer",
    "String",
    "Symbol",
    "SyntaxError",
    "TypeError",
    "Uint8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "Uint32Array",
    "URIError",
    "WeakMap",
    "WeakRef",
    "WeakSet",
    "Buffer",
    "process",
    "console",
    "queueMicrotask",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "setImmediate",
    "clearImmediate",
    "structuredClone",
    "URL",
    "URLSearchParams",
    "TextEncoder",
    "TextDecoder",
    "AbortController",
    "AbortSignal",
    "fetch",
    "crypto",
  ]);
  for (let o: object | null = globalThis; o !== null; o = Object.getPrototypeOf(o) as object | null)
    for (const name of Object.getOwnPropertyNames(o)) names.add(name);
  return names;
})();

class Scope {
  readonly names = new Set<string>();
  constructor(
    readonly parent: Scope | undefined,
    /** A non-arrow function's scope (has `arguments`). */
    readonly hasArguments = false,
  ) {}

  declares(name: string): boolean {
    return this.names.has(name) || (this.parent?.declares(name) ?? false);
  }

  hasArgumentsObject(): boolean {
    return this.hasArguments || (this.parent?.hasArgumentsObject() ?? false);
  }
}

const isNode = (v: unknown): v is Node =>
  v !== null && typeof v === "object" && typeof (v as { type?: unknown }).type === "string";

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range")
      continue;
    if (Array.isArray(value)) out.push(...value.filter(isNode));
    else if (isNode(value)) out.push(value);
  }
  return out;
}

/** The names a binding pattern declares. */
function patternNames(pattern: Node | null | undefined, into: Set<string>): void {
  if (!pattern) return;
  switch (pattern.type) {
    case "Identifier":
      into.add(pattern.name as string);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties as Node[])
        patternNames(p.type === "RestElement" ? p.argument : p.value, into);
      break;
    case "ArrayPattern":
      for (const e of pattern.elements as (Node | null)[]) patternNames(e, into);
      break;
    case "AssignmentPattern":
      patternNames(pattern.left, into);
      break;
    case "RestElement":
      patternNames(pattern.argument, into);
      break;
  }
}

const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/** `var` declarations of a function body (not those of nested functions). */
function varNames(node: Node, into: Set<string>): void {
  for (const child of children(node)) {
    if (FUNCTIONS.has(child.type) || child.type === "StaticBlock") continue;
    if (child.type === "VariableDeclaration" && child.kind === "var")
      for (const d of child.declarations as Node[]) patternNames(d.id, into);
    varNames(child, into);
  }
}

/** Block-scoped declarations directly in a list of statements. */
function lexicalNames(statements: Node[], into: Set<string>): void {
  for (const s of statements) {
    if (s.type === "VariableDeclaration" && s.kind !== "var")
      for (const d of s.declarations as Node[]) patternNames(d.id, into);
    else if ((s.type === "ClassDeclaration" || s.type === "FunctionDeclaration") && s.id)
      into.add(s.id.name as string);
  }
}

interface Found {
  free: Set<string>;
  argumentsInArrow: boolean;
}

/** Visits what a binding pattern evaluates: default values and computed keys. */
function visitPattern(pattern: Node | null | undefined, scope: Scope, found: Found): void {
  if (!pattern) return;
  switch (pattern.type) {
    case "Identifier":
      return;
    case "ObjectPattern":
      for (const p of pattern.properties as Node[]) {
        if (p.type === "RestElement") visitPattern(p.argument, scope, found);
        else {
          if (p.computed) visit(p.key, scope, found);
          visitPattern(p.value, scope, found);
        }
      }
      return;
    case "ArrayPattern":
      for (const e of pattern.elements as (Node | null)[]) visitPattern(e, scope, found);
      return;
    case "AssignmentPattern":
      visitPattern(pattern.left, scope, found);
      visit(pattern.right, scope, found);
      return;
    case "RestElement":
      visitPattern(pattern.argument, scope, found);
      return;
    default: // a member expression (for-in/of targets, assignments)
      visit(pattern, scope, found);
  }
}

function visitFunction(fn: Node, outer: Scope, found: Found): void {
  let scope = outer;
  if (fn.type === "FunctionExpression" && fn.id) {
    scope = new Scope(scope);
    scope.names.add(fn.id.name as string);
  }
  const arrow = fn.type === "ArrowFunctionExpression";
  scope = new Scope(scope, !arrow);
  for (const param of fn.params as Node[]) patternNames(param, scope.names);
  if (fn.body.type === "BlockStatement") varNames(fn.body, scope.names);
  for (const param of fn.params as Node[]) visitPattern(param, scope, found);
  visit(fn.body, scope, found);
}

function visitClass(cls: Node, outer: Scope, found: Found): void {
  if (cls.superClass) visit(cls.superClass, outer, found);
  const scope = new Scope(outer);
  if (cls.id) scope.names.add(cls.id.name as string);
  for (const member of cls.body.body as Node[]) {
    if (member.type === "StaticBlock") {
      const block = new Scope(scope, true);
      varNames(member, block.names);
      lexicalNames(member.body as Node[], block.names);
      for (const s of member.body as Node[]) visit(s, block, found);
      continue;
    }
    if (member.computed) visit(member.key, scope, found);
    if (member.value) {
      if (member.type === "PropertyDefinition") visit(member.value, new Scope(scope, true), found);
      else visit(member.value, scope, found);
    }
  }
}

function visit(node: Node | null | undefined, scope: Scope, found: Found): void {
  if (!node) return;
  switch (node.type) {
    case "Identifier": {
      const name = node.name as string;
      if (scope.declares(name)) return;
      if (name === "arguments") {
        if (!scope.hasArgumentsObject()) found.argumentsInArrow = true;
        return;
      }
      if (!GLOBALS.has(name)) found.free.add(name);
      return;
    }
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      visitFunction(node, scope, found);
      return;
    case "ClassDeclaration":
    case "ClassExpression":
      visitClass(node, scope, found);
      return;
    case "VariableDeclaration":
      for (const d of node.declarations as Node[]) {
        visitPattern(d.id, scope, found);
        visit(d.init, scope, found);
      }
      return;
    case "BlockStatement":
    case "StaticBlock": {
      const block = new Scope(scope);
      lexicalNames(node.body as Node[], block.names);
      for (const s of node.body as Node[]) visit(s, block, found);
      return;
    }
    case "ForStatement":
    case "ForInStatement":
    case "ForOfStatement": {
      const block = new Scope(scope);
      const head = (node.type === "ForStatement" ? node.init : node.left) as Node | null;
      if (head?.type === "VariableDeclaration" && head.kind !== "var")
        for (const d of head.declarations as Node[]) patternNames(d.id, block.names);
      for (const child of children(node)) visit(child, block, found);
      return;
    }
    case "SwitchStatement": {
      visit(node.discriminant, scope, found);
      const block = new Scope(scope);
      const cases = node.cases as Node[];
      lexicalNames(
        cases.flatMap((c) => c.consequent as Node[]),
        block.names,
      );
      for (const c of cases) {
        visit(c.test, block, found);
        for (const s of c.consequent as Node[]) visit(s, block, found);
      }
      return;
    }
    case "CatchClause": {
      const block = new Scope(scope);
      patternNames(node.param, block.names);
      visitPattern(node.param, block, found);
      visit(node.body, block, found);
      return;
    }
    case "MemberExpression":
      visit(node.object, scope, found);
      if (node.computed) visit(node.property, scope, found);
      return;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      if (node.computed) visit(node.key, scope, found);
      visit(node.value, scope, found);
      return;
    case "LabeledStatement":
      visit(node.body, scope, found);
      return;
    case "BreakStatement":
    case "ContinueStatement":
    case "MetaProperty":
    case "PrivateIdentifier":
      return;
    case "UnaryExpression":
      if (node.operator === "typeof" && node.argument.type === "Identifier") return;
      visit(node.argument, scope, found);
      return;
    case "ObjectPattern":
    case "ArrayPattern":
      // An assignment target (`[a, b] = ...`): its names are references.
      for (const child of children(node)) visit(child, scope, found);
      return;
    default:
      for (const child of children(node)) visit(child, scope, found);
  }
}

/** The function node of a function's source text (an expression, or a method of an object literal). */
function functionNode(source: string): Node | undefined {
  for (const [text, pick] of [
    [`(${source}\n)`, (e: Node) => e],
    [`({ ${source}\n })`, (e: Node) => (e.properties as Node[])[0]?.value as Node | undefined],
  ] as const) {
    for (const sourceType of ["module", "script"] as const) {
      try {
        const program = parse(text, { ecmaVersion: "latest", sourceType }) as Node;
        const statement = (program.body as Node[])[0];
        if ((program.body as Node[]).length !== 1 || statement.type !== "ExpressionStatement")
          continue;
        const node = pick(statement.expression as Node);
        if (node) return node;
      } catch {
        // try the next form
      }
    }
  }
  return undefined;
}

/**
 * The free variables of a function's source text (sorted), and whether an
 * arrow function at its top uses `arguments` (which it does not have);
 * undefined when the text does not parse.
 */
export function freeVariables(source: string): Found | undefined {
  const node = functionNode(source);
  if (!node) return undefined;
  const found: Found = { free: new Set(), argumentsInArrow: false };
  visit(node, new Scope(undefined), found);
  return { free: new Set([...found.free].sort()), argumentsInArrow: found.argumentsInArrow };
}

/** Where the values a function needs arrive: `ctx.config` (DoFns) or `setup(config)` (CombineFns). */
export type ConfigReader = "ctx" | "setup";

const quoted = (names: string[]) => {
  const q = names.map((n) => JSON.stringify(n));
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
};

/** The error for a function whose source uses variables of the building module, or undefined. */
export function freeVariableError(
  source: string,
  what: string,
  reader: ConfigReader = "ctx",
): UnshippableFunctionError | undefined {
  const found = freeVariables(source);
  if (!found) return undefined;
  if (found.argumentsInArrow)
    return new UnshippableFunctionError(
      `${what} uses "arguments" in an arrow function, which has none where it is shipped: use rest parameters ((...args) => ...)`,
    );
  const names = [...found.free];
  if (names.length === 0) return undefined;
  const one = names.length === 1;
  const read =
    reader === "ctx"
      ? `read ${names.map((n) => `ctx.config.${n}`).join(", ")}`
      : `read ${one ? "it" : "them"} in setup(config) as ${names.map((n) => `config.${n}`).join(", ")}`;
  return new UnshippableFunctionError(
    `${what} uses ${quoted(names)}, ${one ? "a variable" : "variables"} of the module that builds the pipeline: functions are shipped as source text and run on workers; pass ${one ? "it" : "them"} in config: { config: { ${names.join(", ")} } } and ${read}`,
  );
}

/**
 * Throws if user code (a function, a DoFn/CombineFn object or class, an
 * instance of a class) uses variables of the building module. Module
 * references and non-functions pass (they are checked when shipped).
 */
export function checkSelfContained(
  code: unknown,
  what: string,
  reader: ConfigReader = "ctx",
): void {
  if (isModuleRef(code)) return;
  if (typeof code === "function") {
    const error = freeVariableError(Function.prototype.toString.call(code), what, reader);
    if (error) throw error;
    return;
  }
  if (code === null || typeof code !== "object") return;
  const proto = Object.getPrototypeOf(code) as object | null;
  if (proto !== null && proto !== Object.prototype) {
    const ctor = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === "function") checkSelfContained(ctor, what, reader);
    return;
  }
  for (const [key, value] of Object.entries(code)) {
    const plain =
      value !== null &&
      typeof value === "object" &&
      Object.getPrototypeOf(value) === Object.prototype;
    if (typeof value === "function" || plain) checkSelfContained(value, `${what}.${key}`, reader);
  }
}
