/**
 * `beam:coder:state_backed_iterable:v1`: the iterable encoding; a state token
 * after the inline prefix names the rest, read through the State API when the
 * decode has a `stateReader` (a `CoderError` when it does not). Encoding a
 * `StateWritingIterable` (state-reader.ts) writes the token form (the runner
 * side).
 *
 * {@link iterableValueReader} reads the state-backed iterables inside a value
 * into arrays, guided by the value's coder tree: user code then sees what
 * the local runner gives it (arrays), and values that hold them can be
 * encoded again.
 */
import type { Coder } from "./coder.js";
import { ITERABLE_URN, IterableCoder } from "./iterable.js";
import { JSON_URN } from "./json.js";
import { KV_URN } from "./kv.js";
import { NULLABLE_URN } from "./nullable.js";
import { LENGTH_PREFIX_URN, registerCoder } from "./registry.js";
import { ROW_URN } from "./row.js";
import {
  STATE_BACKED_ITERABLE_URN,
  StateBackedIterable,
  type IterableReadBudget,
} from "./state-reader.js";

export { STATE_BACKED_ITERABLE_URN };

registerCoder(STATE_BACKED_ITERABLE_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c) {
    throw new TypeError(`state_backed_iterable needs 1 component, got ${components.length}`);
  }
  return new IterableCoder(c, coderId, STATE_BACKED_ITERABLE_URN);
});

/**
 * The value with every state-backed iterable in it replaced by the array of
 * its elements (pages counted against `budget`): the value itself when there
 * was nothing to read, a promise only when pages are read.
 */
export type IterableValueReader = (value: unknown, budget: IterableReadBudget) => unknown;

/**
 * How the values of a coder with components hold its components' values:
 * given the readers of the components (undefined: nothing to read there), the
 * reader of the whole (undefined: nothing to read).
 */
export type ValueStructure = (
  components: readonly (IterableValueReader | undefined)[],
) => IterableValueReader | undefined;

const structures = new Map<string, ValueStructure>();

/** Registers how values of a coder URN hold their components (a plugin coder may add one). */
export function registerValueStructure(urn: string, structure: ValueStructure): void {
  structures.set(urn, structure);
}

export interface IterableValueReaderOptions {
  /**
   * The values were built by user code, not decoded: a state-backed iterable
   * may sit anywhere a JSON or row coder encodes, not only at iterable coders.
   */
  builtByUserCode?: boolean;
}

/** Leaf coders whose values user code may fill with anything (iterables included). */
const ANY_VALUE_LEAVES = new Set([JSON_URN, ROW_URN]);

/**
 * The reader of the state-backed iterables in values of `coder`, undefined
 * when its values cannot hold any. Decoded values hold them only where the
 * tree has an iterable coder; a coder the registry does not know that has
 * such a component is searched whole.
 */
export function iterableValueReader(
  coder: Coder<unknown>,
  options: IterableValueReaderOptions = {},
): IterableValueReader | undefined {
  if (coder.components.length === 0) {
    return options.builtByUserCode && ANY_VALUE_LEAVES.has(coder.urn) ? readAnywhere : undefined;
  }
  const components = coder.components.map((c) => iterableValueReader(c, options));
  const structure = structures.get(coder.urn);
  if (structure) return structure(components);
  return components.some((c) => c !== undefined) ? readAnywhere : undefined;
}

function readIterable(element: IterableValueReader | undefined): IterableValueReader {
  return (value, budget) => {
    if (value instanceof StateBackedIterable) {
      const all = value.toArray(budget);
      return element ? all.then((values) => readEach(values, element, budget)) : all;
    }
    return element && Array.isArray(value) ? readEach(value, element, budget) : value;
  };
}

/** The values read by `reader`: the same array when nothing changed. */
function readEach(
  values: unknown[],
  reader: IterableValueReader,
  budget: IterableReadBudget,
): unknown[] | Promise<unknown[]> {
  let out: unknown[] | undefined;
  let pending = false;
  for (let i = 0; i < values.length; i++) {
    const read = reader(values[i], budget);
    if (read === values[i]) continue;
    out ??= values.slice();
    out[i] = read;
    if (read instanceof Promise) pending = true;
  }
  if (out === undefined) return values;
  return pending ? Promise.all(out) : out;
}

function readKv(
  key: IterableValueReader | undefined,
  value: IterableValueReader | undefined,
): IterableValueReader | undefined {
  if (!key && !value) return undefined;
  return (kv, budget) => {
    if (kv === null || typeof kv !== "object") return kv;
    const k = (kv as { key: unknown }).key;
    const v = (kv as { value: unknown }).value;
    const readK = key ? key(k, budget) : k;
    const readV = value ? value(v, budget) : v;
    if (readK === k && readV === v) return kv;
    if (readK instanceof Promise || readV instanceof Promise) {
      return Promise.all([readK, readV]).then(([rk, rv]) => ({ key: rk, value: rv }));
    }
    return { key: readK, value: readV };
  };
}

/** Searches arrays and plain objects for state-backed iterables. */
function readAnywhere(value: unknown, budget: IterableReadBudget): unknown {
  if (value instanceof StateBackedIterable) {
    return value.toArray(budget).then((values) => readEach(values, readAnywhere, budget));
  }
  if (Array.isArray(value)) return readEach(value, readAnywhere, budget);
  if (value === null || typeof value !== "object") return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const keys = Object.keys(value);
  const fields = keys.map((k) => (value as Record<string, unknown>)[k]);
  const read = readEach(fields, readAnywhere, budget);
  if (read === fields) return value;
  const rebuild = (all: unknown[]) => Object.fromEntries(keys.map((k, i) => [k, all[i]]));
  return read instanceof Promise ? read.then(rebuild) : rebuild(read);
}

registerValueStructure(KV_URN, ([key, value]) => readKv(key, value));
registerValueStructure(NULLABLE_URN, ([inner]) =>
  inner ? (value, budget) => (value === null ? value : inner(value, budget)) : undefined,
);
registerValueStructure(LENGTH_PREFIX_URN, ([inner]) => inner);
registerValueStructure(ITERABLE_URN, ([element]) => readIterable(element));
registerValueStructure(STATE_BACKED_ITERABLE_URN, ([element]) => readIterable(element));
