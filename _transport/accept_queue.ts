/**
 * Connections a listener has accepted, held until the server asks for the
 * next one: every transport accepts as connections come, so that the waiting
 * ones are bounded by {@linkcode ListenLimits.maxWaiting} and not by the
 * kernel's backlog, and one that leaves while it waits is dropped.
 *
 * @module
 */

import type { ListenLimits } from "../transport.ts";

/**
 * A bounded queue of accepted connections (or sockets) with one waiting taker.
 *
 * @example
 * ```ts
 * import { AcceptQueue } from "./accept_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new AcceptQueue<string>({
 *   maxWaiting: 2,
 *   handshakeTimeout: 1,
 *   closeTimeout: 1,
 *   onRefused() {},
 * });
 * assert.equal(queue.push("first"), true);
 * assert.equal(queue.push("second"), true);
 * assert.equal(queue.push("third"), false); // full: the caller closes it
 * queue.remove("first"); // it left while it waited
 * assert.equal(await queue.next(), "second");
 * assert.deepEqual(queue.close(), []);
 * assert.equal(await queue.next(), null);
 * ```
 */
export class AcceptQueue<T> {
  readonly #items: T[] = [];
  readonly #limits: ListenLimits;
  #waiting: { resolve(item: T | null): void; reject(error: unknown): void } | undefined;
  #failure: unknown;
  #closed = false;

  /**
   * Creates the queue.
   *
   * @param limits Its bound (`maxWaiting`) and whom to tell of a refusal.
   */
  constructor(limits: ListenLimits) {
    this.#limits = limits;
  }

  /** How many connections wait to be taken. */
  get length(): number {
    return this.#items.length;
  }

  /** Whether {@linkcode AcceptQueue.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Hands over an accepted connection, to the waiting taker or the queue.
   *
   * @param item The connection.
   * @returns `false` when the queue is closed or full (the listener is told
   *   of a refusal): the caller closes the connection.
   */
  push(item: T): boolean {
    if (this.#closed) return false;
    if (this.#items.length >= this.#limits.maxWaiting) {
      this.#limits.onRefused();
      return false;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting.resolve(item);
    else this.#items.push(item);
    return true;
  }

  /**
   * Drops a connection that left while it waited.
   *
   * @param item The connection.
   * @returns Whether it still waited (and was dropped), not taken already.
   */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item);
    if (index !== -1) this.#items.splice(index, 1);
    return index !== -1;
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
    if (item !== undefined) return Promise.resolve(item);
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
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(null);
    return this.#items.splice(0);
  }
}
