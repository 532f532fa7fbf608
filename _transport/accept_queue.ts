/**
 * Connections a listener has accepted, held until the server asks for the
 * next one: every transport accepts as connections come, so that the waiting
 * ones are bounded by {@linkcode ListenLimits.maxWaiting} and not by the
 * kernel's backlog, and one that leaves while it waits is dropped.
 *
 * @module
 */

import type { ListenLimits } from "../transport.ts";
import { systemClock } from "../_util/clock.ts";
import type { Clock, Timer } from "../_util/clock.ts";

// How long a connection that finds the queue full is held, for connections
// that left meanwhile to be seen and dropped, before it is refused; and how
// many are held at most (each holds a descriptor, beyond maxWaiting: few, so
// that they fit in the descriptors the server keeps spare).
const HOLD_MS = 100;
const MAX_HELD = 16;

/**
 * A bounded queue of accepted connections (or sockets) with one waiting taker.
 *
 * A connection that finds the queue full is not refused at once: waiting
 * connections that left may not have been seen to go yet (their end of
 * stream is still on its way), so it is held a moment and refused only if
 * the queue is still full then.
 *
 * @example
 * ```ts
 * import { AcceptQueue } from "./accept_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const refused: string[] = [];
 * const limits = { maxWaiting: 2, handshakeTimeout: 1, closeTimeout: 1, onRefused() {} };
 * const queue = new AcceptQueue<string>(limits, (item) => refused.push(item));
 * assert.equal(queue.push("first"), true);
 * assert.equal(queue.push("second"), true);
 * assert.equal(queue.push("third"), true); // full: held a moment
 * queue.remove("first"); // it left while it waited: "third" takes its place
 * assert.equal(await queue.next(), "second");
 * assert.equal(await queue.next(), "third");
 * assert.deepEqual(refused, []);
 * assert.deepEqual(queue.close(), []);
 * assert.equal(await queue.next(), null);
 * ```
 */
export class AcceptQueue<T> {
  readonly #items: T[] = [];
  // Connections that found the queue full, held for HOLD_MS.
  readonly #held: T[] = [];
  #holdTimer: Timer | undefined;
  readonly #clock: Clock;
  // Resolved once no connection is held any more.
  #settled: PromiseWithResolvers<void> | undefined;
  readonly #limits: ListenLimits;
  readonly #close: (item: T) => void;
  #waiting: { resolve(item: T | null): void; reject(error: unknown): void } | undefined;
  #failure: unknown;
  #closed = false;

  /**
   * Creates the queue.
   *
   * @param limits Its bound (`maxWaiting`) and whom to tell of a refusal.
   * @param close Closes a connection the queue lets go of: refused after it was held, or
   *   dropped because it left.
   * @param clock Times the hold.
   */
  constructor(limits: ListenLimits, close: (item: T) => void, clock: Clock = systemClock) {
    this.#limits = limits;
    this.#close = close;
    this.#clock = clock;
  }

  /** How many connections wait to be taken (those held a moment included). */
  get length(): number {
    return this.#items.length + this.#held.length;
  }

  /** Whether {@linkcode AcceptQueue.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Hands over an accepted connection, to the waiting taker or the queue;
   * when the queue is full, it is held a moment (see the class).
   *
   * @param item The connection.
   * @returns `false` when the queue is closed, or full with as many held as
   *   may be (the listener is told of a refusal): the caller closes the
   *   connection. Otherwise the queue owns it until it is taken, removed or
   *   refused.
   */
  push(item: T): boolean {
    if (this.#closed) return false;
    if (this.#items.length < this.#limits.maxWaiting) {
      this.#admit(item);
      return true;
    }
    if (this.#held.length >= MAX_HELD) {
      this.#limits.onRefused();
      return false;
    }
    this.#held.push(item);
    this.#holdTimer ??= this.#clock.setTimeout(() => this.#refuseHeld(), HOLD_MS);
    return true;
  }

  #admit(item: T): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting.resolve(item);
    else this.#items.push(item);
  }

  // Moves held connections into the queue while there is room.
  #admitHeld(): void {
    while (this.#held.length > 0 && this.#items.length < this.#limits.maxWaiting) {
      this.#admit(this.#held.shift()!);
    }
    if (this.#held.length === 0) this.#settle();
  }

  #settle(): void {
    this.#clock.clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#settled?.resolve();
    this.#settled = undefined;
  }

  /**
   * Waits until no connection is held (each was admitted or refused): a
   * listener that accepts in a loop waits here rather than accept on while
   * the queue is full, so that the departures it waits for can be seen.
   *
   * @returns A promise that resolves at once when none is held.
   */
  settled(): Promise<void> {
    if (this.#held.length === 0) return Promise.resolve();
    this.#settled ??= Promise.withResolvers();
    return this.#settled.promise;
  }

  #refuseHeld(): void {
    this.#admitHeld();
    for (const item of this.#held.splice(0)) {
      this.#limits.onRefused();
      this.#close(item);
    }
    this.#settle();
  }

  /**
   * Drops a connection that left while it waited (or was held).
   *
   * @param item The connection.
   * @returns Whether it still waited (and was dropped), not taken already.
   */
  remove(item: T): boolean {
    const held = this.#held.indexOf(item);
    if (held !== -1) {
      this.#held.splice(held, 1);
      if (this.#held.length === 0) this.#settle();
      return true;
    }
    const index = this.#items.indexOf(item);
    if (index === -1) return false;
    this.#items.splice(index, 1);
    this.#admitHeld();
    return true;
  }

  /**
   * Hands over an accepted connection as {@linkcode AcceptQueue.push} does,
   * and owns it from then on: closes it when it is refused, and drops and
   * closes it if its peer leaves while it waits.
   *
   * @param item The connection.
   * @param departed Resolves once its peer has left while it waits; called
   *   only for a connection the queue took and did not hand to a waiting
   *   taker at once.
   */
  offer(item: T, departed: () => Promise<void>): void {
    // With a taker waiting, the connection is taken at once: it never waits, so no departure
    // is watched for (which on Deno would start a read ahead of the taker's first read).
    const takenAtOnce = this.#waiting !== undefined;
    if (!this.push(item)) {
      this.#close(item);
      return;
    }
    if (!takenAtOnce) departed().then(() => this.drop(item));
  }

  /**
   * Drops a connection that left while it waited (or was held), and closes
   * it; one already taken is its taker's to close.
   *
   * @param item The connection.
   */
  drop(item: T): void {
    if (this.remove(item)) this.#close(item);
  }

  /**
   * Reports a failure to accept (such as running out of file descriptors):
   * the waiting taker, or else the next one, gets it.
   *
   * @param error The failure.
   */
  fail(error: unknown): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting.reject(error);
    else this.#failure ??= error;
  }

  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the queue is closed.
   */
  next(): Promise<T | null> {
    if (this.#closed) return Promise.resolve(null);
    const item = this.#items.shift();
    if (item !== undefined) {
      this.#admitHeld();
      return Promise.resolve(item);
    }
    const failure = this.#failure;
    if (failure !== undefined) {
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  /**
   * Closes the queue: the waiting taker gets `null`.
   *
   * @returns The connections nobody took, for the caller to close.
   */
  close(): T[] {
    this.#closed = true;
    this.#settle();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(null);
    return [...this.#items.splice(0), ...this.#held.splice(0)];
  }
}
