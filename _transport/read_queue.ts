/**
 * The read side of a connection whose socket pushes its data (`node:net`,
 * Bun's sockets), turned into the pull-style reads of the transport seam.
 *
 * @module
 */

import { DepartureProbe } from "./departure_probe.ts";
import { SERVED_READ_AHEAD_BYTES } from "./read_ahead.ts";

// Unread bytes queued before the socket is paused, so a reader that falls
// behind slows the peer down instead of growing memory.
const HIGH_WATER_BYTES = SERVED_READ_AHEAD_BYTES;

/** A socket that can stop and restart pushing data. */
export interface PausableSocket {
  /** Stops delivering data. */
  pause(): void;
  /** Delivers data again. */
  resume(): void;
  /**
   * Writes nothing, to learn whether the connection is gone while it is
   * paused (see `departure_probe.ts`); rejects once it is. Optional: a socket
   * that reports a reset even while paused needs none.
   */
  probe?(): Promise<void>;
}

/**
 * Queues pushed chunks for {@linkcode ReadQueue.read}, pausing the socket
 * while too much waits unread and resuming it when a reader needs more.
 *
 * @example
 * ```ts
 * import { ReadQueue } from "./read_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new ReadQueue({ pause() {}, resume() {} });
 * queue.push(new Uint8Array([104, 105]));
 * queue.end();
 * assert.deepEqual(await queue.read(), new Uint8Array([104, 105]));
 * assert.equal(await queue.read(), null);
 * ```
 */
export class ReadQueue {
  readonly #socket: PausableSocket;
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;
  // Unread bytes queued before the socket is paused: the read-ahead until the
  // first read, HIGH_WATER_BYTES from then on.
  #highWater: number;
  #paused = false;
  #ended = false;
  #waiting: ((chunk: Uint8Array | null) => void) | undefined;
  // Whether the peer has sent anything at all: one that ends its side with
  // nothing sent has left (it can be owed no answer).
  #received = false;
  readonly #gone = Promise.withResolvers<void>();
  readonly #departed = Promise.withResolvers<void>();
  // Probes the paused socket, when it can, so that a reset is seen at once.
  readonly #probe: DepartureProbe | undefined;

  /**
   * Creates the queue.
   *
   * @param socket The socket it pauses and resumes.
   * @param readAheadBytes Bytes queued before the first read at most (give
   * or take one chunk), such as while a connection waits its turn and is
   * read only to learn whether it leaves.
   */
  constructor(socket: PausableSocket, readAheadBytes: number = HIGH_WATER_BYTES) {
    this.#socket = socket;
    this.#highWater = readAheadBytes;
    const probe = socket.probe?.bind(socket);
    if (probe !== undefined) this.#probe = new DepartureProbe(probe, () => this.gone());
  }

  /**
   * Takes a chunk the socket delivered.
   *
   * @param chunk The bytes, which the queue keeps.
   */
  push(chunk: Uint8Array): void {
    this.#received = true;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= this.#highWater) this.pause();
  }

  /** Pauses the socket until a read needs more. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
    this.#probe?.start();
  }

  /**
   * Ends the stream (the peer's end of stream): once the queue is empty,
   * reads resolve to `null`. Idempotent.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#probe?.stop();
    if (!this.#received) this.#departed.resolve();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(null);
  }

  /**
   * The connection is gone (reset, failed or closed): ends the stream too.
   * Idempotent.
   */
  gone(): void {
    this.end();
    this.#probe?.stop();
    this.#gone.resolve();
    this.#departed.resolve();
  }

  /**
   * Waits for the connection to go, as `Connection.watch` does.
   *
   * @returns A promise that resolves once {@linkcode ReadQueue.gone} has been called.
   */
  watch(): Promise<void> {
    return this.#gone.promise;
  }

  /**
   * Waits for the peer to leave, as a listener sees a waiting connection:
   * gone, or its side ended with nothing sent.
   *
   * @returns A promise that resolves once the peer has left.
   */
  departed(): Promise<void> {
    return this.#departed.promise;
  }

  /**
   * Reads the next chunk.
   *
   * @returns The chunk, or `null` once the stream has ended.
   */
  read(): Promise<Uint8Array | null> {
    this.#highWater = HIGH_WATER_BYTES;
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      this.#bytes -= chunk.length;
      if (this.#chunks.length === 0) this.#resume();
      return Promise.resolve(chunk);
    }
    if (this.#ended) return Promise.resolve(null);
    this.#resume();
    return new Promise((resolve) => this.#waiting = resolve);
  }

  #resume(): void {
    if (!this.#paused || this.#ended) return;
    this.#paused = false;
    this.#probe?.stop();
    this.#socket.resume();
  }
}
