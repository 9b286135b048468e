/**
 * The built-in offset-range restriction and tracker of splittable DoFns:
 * every offset processed exactly once under random claims, splits and
 * checkpoints (property test), exact int64 arithmetic, and errors that name
 * the offsets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  INT64_MAX,
  INT64_MIN,
  OffsetRangeTracker,
  RestrictionError,
  offsetRange,
  splitRange,
  type OffsetRange,
} from "../../operations/sdf/offset-range.js";
import {
  SharedOffsetRangeCell,
  SharedOffsetRangeTracker,
} from "../../operations/sdf/shared-offset-range.js";

/** Processes `range` like a DoFn: claims offsets one by one; `splitAt` says when to split and how much. */
function run(
  range: OffsetRange,
  decide: () => { split: boolean; fraction: number },
): { claimed: bigint[]; residuals: OffsetRange[] } {
  const tracker = new OffsetRangeTracker(range);
  const claimed: bigint[] = [];
  const residuals: OffsetRange[] = [];
  for (let offset = range.start; tracker.tryClaim(offset); offset++) {
    claimed.push(offset);
    const { split, fraction } = decide();
    if (split) {
      const parts = tracker.trySplit(fraction);
      if (parts) residuals.push(parts.residual);
    }
  }
  tracker.checkDone();
  return { claimed, residuals };
}

test("every offset is claimed exactly once under random splits and checkpoints, residuals resumed", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.integer({ min: 0, max: 300 }),
      fc.array(
        fc.record({
          split: fc.boolean(),
          fraction: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.999, noNaN: true })),
        }),
        { minLength: 1, maxLength: 50 },
      ),
      (start, size, decisions) => {
        let i = 0;
        const decide = () => decisions[i++ % decisions.length]!;
        const seen = new Map<bigint, number>();
        const queue: OffsetRange[] = [offsetRange(start, start + BigInt(size))];
        for (let rounds = 0; queue.length > 0; rounds++) {
          assert.ok(rounds < 10_000, "residuals never ran out");
          const { claimed, residuals } = run(queue.shift()!, decide);
          for (const o of claimed) seen.set(o, (seen.get(o) ?? 0) + 1);
          queue.push(...residuals);
        }
        assert.equal(seen.size, size);
        for (let o = start; o < start + BigInt(size); o++)
          assert.equal(seen.get(o), 1, `offset ${o}`);
      },
    ),
    { numRuns: 300 },
  );
});

test("a split keeps the primary up to the split point and hands over the rest", () => {
  const tracker = new OffsetRangeTracker(offsetRange(0, 100));
  assert.equal(tracker.tryClaim(9), true);
  // remainder after the last attempted offset 9: (9, 100) → 91 offsets; half is 45
  assert.deepEqual(tracker.trySplit(0.5), {
    primary: { start: 0n, stop: 54n },
    residual: { start: 54n, stop: 100n },
  });
  assert.deepEqual(tracker.currentRestriction(), { start: 0n, stop: 54n });
  assert.equal(tracker.tryClaim(53), true);
  assert.equal(tracker.tryClaim(54), false, "past the new stop");
  tracker.checkDone();
});

test("a checkpoint (fraction 0) keeps only what was claimed; before any claim it hands over everything", () => {
  const tracker = new OffsetRangeTracker(offsetRange(10, 20));
  assert.equal(tracker.tryClaim(12), true);
  assert.deepEqual(tracker.trySplit(0), {
    primary: { start: 10n, stop: 13n },
    residual: { start: 13n, stop: 20n },
  });
  assert.equal(tracker.tryClaim(13), false);
  tracker.checkDone();
  const fresh = new OffsetRangeTracker(offsetRange(10, 20));
  assert.deepEqual(fresh.trySplit(0), {
    primary: { start: 10n, stop: 10n },
    residual: { start: 10n, stop: 20n },
  });
  fresh.checkDone();
});

test("nothing to split once the last offset was claimed or the work ended", () => {
  const tracker = new OffsetRangeTracker(offsetRange(0, 3));
  for (const o of [0, 1, 2]) assert.equal(tracker.tryClaim(o), true);
  assert.equal(tracker.trySplit(0), undefined);
  assert.equal(tracker.trySplit(0.5), undefined);
  assert.equal(tracker.tryClaim(3), false);
  assert.equal(tracker.trySplit(0), undefined);
});

test("progress counts offsets before the last attempted one as completed", () => {
  const tracker = new OffsetRangeTracker(offsetRange(100, 200));
  assert.deepEqual(tracker.progress(), { completed: 0, remaining: 100 });
  tracker.tryClaim(125);
  assert.deepEqual(tracker.progress(), { completed: 25, remaining: 75 });
  tracker.tryClaim(250);
  assert.deepEqual(tracker.progress(), { completed: 100, remaining: 0 });
});

test("exact over the whole int64 range", () => {
  const range = offsetRange(INT64_MIN, INT64_MAX);
  const tracker = new OffsetRangeTracker(range);
  assert.equal(tracker.tryClaim(INT64_MIN), true);
  const parts = tracker.trySplit(0.5);
  assert.ok(parts);
  assert.equal(parts.residual.stop, INT64_MAX);
  assert.equal(parts.primary.stop, parts.residual.start);
  // half of the 2^64 - 1 offsets after INT64_MIN, exactly (fractions in steps of 2^-32)
  assert.equal(parts.residual.start, INT64_MIN + ((INT64_MAX - INT64_MIN) >> 1n));
  const near = new OffsetRangeTracker(offsetRange(INT64_MAX - 2n, INT64_MAX));
  assert.equal(near.tryClaim(INT64_MAX - 2n), true);
  assert.equal(near.tryClaim(INT64_MAX - 1n), true);
  assert.equal(near.tryClaim(INT64_MAX), false);
  near.checkDone();
});

test("misuse fails with the offsets named", () => {
  const tracker = new OffsetRangeTracker(offsetRange(5, 10));
  assert.throws(
    () => tracker.tryClaim(4),
    (e: Error) =>
      e instanceof RestrictionError &&
      /claim offset 4, before the start of \[5, 10\)/.test(e.message),
  );
  tracker.tryClaim(6);
  assert.throws(
    () => tracker.tryClaim(6),
    /strictly increase: tried to claim 6 after 6 in \[5, 10\)/,
  );
  assert.throws(
    () => tracker.checkDone(),
    /\[5, 10\) is not done: offsets \[7, 10\) were neither claimed nor split away/,
  );
  assert.throws(() => tracker.trySplit(1), /split fraction must be in \[0, 1\), got 1/);
  assert.throws(() => tracker.tryClaim(2 ** 53), /int64/);
  assert.throws(() => offsetRange(3, 2), /\[3, 2\) has its start after its stop/);
  assert.throws(() => offsetRange(0, INT64_MAX + 1n), /int64/);
  assert.throws(
    () => new OffsetRangeTracker(offsetRange(0, 4)).checkDone(),
    /offsets \[0, 4\) were neither claimed/,
  );
});

test("splitRange cuts into pieces of the desired size; a tail under a quarter of it joins the last piece", () => {
  const cut = (start: number, stop: number, desired: number, min?: number) =>
    splitRange(offsetRange(start, stop), desired, min).map((r) => [
      Number(r.start),
      Number(r.stop),
    ]);
  assert.deepEqual(cut(0, 10, 4), [
    [0, 4],
    [4, 8],
    [8, 10],
  ]);
  assert.deepEqual(
    cut(0, 100, 40),
    [
      [0, 40],
      [40, 80],
      [80, 100],
    ],
    "a tail of 20 ≥ 10 stays",
  );
  assert.deepEqual(
    cut(0, 85, 40),
    [
      [0, 40],
      [40, 85],
    ],
    "a tail of 5 < 10 joins",
  );
  assert.deepEqual(
    cut(0, 10, 1, 5),
    [
      [0, 5],
      [5, 10],
    ],
    "pieces are at least the minimum",
  );
  assert.deepEqual(
    cut(0, 12, 1, 5),
    [
      [0, 5],
      [5, 12],
    ],
    "a tail under the minimum joins",
  );
  assert.deepEqual(cut(7, 7, 4), []);
  assert.throws(() => cut(0, 10, 0), /split sizes must be positive/);
});

test("the shared-memory tracker behaves exactly like the in-memory one", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -50n, max: 50n }),
      fc.integer({ min: 0, max: 60 }),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("claim" as const), step: fc.integer({ min: 1, max: 9 }) }),
          fc.record({
            op: fc.constant("split" as const),
            fraction: fc.double({ min: 0, max: 0.999, noNaN: true }),
          }),
        ),
        { maxLength: 40 },
      ),
      (start, size, ops) => {
        const range = offsetRange(start, start + BigInt(size));
        const plain = new OffsetRangeTracker(range);
        const cell = new SharedOffsetRangeCell();
        cell.begin(range, 0, undefined);
        const shared = new SharedOffsetRangeTracker(cell);
        let position = start;
        const outcome = (f: () => unknown) => {
          try {
            return JSON.stringify(f(), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
          } catch (e) {
            return `throws ${(e as Error).message}`;
          }
        };
        for (const o of ops) {
          if (o.op === "claim") {
            position += BigInt(o.step);
            const p = position;
            assert.equal(
              outcome(() => shared.tryClaim(p)),
              outcome(() => plain.tryClaim(p)),
            );
          } else {
            assert.equal(
              outcome(() => shared.trySplit(o.fraction)),
              outcome(() => plain.trySplit(o.fraction)),
            );
          }
          assert.deepEqual(shared.currentRestriction(), plain.currentRestriction());
          assert.deepEqual(shared.progress(), plain.progress());
          assert.equal(
            outcome(() => shared.checkDone()),
            outcome(() => plain.checkDone()),
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});
