/**
 * The byte-level line splitter, as ranges.
 *
 * @module
 */

import { CR, DEFAULT_MAX_LINE_BYTES, LF, TERMINATOR } from "./types.ts";
import type { LineSplitterOptions } from "./types.ts";
import { checkKeepCR, checkReadTerminator } from "./terminators.ts";
import { checkPositiveInteger } from "../_util/option_checks.ts";

const NUL = 0x00;
const NO_BYTES = new Uint8Array(0);
// Where the next CR or LF is not known yet (any position is past it).
const UNKNOWN = -2;

/** Receives a line as bytes[start, end); `tooLong` when it was cut at the cap. */
export type RangeSink = (bytes: Uint8Array, start: number, end: number, tooLong: boolean) => void;

/**
 * The line splitter underneath `LineSplitter` and the server: it hands out
 * each line as a range of a byte array (no view per line), and can search
 * for line ends in the read's ASCII text. See `LineSplitter` for the rules.
 * With `readTerminator: "any"` it remembers a CR that ended a chunk, so that
 * an LF (or telnet's NUL) that starts the next one is not a line of its own.
 *
 * @example Usage
 * ```ts
 * import { RangeSplitter } from "./range_splitter.ts";
 * import assert from "node:assert/strict";
 *
 * const splitter = new RangeSplitter({ maxLineBytes: 3 });
 * const lines: [number, number, boolean][] = [];
 * splitter.splitRanges(new TextEncoder().encode("ab\r\nabcd\n"), (_, s, e, t) => lines.push([s, e, t]));
 * assert.deepEqual(lines, [[0, 2, false], [4, 7, true]]);
 * ```
 */
export class RangeSplitter {
  readonly #maxLineBytes: number;
  // Whether a CR right before the LF is dropped (LF lines only).
  readonly #dropCR: boolean;
  // The byte that ends a line; CR for "any", which also takes LF.
  readonly #end: number;
  readonly #any: boolean;
  // Under "any": a CR ended the last chunk, so an LF or NUL that starts the next is its follower.
  #afterCR = false;
  // Under "any": the next LF at or after the search position in this chunk, -1 for none.
  #nextLF = UNKNOWN;
  // The incomplete line carried over from earlier chunks; holds at most
  // maxLineBytes + 1 bytes (one spare for a CR that may be dropped).
  #carry: Uint8Array = NO_BYTES;
  #carryLength = 0;
  // True while the rest of an over-long line is being discarded.
  #discarding = false;

  /**
   * Creates a splitter.
   *
   * @param options Line cap, terminator and CR handling.
   * @throws {TypeError | RangeError} When `maxLineBytes` is not a whole number of at least 1,
   *   `readTerminator` is not one of `"\n"`, `"\r"` and `"any"`, or `keepCR` comes with
   *   another than `"\n"`.
   */
  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    checkPositiveInteger(this.#maxLineBytes, "options.maxLineBytes");
    checkReadTerminator(options.readTerminator, "options.readTerminator");
    checkKeepCR(options);
    const terminator = options.readTerminator ?? TERMINATOR;
    this.#dropCR = terminator === TERMINATOR && !(options.keepCR ?? false);
    this.#any = terminator === "any";
    this.#end = terminator === TERMINATOR ? LF : CR;
  }

  /**
   * Bytes of the incomplete line buffered so far (capped at `maxLineBytes + 1`).
   *
   * @returns The number of buffered bytes.
   */
  get pendingBytes(): number {
    return this.#carryLength;
  }

  /**
   * Splits one chunk, calling `sink` for each complete line, in order, as a
   * range of a byte array: the chunk's own bytes, or a fresh array for a line
   * that spans chunks.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Called once per complete line.
   * @param text The chunk as text with one character per byte, as
   * {@linkcode asciiText} gives it, when the caller has it: line ends are then
   * found in the text, which V8 searches faster than bytes.
   */
  splitRanges(
    chunk: Uint8Array,
    sink: RangeSink,
    text?: string,
  ): void {
    const start = this.#any ? this.#splitAny(chunk, sink, text) : this.#splitAt(chunk, sink, text);
    // Most reads end with their last line end: nothing to carry, and no view to make for it.
    if (start < chunk.length) this.#keep(chunk, start, chunk.length);
  }

  // Splits at each #end byte; returns where the unended rest starts. The text is searched for a
  // constant: JavaScriptCore searches a string for a constant one-character string much faster
  // than for one read from a field.
  #splitAt(chunk: Uint8Array, sink: RangeSink, text: string | undefined): number {
    let start = 0;
    const endByte = this.#end;
    const cr = endByte === CR;
    for (;;) {
      const end = text === undefined
        ? chunk.indexOf(endByte, start)
        : cr
        ? text.indexOf("\r", start)
        : text.indexOf(TERMINATOR, start);
      if (end === -1) return start;
      this.#line(chunk, start, end, sink);
      start = end + 1;
    }
  }

  // Splits at each CR, LF or CRLF (see #findAny); returns where the unended rest starts.
  #splitAny(chunk: Uint8Array, sink: RangeSink, text: string | undefined): number {
    this.#nextLF = UNKNOWN;
    let start = this.#afterCR ? this.#pastFollower(chunk, 0) : 0;
    for (;;) {
      const end = this.#findAny(chunk, start, text);
      if (end === -1) return start;
      this.#line(chunk, start, end, sink);
      start = chunk[end] === CR ? this.#pastFollower(chunk, end + 1) : end + 1;
    }
  }

  // Hands out the line that ends at chunk[end]: chunk[start, end), after what was carried.
  #line(chunk: Uint8Array, start: number, end: number, sink: RangeSink): void {
    if (this.#carryLength === 0 && !this.#discarding) {
      this.#emit(chunk, start, end, sink);
    } else {
      this.#finishCarried(chunk, start, end, sink);
    }
  }

  // Under "any": the first CR or LF at or after `start`. The next LF is kept from search to
  // search, so that lines ended by CR alone do not search the rest of the chunk for an LF each.
  #findAny(chunk: Uint8Array, start: number, text: string | undefined): number {
    if (this.#nextLF !== -1 && this.#nextLF < start) {
      this.#nextLF = text === undefined
        ? chunk.indexOf(LF, start)
        : text.indexOf(TERMINATOR, start);
    }
    const before = this.#nextLF === -1 ? chunk.length : this.#nextLF;
    // Only up to the next LF: a CR after it does not matter yet.
    const cr = chunk.subarray(start, before).indexOf(CR);
    return cr === -1 ? this.#nextLF : start + cr;
  }

  // Under "any": where the next line starts after a CR that ended one at `at`: past an LF
  // (CRLF is one line end) or a NUL (telnet's CR NUL is a CR), which may start the next chunk.
  #pastFollower(chunk: Uint8Array, at: number): number {
    this.#afterCR = at === chunk.length;
    if (this.#afterCR) return at;
    return chunk[at] === LF || chunk[at] === NUL ? at + 1 : at;
  }

  /**
   * Ends the stream: hands out the incomplete last line, if there is one, as
   * if a line end ended it (a CR at its end is dropped, the cap applies), and
   * starts afresh.
   *
   * @param sink Called once if a line was pending.
   */
  flushRanges(sink: RangeSink): void {
    this.#afterCR = false;
    if (this.#carryLength > 0) this.#finishCarried(NO_BYTES, 0, 0, sink);
  }

  /**
   * Whether the incomplete line is already over the cap (its bytes are
   * being discarded until the next line end).
   *
   * @returns `true` while an over-long line is streaming in.
   */
  get overflowing(): boolean {
    return this.#discarding;
  }

  // Hands out bytes[start, end) as one line, cutting a CR and the cap.
  #emit(bytes: Uint8Array, start: number, end: number, sink: RangeSink): void {
    // An empty line's byte before it is an LF, or nothing: never a CR to drop.
    if (this.#dropCR && bytes[end - 1] === CR) end--;
    if (end - start > this.#maxLineBytes) {
      sink(bytes, start, start + this.#maxLineBytes, true);
    } else {
      sink(bytes, start, end, false);
    }
  }

  // Completes the carried line with chunk[start, end).
  #finishCarried(chunk: Uint8Array, start: number, end: number, sink: RangeSink): void {
    this.#keep(chunk, start, end);
    // #keep sets #discarding once the line outgrows the cap.
    const tooLong = this.#discarding;
    // Copy out, so the carry buffer can be reused for the next partial line.
    const line = this.#carry.slice(0, this.#carryLength);
    this.#carryLength = 0;
    this.#discarding = false;
    if (tooLong) {
      sink(line, 0, this.#maxLineBytes, true);
    } else {
      this.#emit(line, 0, line.length, sink);
    }
  }

  // Appends chunk[start, end) to the carried line, up to the cap.
  // While discarding, the carry is full (no room), so nothing is taken.
  #keep(chunk: Uint8Array, start: number, end: number): void {
    const limit = this.#maxLineBytes + 1;
    const room = limit - this.#carryLength;
    const take = Math.min(end - start, room);
    if (end - start > room) this.#discarding = true;
    const needed = this.#carryLength + take;
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(Math.min(limit, Math.max(needed, this.#carry.length * 2, 256)));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(chunk.subarray(start, start + take), this.#carryLength);
    this.#carryLength = needed;
  }
}
