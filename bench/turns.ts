/**
 * The statistics of servers that take turns: A, then B, A, B, A, …, A. These machines drift
 * (another tenant, the kernel's state after thousands of connections), and a turn's figure can
 * move by a tenth from one turn to the next: so each B turn is compared with each A turn beside
 * it, the ratios' median is the figure, and a bootstrap of it gives its range.
 *
 * @module
 */

/**
 * The median; of an even count, the mean of the two middle values.
 *
 * @param values The values (not changed).
 * @returns Their median.
 *
 * @example
 * ```ts
 * import { median } from "./turns.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A's figure over B's, two per B turn: the A turn before it over it, and the one after it over
 * it. A drift of the machine moves the two apart, the same way for every pair, and their median
 * stays; every turn but A's first and last is in two ratios, so a bad turn of either server moves
 * as many ratios, and the median leans to neither.
 *
 * @param onA A's turns, one more than B's (A went first and last).
 * @param onB B's turns.
 * @returns The ratios, two per B turn, in order.
 * @throws {RangeError} When A has not exactly one turn more than B.
 *
 * @example
 * ```ts
 * import { median, pairedRatios } from "./turns.ts";
 * import assert from "node:assert/strict";
 *
 * // The machine slows down during the run; A is always twice as fast as B.
 * const ratios = pairedRatios([100, 80, 60], [45, 35]);
 * assert.deepEqual(ratios.map((r) => r.toFixed(3)), ["2.222", "1.778", "2.286", "1.714"]);
 * assert.equal(median(ratios), 2);
 * ```
 */
export function pairedRatios(onA: readonly number[], onB: readonly number[]): number[] {
  if (onA.length !== onB.length + 1) {
    throw new RangeError(`A takes one turn more than B: got ${onA.length} and ${onB.length}`);
  }
  return onB.flatMap((b, i) => [onA[i] / b, onA[i + 1] / b]);
}

const RESAMPLES = 2000;

// A small seeded generator (mulberry32): the same figures give the same range on every run.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Where the median of `values` would fall, 90 times in 100, were the turns taken again: the 5th
 * and 95th percentiles of the medians of 2,000 resamples (drawn with replacement, seeded).
 *
 * @param values The values, such as paired ratios.
 * @returns The low and high ends.
 * @throws {RangeError} When there are no values.
 *
 * @example
 * ```ts
 * import { medianRange } from "./turns.ts";
 * import assert from "node:assert/strict";
 *
 * const [low, high] = medianRange([0.9, 1, 1.1, 1, 0.95, 1.05, 1]);
 * assert.ok(0.9 <= low && low <= 1 && 1 <= high && high <= 1.1);
 * assert.deepEqual(medianRange([2, 2, 2]), [2, 2]);
 * ```
 */
export function medianRange(values: readonly number[]): [number, number] {
  if (values.length === 0) throw new RangeError("no values to resample");
  const random = seeded(1);
  const medians = Array.from(
    { length: RESAMPLES },
    () => median(values.map(() => values[Math.floor(random() * values.length)])),
  ).sort((x, y) => x - y);
  return [medians[Math.floor(RESAMPLES * 0.05)], medians[Math.ceil(RESAMPLES * 0.95) - 1]];
}
