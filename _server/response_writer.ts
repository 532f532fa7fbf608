/**
 * The writer of one session's responses: what the session buffers goes out
 * one write at a time, in order.
 *
 * @module
 */

import type { Connection } from "../transport.ts";
import type { ResponseBuffer } from "./response_buffer.ts";

const DONE = Promise.resolve();
// Responses go out in slices of this size at most when progress is counted,
// so that a client slowly taking a large answer still makes progress.
const WRITE_SLICE_BYTES = 256 * 1024;

/**
 * Writes a session's buffered responses. While an async handler runs, its
 * sends may flush too, so one writer writes for all (and every caller waits
 * for it); otherwise only the exchange writes, and awaits each write.
 *
 * @example
 * ```ts
 * import { ResponseWriter } from "./response_writer.ts";
 * import { ResponseBuffer } from "./response_buffer.ts";
 * import type { Connection } from "../transport.ts";
 * import assert from "node:assert/strict";
 *
 * const wire: string[] = [];
 * const connection = {
 *   remoteAddr: { transport: "unix", path: "/tmp/x.sock" },
 *   read: () => Promise.resolve(null),
 *   write: (data: Uint8Array) => (wire.push(new TextDecoder().decode(data)), Promise.resolve()),
 *   closeWrite: () => Promise.resolve(),
 *   watch: () => new Promise<void>(() => {}),
 *   close() {},
 * } satisfies Connection;
 * const responses = new ResponseBuffer(new Uint8Array([0x0a]));
 * const writer = new ResponseWriter(connection, responses, () => false);
 * responses.appendLine("pong");
 * await writer.flush();
 * assert.deepEqual(wire, ["pong\n"]);
 * ```
 */
export class ResponseWriter {
  readonly #connection: Connection;
  readonly #responses: ResponseBuffer;
  readonly #overlapping: () => boolean;
  readonly #progress: (() => void) | undefined;
  // The one writer while writes may overlap; undefined when none writes.
  #writing: Promise<void> | undefined;

  /**
   * Creates the writer.
   *
   * @param connection Where the responses go.
   * @param responses What is buffered for it.
   * @param overlapping Whether writes may overlap now (an async handler runs).
   * @param progress Told of each slice the client takes, when progress is counted.
   */
  constructor(
    connection: Connection,
    responses: ResponseBuffer,
    overlapping: () => boolean,
    progress?: () => void,
  ) {
    this.#connection = connection;
    this.#responses = responses;
    this.#overlapping = overlapping;
    this.#progress = progress;
  }

  /** Whether the one writer writes now (the client is taking what was sent). */
  get busy(): boolean {
    return this.#writing !== undefined;
  }

  /**
   * Writes what is buffered.
   *
   * @returns A promise that resolves once it is written; rejects when the connection is gone.
   */
  flush(): Promise<void> {
    if (this.#writing !== undefined) return this.#writing;
    if (this.#responses.length === 0) return DONE;
    // Without overlapping writes, no writer is kept: the same bytes go out for less.
    // Stryker disable next-line ConditionalExpression,BlockStatement: only the cost differs
    if (!this.#overlapping()) {
      const written = this.#write(this.#responses.take());
      // Stryker disable next-line ConditionalExpression: flushing an empty buffer writes nothing
      return this.#responses.length === 0 ? written : written.then(() => this.flush());
    }
    this.#writing = this.#writeAll();
    return this.#writing;
  }

  // The one writer while writes overlap: writes until nothing is left, so
  // that lines appended meanwhile go out too.
  async #writeAll(): Promise<void> {
    try {
      while (this.#responses.length > 0) await this.#write(this.#responses.take());
    } finally {
      this.#writing = undefined;
    }
  }

  #write(bytes: Uint8Array): Promise<void> {
    return this.#progress === undefined
      ? this.#connection.write(bytes)
      : this.#writeSlices(bytes, this.#progress);
  }

  async #writeSlices(bytes: Uint8Array, progress: () => void): Promise<void> {
    for (let start = 0; start < bytes.length; start += WRITE_SLICE_BYTES) {
      await this.#connection.write(bytes.subarray(start, start + WRITE_SLICE_BYTES));
      progress();
    }
  }
}
