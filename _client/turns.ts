/**
 * Turns: callers take a place in line when they call, and each one's turn
 * comes once every caller before it has released its own.
 *
 * @module
 */

/** One place in a {@linkcode TurnQueue}. */
export interface Turn {
  /** Resolves once every earlier turn is released. */
  ready: Promise<void>;
  /** Ends this turn; before it is ready too (a caller that gave up): the next one then follows the earlier ones. */
  release(): void;
}

/**
 * A line of callers, served in the order they took their places.
 *
 * @example Usage
 * ```ts
 * import { TurnQueue } from "./turns.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new TurnQueue();
 * const order: string[] = [];
 * const first = queue.take();
 * const second = queue.take();
 * const third = queue.take();
 * second.release(); // gave up before its turn: it does not hold up the third
 * const done = third.ready.then(() => order.push("third"));
 * await first.ready;
 * order.push("first");
 * first.release();
 * await done;
 * assert.deepEqual(order, ["first", "third"]);
 * ```
 */
export class TurnQueue {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Takes the next place in line.
   *
   * @returns The turn: wait for `ready`, then `release` it.
   */
  take(): Turn {
    const ready = this.#tail;
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    this.#tail = ready.then(() => released);
    return { ready, release };
  }
}
