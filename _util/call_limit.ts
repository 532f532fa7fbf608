/**
 * The limit of one call: its time limit, counted from the moment the call is
 * made, and the signals that end it early, as one `AbortSignal`.
 *
 * @module
 */

import { systemClock } from "./clock.ts";
import type { Clock, Timer } from "./clock.ts";

/**
 * One call's limit. Its `signal` aborts when the time runs out (with the
 * error `onTimeout` makes for the stage the call is at), or when any of the
 * given signals aborts (with that signal's reason). Call `dispose()` when the
 * call ends: the timer is then cleared.
 *
 * @example Usage
 * ```ts
 * import { CallLimit } from "./call_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const limit = new CallLimit(20, [undefined], (stage) => new Error(`timed out at ${stage}`));
 * assert.equal(await limit.wait(Promise.resolve(1), "turn"), 1);
 * await assert.rejects(limit.wait(new Promise(() => {}), "read"), /timed out at read/);
 * limit.dispose();
 * ```
 */
export class CallLimit<Stage extends string = string> {
  /** Aborts when the call must give up. */
  readonly signal: AbortSignal;
  /** The stage the call is at, for the timeout's error. */
  stage: Stage | undefined;
  readonly #clock: Clock;
  readonly #timer: Timer | undefined;

  /**
   * Starts the limit now.
   *
   * @param timeout Milliseconds; `Infinity` for none.
   * @param signals Signals that end the call early; `undefined` ones are skipped.
   * @param onTimeout Makes the error of a timeout at a stage.
   * @param clock Times the limit.
   */
  constructor(
    timeout: number,
    signals: readonly (AbortSignal | undefined)[],
    onTimeout: (stage: Stage | undefined) => Error,
    clock: Clock = systemClock,
  ) {
    const own = new AbortController();
    this.#clock = clock;
    if (timeout !== Infinity) {
      this.#timer = clock.setTimeout(() => own.abort(onTimeout(this.stage)), timeout);
    }
    const given = signals.filter((signal) => signal !== undefined);
    this.signal = given.length === 0 ? own.signal : AbortSignal.any([...given, own.signal]);
  }

  /**
   * Waits for `promise` at a stage of the call, until the limit ends it.
   *
   * @param promise What to wait for.
   * @param stage The stage the call is now at.
   * @returns What `promise` resolves to.
   */
  wait<T>(promise: Promise<T>, stage: Stage): Promise<T> {
    this.stage = stage;
    return orAbort(promise, this.signal);
  }

  /** Clears the timer. */
  dispose(): void {
    this.#clock.clearTimeout(this.#timer);
  }
}

/**
 * Waits for `promise` until `signal` aborts, then rejects with its reason
 * (at once when it has aborted already). The listener is always removed.
 *
 * @param promise What to wait for.
 * @param signal Ends the wait.
 * @returns What `promise` resolves to.
 *
 * @example Usage
 * ```ts
 * import { orAbort } from "./call_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const reason = new Error("cancelled");
 * await assert.rejects(orAbort(new Promise(() => {}), AbortSignal.abort(reason)), /cancelled/);
 * assert.equal(await orAbort(Promise.resolve(2), new AbortController().signal), 2);
 * ```
 */
export function orAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
