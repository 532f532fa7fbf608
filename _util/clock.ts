/**
 * Time, behind one small seam: what reads the time and sets timers takes a
 * {@linkcode Clock}, so that tests can drive it with fake time.
 *
 * @module
 */

declare const timerBrand: unique symbol;

/** A timer set by a {@linkcode Clock}, for its `clearTimeout`. */
export type Timer = { readonly [timerBrand]: true };

/** Reads the time and sets timers. */
export interface Clock {
  /** Milliseconds since some fixed point; only differences mean anything. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Cancels a timer; `undefined` or a timer that has run is ignored. */
  clearTimeout(timer: Timer | undefined): void;
}

/**
 * The runtime's clock: a monotonic `now()` (`performance.now()`, which no
 * change of the system time moves) and the runtime's timers.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * const start = systemClock.now();
 * const fired = await new Promise<boolean>((resolve) => systemClock.setTimeout(() => resolve(true), 5));
 * assert.equal(fired, true);
 * assert.ok(systemClock.now() >= start);
 * systemClock.clearTimeout(systemClock.setTimeout(() => assert.fail("cleared"), 0));
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as number),
};

/**
 * Resolves after `ms` on `clock`, or at once when `signal` aborts (it never
 * rejects); the timer and the listener are always removed.
 *
 * @param clock The clock.
 * @param ms Milliseconds.
 * @param signal Ends the wait early.
 * @returns A promise of the end of the wait.
 *
 * @example
 * ```ts
 * import { sleep, systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * await sleep(systemClock, 1);
 * const start = systemClock.now();
 * await sleep(systemClock, 60_000, AbortSignal.abort());
 * assert.ok(systemClock.now() - start < 60_000);
 * ```
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
