/**
 * The back-off after an accept that failed for a reason that is not one
 * connection's (such as running out of file descriptors), shared by the
 * server's accept loop and the listeners that accept on their own.
 *
 * @module
 */

const FIRST_RETRY_MS = 10;
const LAST_RETRY_MS = 1000;

/**
 * The next wait: doubling from 10 ms to at most 1 s.
 *
 * @param previous The last wait, or `0` after a success.
 * @returns Milliseconds to wait before the next try.
 *
 * @example
 * ```ts
 * import { nextRetryMs } from "./retry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([0, 10, 640, 1000].map(nextRetryMs), [10, 20, 1000, 1000]);
 * ```
 */
export function nextRetryMs(previous: number): number {
  return Math.min(Math.max(previous * 2, FIRST_RETRY_MS), LAST_RETRY_MS);
}
