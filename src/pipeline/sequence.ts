/**
 * The shipped code of `generateSequence`: Impulse → Range (the bounds) →
 * Generate, a splittable DoFn over the offset range [from, to) that emits
 * each number (a number when it is a safe integer, else a bigint), so a long
 * sequence is split over the workers and checkpoints like any SDF.
 */
import type { UserCodePayload } from "./ship-function.js";
import { splitByConfig } from "./text-io.js";

/** The bounds as one element (decimal strings: exact for any int64). */
export const sequenceBoundsDoFn = (from: bigint, to: bigint): UserCodePayload => ({
  source: `export default (_impulse, ctx) => [{ from: ctx.config.from, to: ctx.config.to }];\n`,
  export: "default",
  config: { from: String(from), to: String(to) },
});

/** Emits the numbers of its restriction; restrictions are pieces of `splitSize`. */
export const generateSequenceDoFn = (splitSize: bigint): UserCodePayload => ({
  source: `const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
export default {
  initialRestriction(bounds) {
    return { start: BigInt(bounds.from), stop: BigInt(bounds.to) };
  },
  ${splitByConfig("splitSize")}
  process(_bounds, ctx) {
    const out = [];
    const tracker = ctx.tracker;
    for (let i = tracker.currentRestriction().start; tracker.tryClaim(i); i++)
      out.push(i <= SAFE && i >= -SAFE ? Number(i) : i);
    return out;
  },
};
`,
  export: "default",
  config: { splitSize: String(splitSize) },
});
