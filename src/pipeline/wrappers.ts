/**
 * The ES modules shipped for the builder's element-wise transforms: each
 * wraps the user's function (given as an expression, see ship-function.ts)
 * into the DoFn the transform needs. A function may be async: a promise is
 * awaited before its result is emitted.
 */
import { functionExpression, moduleExporting, type UserCodePayload } from "./ship-function.js";

type UserFn = (...args: never[]) => unknown;

const isThenable = `const isThenable = (r) => r !== null && typeof r === "object" && typeof r.then === "function";\n`;

function wrap(fn: UserFn, what: string, body: string, config: unknown): UserCodePayload {
  const prelude = `const fn = ${functionExpression(fn, what)};\n${isThenable}`;
  return { source: moduleExporting(body, prelude), export: "default", config };
}

/** `map`: one output per element. */
export const mapDoFn = (fn: UserFn, what: string, config: unknown): UserCodePayload =>
  wrap(
    fn,
    what,
    `(x, ctx) => {
  const r = fn(x, ctx);
  return isThenable(r) ? r.then((v) => [v]) : [r];
}`,
    config,
  );

/** `flatMap`: the function returns an iterable (or async iterable) of outputs. */
export const flatMapDoFn = (fn: UserFn, what: string, config: unknown): UserCodePayload =>
  wrap(fn, what, `(x, ctx) => fn(x, ctx)`, config);

/** `filter`: keeps the elements the predicate accepts. */
export const filterDoFn = (fn: UserFn, what: string, config: unknown): UserCodePayload =>
  wrap(
    fn,
    what,
    `(x, ctx) => {
  const r = fn(x, ctx);
  return isThenable(r) ? r.then((keep) => (keep ? [x] : [])) : r ? [x] : [];
}`,
    config,
  );

/** `withTimestamps`: re-emits each element at the timestamp (millis) the function returns. */
export const withTimestampsDoFn = (fn: UserFn, what: string, config: unknown): UserCodePayload =>
  wrap(
    fn,
    what,
    `(x, ctx) => {
  const r = fn(x, ctx);
  if (isThenable(r)) return r.then((t) => { ctx.outputWithTimestamp(x, t); });
  ctx.outputWithTimestamp(x, r);
}`,
    config,
  );

/**
 * Values that JSON cannot carry are tagged (`{"$firefly": "bigint" | "bytes",
 * "v": ...}`) and revived by the shipped code.
 */
export function toShippable(value: unknown, where: string): unknown {
  if (typeof value === "bigint") return { $firefly: "bigint", v: value.toString() };
  if (value instanceof Uint8Array)
    return { $firefly: "bytes", v: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map((v, i) => toShippable(v, `${where}[${i}]`));
  if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null)
      throw new TypeError(
        `${where} is a ${value.constructor.name}: only plain data can be shipped`,
      );
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toShippable(v, `${where}.${k}`)]),
    );
  }
  if (typeof value === "function" || typeof value === "symbol" || value === undefined)
    throw new TypeError(`${where} is ${typeof value}: only plain data can be shipped`);
  if (typeof value === "number" && !Number.isFinite(value))
    throw new TypeError(`${where} is ${value}: not a finite number`);
  return value;
}

const REVIVE = `const revive = (v) => {
  if (Array.isArray(v)) return v.map(revive);
  if (v === null || typeof v !== "object") return v;
  if (v.$firefly === "bigint") return BigInt(v.v);
  if (v.$firefly === "bytes") return new Uint8Array(Buffer.from(v.v, "base64"));
  return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, revive(e)]));
};
`;

/** `create`: emits the values (shipped in config) for the impulse. */
export function createDoFn(values: readonly unknown[], where: string): UserCodePayload {
  return {
    source: moduleExporting(
      `{
  setup(config) { this.values = revive(config.values); },
  process() { return this.values; },
}`,
      REVIVE,
    ),
    export: "default",
    config: { values: toShippable(values, where) },
  };
}
