/**
 * A session's idle timeout: one timer, counting from the client's last
 * progress.
 *
 * @module
 */

import type { Clock, Timer } from "../_util/clock.ts";

/**
 * Tells `expired` once the client has made no progress for `timeout` ms,
 * unless `excused()` holds when the time is up (then it waits a whole
 * `timeout` more). One timer, set again for the time left, instead of one per
 * read.
 *
 * @example
 * ```ts
 * import { IdleTimer } from "./idle_timer.ts";
 * import { systemClock } from "../_util/clock.ts";
 * import assert from "node:assert/strict";
 *
 * const expired = Promise.withResolvers<void>();
 * const idle = new IdleTimer(systemClock, 5, () => false, expired.resolve);
 * idle.start();
 * idle.progress();
 * await expired.promise;
 * idle.stop();
 * assert.ok(true);
 * ```
 */
export class IdleTimer {
  readonly #clock: Clock;
  readonly #timeout: number;
  readonly #excused: () => boolean;
  readonly #expired: () => void;
  #last = 0;
  #timer: Timer | undefined;

  /**
   * Creates the timer, not yet started.
   *
   * @param clock The clock.
   * @param timeout Milliseconds without progress.
   * @param excused Whether the quiet is not the client's (a handler runs).
   * @param expired Told when the time is up.
   */
  constructor(clock: Clock, timeout: number, excused: () => boolean, expired: () => void) {
    this.#clock = clock;
    this.#timeout = timeout;
    this.#excused = excused;
    this.#expired = expired;
  }

  /** Starts counting, from now. */
  start(): void {
    this.#last = this.#clock.now();
    this.#timer = this.#clock.setTimeout(this.#check, this.#timeout);
  }

  /** The client made progress now. */
  progress(): void {
    this.#last = this.#clock.now();
  }

  /** Stops counting. Idempotent. */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
  }

  readonly #check = (): void => {
    const quiet = this.#clock.now() - this.#last;
    if (this.#excused()) this.#timer = this.#clock.setTimeout(this.#check, this.#timeout);
    else if (quiet < this.#timeout) {
      this.#timer = this.#clock.setTimeout(this.#check, this.#timeout - quiet);
    } else this.#expired();
  };
}
