/**
 * The CombineFns users reach by name: sum, count, min, max, mean, top(n).
 * Numbers and bigints are both accepted; sums of bigints stay bigints.
 */
import { UserCodeSpecError } from "../user-code/user-code-spec.js";
import type { CombineFn } from "./combine-fn.js";

type Num = number | bigint;

/**
 * Exact for integers: a sum of integers that leaves the safe range becomes a
 * bigint (varint-decoded values are numbers while they are safe), never a
 * rounded number. Non-integers add as doubles.
 */
function add(a: Num, b: Num): Num {
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a) + BigInt(b);
  const sum = a + b;
  if (Number.isSafeInteger(sum) || !Number.isInteger(a) || !Number.isInteger(b)) return sum;
  return BigInt(a) + BigInt(b);
}

const less = (a: Num, b: Num) => a < b;

function extreme(name: string, better: (a: Num, b: Num) => boolean): CombineFn {
  return {
    createAccumulator: () => null,
    addInput: (acc, x) => (acc === null || better(x as Num, acc as Num) ? x : acc),
    mergeAccumulators: (accs) =>
      accs.reduce(
        (m: unknown, a) => (a === null ? m : m === null || better(a as Num, m as Num) ? a : m),
        null,
      ),
    extractOutput: (acc) => acc,
    ...{ name },
  };
}

const factories: Record<string, (config: unknown) => CombineFn> = {
  sum: () => ({
    createAccumulator: () => 0,
    addInput: (acc, x) => add(acc as Num, x as Num),
    mergeAccumulators: (accs) => accs.reduce((s: Num, a) => add(s, a as Num), 0),
    extractOutput: (acc) => acc,
  }),
  count: () => ({
    createAccumulator: () => 0,
    addInput: (acc) => (acc as number) + 1,
    mergeAccumulators: (accs) => accs.reduce((s: number, a) => s + (a as number), 0),
    extractOutput: (acc) => acc,
  }),
  min: () => extreme("min", less),
  max: () => extreme("max", (a, b) => a > b),
  mean: () => ({
    createAccumulator: () => [0, 0],
    addInput: (acc, x) => [(acc as number[])[0] + Number(x), (acc as number[])[1] + 1],
    mergeAccumulators: (accs) =>
      accs.reduce(
        (s: number[], a) => [s[0] + (a as number[])[0], s[1] + (a as number[])[1]],
        [0, 0],
      ),
    extractOutput: (acc) =>
      (acc as number[])[1] === 0 ? null : (acc as number[])[0] / (acc as number[])[1],
  }),
  top: (config) => {
    const n = (config as { n?: unknown } | undefined)?.n;
    if (!Number.isSafeInteger(n) || (n as number) < 1)
      throw new UserCodeSpecError(
        `builtin top needs config.n, a positive integer, got ${String(n)}`,
      );
    const keep = (values: unknown[]) =>
      (values as Num[]).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)).slice(0, n as number);
    return {
      createAccumulator: () => [],
      addInput: (acc, x) => keep([...(acc as unknown[]), x]),
      mergeAccumulators: (accs) => keep((accs as unknown[][]).flat()),
      extractOutput: (acc) => acc,
    };
  },
};

export const BUILTIN_COMBINE_FNS = Object.keys(factories);

export function builtinCombineFn(name: string, config: unknown): CombineFn {
  const factory = factories[name];
  if (!factory)
    throw new UserCodeSpecError(
      `unknown builtin CombineFn ${JSON.stringify(name)} (builtins: ${BUILTIN_COMBINE_FNS.join(", ")})`,
    );
  return factory(config);
}
