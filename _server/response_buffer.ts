/**
 * The server's output buffer: response lines encoded back to back, so all
 * responses of one read go out in one write.
 *
 * @module
 */

import { LF } from "../_framing/types.ts";

// Small, as many sessions answer a few short lines and a large buffer per
// connection shows in the cost of short connections (see docs/performance.md);
// a big first batch grows it at once. No array is made before a line is
// appended to it.
const INITIAL_BYTES = 256;
const NO_BYTES = new Uint8Array(0);
// A buffer grown past this by one big batch is dropped after use, so one
// large response does not pin its memory for the rest of the connection.
const KEEP_BYTES = 1024 * 1024;
const SMALL_BYTES = 16;
// A line longer than this (in UTF-16 code units, or bytes) is not copied
// into the buffer with the others: a string is encoded one slice of this many
// code units per take(), as the session writes, and bytes are kept as one
// copy of their own size. So a 100 MB answer costs a slice's room, not three
// bytes per character reserved up front and a buffer doubled around it.
const SLICE_UNITS = 256 * 1024;
const LF_BYTES = new Uint8Array([LF]);
const encoder = new TextEncoder();

/** A long string being encoded, a slice per take. */
interface PendingText {
  readonly text: string;
  /** The code units encoded so far. */
  at: number;
}

/**
 * Encoded response lines waiting to be written, each followed by the
 * response terminator (LF unless told otherwise).
 *
 * @example Usage
 * ```ts
 * import { ResponseBuffer } from "./response_buffer.ts";
 * import assert from "node:assert/strict";
 *
 * const buffer = new ResponseBuffer(new Uint8Array([0x0d, 0x0a])); // CRLF
 * buffer.appendLine("pong");
 * buffer.appendBytes(new Uint8Array([0x00, 0x0a])); // bytes go out as they are
 * assert.deepEqual([...buffer.take()], [0x70, 0x6f, 0x6e, 0x67, 0x0d, 0x0a, 0x00, 0x0a, 0x0d, 0x0a]);
 * assert.equal(buffer.length, 0);
 * ```
 */
export class ResponseBuffer {
  readonly #terminator: Uint8Array;
  #bytes: Uint8Array<ArrayBuffer> = NO_BYTES;
  // The array the last take() handed out, which the next lines must not
  // overwrite while it is being written; the one after next goes into it.
  #taken: Uint8Array<ArrayBuffer> | undefined;
  #length = 0;
  // Long lines and the buffered bytes before them, in order, all before
  // #bytes; counted in #queued (a string by its code units, at least its bytes).
  readonly #queue: (Uint8Array | PendingText)[] = [];
  #queued = 0;
  // Where a long string's slices are encoded: each take's view of it is
  // written before the next take.
  #scratch: Uint8Array | undefined;

  /**
   * Creates an empty buffer.
   *
   * @param terminator The bytes that end each line: LF unless given.
   */
  constructor(terminator: Uint8Array = LF_BYTES) {
    this.#terminator = terminator;
  }

  /**
   * Bytes waiting to be written (a long string counts one per code unit,
   * at least its bytes).
   *
   * @returns The byte count.
   */
  get length(): number {
    return this.#queued + this.#length;
  }

  /**
   * Bytes of memory the buffer holds for lines not yet written, taken or
   * not: its arrays, and the copies of long lines.
   *
   * @returns The byte count.
   */
  get capacity(): number {
    let bytes = this.#bytes.length + (this.#taken?.length ?? 0) + (this.#scratch?.length ?? 0);
    for (const piece of this.#queue) if (piece instanceof Uint8Array) bytes += piece.length;
    return bytes;
  }

  /**
   * Appends one line and the terminator. The caller has checked that `text`
   * holds no CR or LF.
   *
   * @param text The line.
   */
  appendLine(text: string): void {
    if (text.length > SLICE_UNITS) {
      this.#enqueue({ text, at: 0 }, text.length);
    } else {
      // UTF-8 needs at most 3 bytes per UTF-16 code unit.
      this.#reserve(text.length * 3 + this.#terminator.length);
      // Views are made from the buffer (#bytes always starts at its offset 0):
      // that costs less than subarray(), which looks up the array's species.
      const rest = new Uint8Array(this.#bytes.buffer, this.#length);
      this.#length += encoder.encodeInto(text, rest).written;
    }
    this.#appendTerminator();
  }

  /**
   * Appends a line given as bytes, copied as they are (CR and LF included),
   * and the terminator.
   *
   * @param bytes The line's bytes.
   */
  appendBytes(bytes: Uint8Array): void {
    if (bytes.length > SLICE_UNITS) {
      this.#enqueue(bytes.slice(), bytes.length);
    } else {
      this.#reserve(bytes.length + this.#terminator.length);
      this.#copy(bytes);
    }
    this.#appendTerminator();
  }

  /**
   * Appends bytes that are already framed, terminator included (such as a
   * built-in's answer, made once), `times` times over.
   *
   * @param bytes The bytes.
   * @param times How many times they are appended.
   */
  appendFramed(bytes: Uint8Array, times = 1): void {
    const total = bytes.length * times;
    this.#reserve(total);
    const start = this.#length;
    this.#copy(bytes);
    // A run of the same answer (pipelined pings) doubles what is copied, in a few calls.
    const end = start + total;
    for (let copied = this.#length; copied < end; copied += copied - start) {
      this.#bytes.copyWithin(copied, start, Math.min(copied, end - (copied - start)));
    }
    this.#length = end;
  }

  /**
   * Takes what is buffered, or its next part, and empties the buffer of it.
   * Lines appended meanwhile go to another array, so the returned view stays
   * valid until the next take: write it out before taking again. Take until
   * {@linkcode ResponseBuffer.length} is 0 to write everything.
   *
   * @returns The next bytes to write.
   */
  take(): Uint8Array {
    if (this.#queue.length > 0) return this.#takeQueued();
    const bytes = this.#bytes;
    const taken = new Uint8Array(bytes.buffer, 0, this.#length);
    this.#length = 0;
    this.#bytes = this.#taken ?? NO_BYTES;
    this.#taken = bytes.length > KEEP_BYTES ? undefined : bytes;
    return taken;
  }

  // Puts a long line after what is buffered: the buffered bytes become a
  // piece of the queue, and the lines after it start a fresh array.
  #enqueue(piece: Uint8Array | PendingText, size: number): void {
    if (this.#length > 0) {
      this.#queue.push(this.#bytes.subarray(0, this.#length));
      this.#queued += this.#length;
      this.#bytes = NO_BYTES;
      this.#length = 0;
    }
    this.#queue.push(piece);
    this.#queued += size;
    this.#reserve(this.#terminator.length);
  }

  #takeQueued(): Uint8Array {
    const head = this.#queue[0];
    if (head instanceof Uint8Array) {
      this.#queue.shift();
      this.#queued -= head.length;
      return head;
    }
    const { text, at } = head;
    let end = Math.min(at + SLICE_UNITS, text.length);
    // A slice never ends between the two halves of a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const scratch = this.#scratch ??= new Uint8Array(SLICE_UNITS * 3);
    let { written } = encoder.encodeInto(text.slice(at, end), scratch);
    this.#queued -= end - at;
    head.at = end;
    if (end < text.length) return scratch.subarray(0, written);
    this.#queue.shift();
    // The terminator, and the lines after, go out with the last slice when they fit.
    if (this.#queue.length === 0 && written + this.#length <= scratch.length) {
      scratch.set(this.#bytes.subarray(0, this.#length), written);
      written += this.#length;
      this.#length = 0;
    }
    // The slices' room is not kept for the rest of the connection.
    if (!this.#queue.some((piece) => !(piece instanceof Uint8Array))) this.#scratch = undefined;
    return scratch.subarray(0, written);
  }

  #appendTerminator(): void {
    const terminator = this.#terminator;
    for (let i = 0; i < terminator.length; i++) this.#bytes[this.#length++] = terminator[i];
  }

  // Copies bytes into the room reserved for them.
  #copy(bytes: Uint8Array): void {
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

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2, INITIAL_BYTES));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}
