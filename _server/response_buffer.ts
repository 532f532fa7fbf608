/**
 * The server's output buffer: response lines encoded back to back, so all
 * responses of one read go out in one write.
 *
 * @module
 */

// Small, as many sessions answer a few short lines and a large buffer per
// connection shows in the cost of short connections (see the README's
// performance section); a big first batch grows it at once.
const INITIAL_BYTES = 256;
// A buffer grown past this by one big batch is dropped after use, so one
// large response does not pin its memory for the rest of the connection.
const KEEP_BYTES = 1024 * 1024;
const LF = 0x0a;
const SMALL_BYTES = 16;
const encoder = new TextEncoder();

/**
 * Encoded response lines waiting to be written.
 *
 * @example Usage
 * ```ts
 * import { ResponseBuffer } from "./response_buffer.ts";
 * import assert from "node:assert/strict";
 *
 * const buffer = new ResponseBuffer();
 * buffer.appendLine("pong");
 * buffer.appendLine("ack");
 * assert.equal(new TextDecoder().decode(buffer.take()), "pong\nack\n");
 * assert.equal(buffer.length, 0);
 * ```
 */
export class ResponseBuffer {
  #bytes = new Uint8Array(INITIAL_BYTES);
  // The array the last take() handed out, which the next lines must not
  // overwrite while it is being written; the one after next goes into it.
  #taken: Uint8Array<ArrayBuffer> | undefined;
  #length = 0;

  /**
   * Bytes waiting to be written.
   *
   * @returns The byte count.
   */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends one line and its LF. The caller has checked that `text` holds
   * no CR or LF.
   *
   * @param text The line.
   */
  appendLine(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#reserve(text.length * 3 + 1);
    // Views are made from the buffer (#bytes always starts at its offset 0):
    // that costs less than subarray(), which looks up the array's species.
    const rest = new Uint8Array(this.#bytes.buffer, this.#length);
    const { written } = encoder.encodeInto(text, rest);
    this.#length += written;
    this.#bytes[this.#length++] = LF;
  }

  /**
   * Appends bytes that are already encoded and framed.
   *
   * @param bytes The bytes, LF included.
   */
  appendBytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    // A loop beats set() on a few bytes (such as each "pong"). Which one copies, and one more
    // turn (a zero past the end, where the next append writes), change no byte taken.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only the copy's speed differs
    if (bytes.length <= SMALL_BYTES) {
      for (let i = 0; i < bytes.length; i++) this.#bytes[this.#length + i] = bytes[i];
    } else {
      this.#bytes.set(bytes, this.#length);
    }
    this.#length += bytes.length;
  }

  /**
   * Takes everything buffered and empties the buffer. Lines appended
   * meanwhile go to another array, so the returned view stays valid until
   * the next take: write it out before taking again.
   *
   * @returns The buffered bytes.
   */
  take(): Uint8Array {
    const bytes = this.#bytes;
    const taken = new Uint8Array(bytes.buffer, 0, this.#length);
    this.#length = 0;
    this.#bytes = this.#taken ?? new Uint8Array(INITIAL_BYTES);
    this.#taken = bytes.length > KEEP_BYTES ? undefined : bytes;
    return taken;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}
