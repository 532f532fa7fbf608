/**
 * What the connections of the transports whose sockets push their data
 * (`node:net`, Bun's sockets) share: reads, watching and departure, all
 * answered by one {@linkcode ReadQueue}.
 *
 * @module
 */

import { type PausableSocket, ReadQueue } from "./read_queue.ts";
import type { Address, Connection } from "../transport.ts";

/**
 * A connection whose reads come from a {@linkcode ReadQueue}: the subclass
 * feeds {@linkcode PushedConnection.reads} from its socket's events (data,
 * end, gone) and writes and closes as its socket does.
 *
 * @example
 * ```ts
 * import { PushedConnection } from "./pushed_connection.ts";
 * import assert from "node:assert/strict";
 *
 * class Memory extends PushedConnection {
 *   readonly remoteAddr = { transport: "unix" as const, path: "/tmp/memory.sock" };
 *   constructor() {
 *     super({ pause() {}, resume() {} });
 *   }
 *   receive(chunk: Uint8Array): void {
 *     this.reads.push(chunk);
 *   }
 *   write(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   closeWrite(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   close(): void {
 *     this.reads.gone();
 *   }
 * }
 *
 * const connection = new Memory();
 * connection.receive(new Uint8Array([104, 105]));
 * assert.deepEqual(await connection.read(), new Uint8Array([104, 105]));
 * connection.close();
 * await connection.watch();
 * await connection.departed();
 * assert.equal(await connection.read(), null);
 * ```
 */
export abstract class PushedConnection implements Connection {
  /** The peer's address. */
  abstract readonly remoteAddr: Address;
  /** The read side, which the subclass feeds from its socket's events. */
  protected readonly reads: ReadQueue;

  /**
   * Creates the connection's read side.
   *
   * @param socket The socket the read side pauses and resumes (and probes, when it can).
   * @param readAheadBytes Bytes read before the first read, at most (see {@linkcode ReadQueue}).
   */
  constructor(socket: PausableSocket, readAheadBytes?: number) {
    this.reads = new ReadQueue(socket, readAheadBytes);
  }

  /**
   * Reads the next chunk.
   *
   * @returns The chunk, or `null` once the stream has ended, been reset or been closed.
   */
  read(): Promise<Uint8Array | null> {
    return this.reads.read();
  }

  /**
   * Waits for the connection to go: reset, failed or closed.
   *
   * @returns A promise that resolves once the connection is gone.
   */
  watch(): Promise<void> {
    return this.reads.watch();
  }

  /**
   * Waits for the peer to leave while it waits to be served: gone, or ended
   * with nothing sent.
   *
   * @returns A promise that resolves once the peer has left.
   */
  departed(): Promise<void> {
    return this.reads.departed();
  }

  /**
   * Writes all of `data`.
   *
   * @param data The bytes to send.
   */
  abstract write(data: Uint8Array): Promise<void>;

  /** Sends an end of stream after the bytes written so far. */
  abstract closeWrite(): Promise<void>;

  /** Closes the connection. Idempotent. */
  abstract close(): void;
}
