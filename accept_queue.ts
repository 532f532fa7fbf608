/**
 * Connections a runtime has already accepted, held until the server asks for
 * the next one: the listener side of the transports whose runtime accepts on
 * its own (`node:net`, Bun, Deno's TLS handshakes).
 *
 * @module
 */

/**
 * A queue of accepted connections (or sockets) with one waiting taker.
 *
 * @example
 * ```ts
 * import { AcceptQueue } from "./accept_queue.ts";
 *
 * const queue = new AcceptQueue<string>();
 * queue.push("first");
 * await queue.next(); // "first"
 * queue.close(); // [] (nothing was left waiting)
 * await queue.next(); // null
 * ```
 */
export class AcceptQueue<T> {
  readonly #items: T[] = [];
  #waiting: { resolve(item: T | null): void; reject(error: unknown): void } | undefined;
  #failure: unknown;
  #closed = false;

  /** Whether {@linkcode AcceptQueue.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Hands over an accepted connection, to the waiting taker or the queue.
   *
   * @param item The connection.
   * @returns `false` when the queue is closed: the caller closes the connection.
   */
  push(item: T): boolean {
    if (this.#closed) return false;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting.resolve(item);
    else this.#items.push(item);
    return true;
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
