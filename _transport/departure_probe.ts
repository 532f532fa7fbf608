/**
 * Probing a connection that is not read for whether its peer is gone: a
 * reset shows only to a read or a write, and a paused connection is not read,
 * so an empty write every {@linkcode PROBE_INTERVAL_MS} asks the kernel. An
 * empty write sends nothing the peer could see.
 *
 * @module
 */

import { systemClock } from "../_util/clock.ts";
import type { Clock, Timer } from "../_util/clock.ts";

/** Milliseconds between two probes of a connection that is not read. */
export const PROBE_INTERVAL_MS = 50;

/** Sent by a probe: no bytes at all. */
export const EMPTY_WRITE: Uint8Array = new Uint8Array(0);

/**
 * Probes with `write` until {@linkcode DepartureProbe.stop}, or until a probe
 * fails, which calls `gone`.
 *
 * @example
 * ```ts
 * import { DepartureProbe } from "./departure_probe.ts";
 * import assert from "node:assert/strict";
 *
 * let probes = 0;
 * const gone = Promise.withResolvers<void>();
 * const probe = new DepartureProbe(() => {
 *   probes++;
 *   return probes < 2 ? Promise.resolve() : Promise.reject(new Error("reset"));
 * }, gone.resolve);
 * probe.start();
 * await gone.promise; // the second probe failed
 * assert.equal(probes, 2);
 * assert.equal(probe.probing, false);
 * ```
 */
export class DepartureProbe {
  readonly #write: () => Promise<void>;
  readonly #gone: () => void;
  readonly #clock: Clock;
  #timer: Timer | undefined;

  /**
   * Creates a probe that is not yet started.
   *
   * @param write Writes nothing; rejects once the connection is gone.
   * @param gone Told once a probe failed.
   * @param clock Times the probes.
   */
  constructor(write: () => Promise<void>, gone: () => void, clock: Clock = systemClock) {
    this.#write = write;
    this.#gone = gone;
    this.#clock = clock;
  }

  /** Whether it probes now. */
  get probing(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts probing, unless it already does. */
  start(): void {
    if (this.#timer === undefined) this.#next();
  }

  // One timer at a time, set again as each probe is sent: an interval, on any clock.
  #next(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#next();
      this.#write().catch(() => {
        this.stop();
        this.#gone();
      });
    }, PROBE_INTERVAL_MS);
  }

  /** Stops probing. Idempotent. */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
