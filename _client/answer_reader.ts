/**
 * The client's side of framing: the bytes a server or a device sends, kept
 * as they come and cut on demand into answer lines (for each read
 * terminator) or definite-length blocks, which may hold any byte.
 *
 * @module
 */

import { BlockFormatError } from "../errors.ts";
import { parseBlockHeader } from "../_framing/block.ts";
import { CR, LF } from "../_framing/types.ts";
import type { ClientReadTerminator as ReadTerminator } from "../_framing/terminators.ts";

/** One answer line's bytes, without its terminator; `tooLong` when cut at the cap. */
export interface RawLine {
  /** The line's bytes (its first `maxLineBytes` when it was longer). */
  raw: Uint8Array;
  /** Whether the line was longer than `maxLineBytes`; its other bytes were dropped. */
  tooLong: boolean;
}

const INITIAL_BYTES = 4096;
// A buffer grown past this for a large answer is let go once it is empty.
const KEPT_BYTES = 1024 * 1024;

/**
 * Bytes received and not yet taken, cut into lines or blocks as the client
 * asks for them. A line longer than `maxLineBytes` is not kept whole: its
 * first `maxLineBytes` bytes are, and the rest is dropped as it comes, so an
 * endless line costs a bounded amount.
 *
 * @example Lines with any terminator, and a block whose data holds CR and LF
 * ```ts
 * import { AnswerReader } from "./answer_reader.ts";
 * import assert from "node:assert/strict";
 *
 * const reader = new AnswerReader("any", 1024);
 * reader.push(new TextEncoder().encode("a\rb\r"));
 * assert.equal(new TextDecoder().decode(reader.takeLine()!.raw), "a");
 * assert.equal(new TextDecoder().decode(reader.takeLine()!.raw), "b");
 * reader.push(new Uint8Array([0x0a, 0x23, 0x31, 0x32, 0x0d, 0x0a, 0x0a])); // LF of "b", "#12", CR LF, LF
 * assert.deepEqual([...reader.takeBlock(100)!], [0x0d, 0x0a]);
 * assert.equal(reader.buffered, 0);
 * ```
 */
export class AnswerReader {
  readonly #terminator: ReadTerminator;
  readonly #maxLineBytes: number;
  #buffer = new Uint8Array(INITIAL_BYTES);
  #start = 0;
  #end = 0;
  // Where the search for the next line end goes on: the bytes before it hold none.
  #scan = 0;
  // The first maxLineBytes of a line over the cap, while the rest of it is dropped.
  #overflow: Uint8Array | undefined;
  // With "any": the last line ended with a CR that was the last byte received, so an LF
  // that comes next is the rest of its CR LF.
  #afterCR = false;

  /**
   * Creates an empty reader.
   *
   * @param terminator What ends a line.
   * @param maxLineBytes The longest line kept whole, in bytes.
   */
  constructor(terminator: ReadTerminator, maxLineBytes: number) {
    this.#terminator = terminator;
    this.#maxLineBytes = maxLineBytes;
  }

  /**
   * Bytes received and not yet taken.
   *
   * @returns The number of bytes.
   */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Keeps received bytes (copied: the chunk may be reused).
   *
   * @param chunk The bytes, as they came.
   */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buffer.length) {
      const kept = this.#end - this.#start;
      const needed = kept + chunk.length;
      const target = needed > this.#buffer.length
        ? new Uint8Array(Math.max(needed, this.#buffer.length * 2))
        : this.#buffer;
      target.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = target;
      this.#scan -= this.#start;
      this.#start = 0;
      this.#end = kept;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * Takes the next complete line.
   *
   * @returns The line, or `undefined` until its terminator has come.
   */
  takeLine(): RawLine | undefined {
    this.#skipLineFeedOfCR();
    const found = this.#findEnd();
    if (found === undefined) {
      this.#capPartialLine();
      return undefined;
    }
    const [lineEnd, next] = found;
    let line: RawLine;
    if (this.#overflow !== undefined) {
      line = { raw: this.#overflow, tooLong: true };
      this.#overflow = undefined;
    } else if (lineEnd - this.#start > this.#maxLineBytes) {
      line = {
        raw: this.#buffer.slice(this.#start, this.#start + this.#maxLineBytes),
        tooLong: true,
      };
    } else {
      line = { raw: this.#buffer.slice(this.#start, lineEnd), tooLong: false };
    }
    this.#consume(next);
    return line;
  }

  /**
   * Takes the next answer as a definite-length block: header, data and the
   * terminator after it.
   *
   * @param maxBytes The longest data taken.
   * @returns The block's data, or `undefined` until all of it and its terminator have come.
   * @throws {BlockFormatError} When the answer is not a block: its line is
   *   taken and is the error's `raw`. When the block is over `maxBytes`
   *   (nothing is taken), or no terminator follows its data (the block is taken).
   */
  takeBlock(maxBytes: number): Uint8Array | undefined {
    this.#skipLineFeedOfCR();
    let header;
    let notBlock: string | undefined;
    if (this.#overflow !== undefined) {
      notBlock = "the answer is not a block: a long line is under way";
    } else {
      try {
        header = parseBlockHeader(this.#buffer, this.#start, this.#end);
      } catch (error) {
        notBlock = (error as Error).message;
      }
    }
    if (notBlock !== undefined) {
      // What is not a block is a line (an instrument's error message, say): take it whole, so
      // that what comes after it is the next answer.
      const line = this.takeLine();
      if (line === undefined) return undefined;
      throw new BlockFormatError(notBlock, line.raw);
    }
    if (header === undefined) return undefined;
    const { headerBytes, dataBytes } = header;
    if (dataBytes > maxBytes) {
      throw new BlockFormatError(
        `a block of ${dataBytes} bytes is over maxBlockBytes (${maxBytes}): connect with a ` +
          "higher maxBlockBytes",
        this.#buffer.slice(this.#start, this.#start + headerBytes),
      );
    }
    const dataEnd = this.#start + headerBytes + dataBytes;
    const next = this.#terminatorEnd(dataEnd);
    if (next === undefined) return undefined;
    const data = this.#buffer.slice(this.#start + headerBytes, dataEnd);
    if (next === dataEnd) {
      const block = this.#buffer.slice(this.#start, dataEnd);
      this.#consume(dataEnd);
      throw new BlockFormatError(
        `a block of ${dataBytes} bytes is not followed by the terminator`,
        block,
      );
    }
    this.#consume(next);
    return data;
  }

  /** Drops every byte received, and any line under way. */
  discard(): void {
    this.#overflow = undefined;
    this.#afterCR = false;
    this.#consume(this.#end);
  }

  #consume(next: number): void {
    this.#start = next;
    this.#scan = next;
    if (this.#start === this.#end) {
      this.#start = this.#end = this.#scan = 0;
      if (this.#buffer.length > KEPT_BYTES) this.#buffer = new Uint8Array(INITIAL_BYTES);
    }
  }

  #skipLineFeedOfCR(): void {
    if (!this.#afterCR || this.#start === this.#end) return;
    this.#afterCR = false;
    if (this.#buffer[this.#start] === LF) this.#consume(this.#start + 1);
  }

  // Where the line that starts at #start ends, and where the next one starts; undefined
  // while no terminator has come.
  #findEnd(): [lineEnd: number, next: number] | undefined {
    const bytes = this.#buffer.subarray(0, this.#end);
    switch (this.#terminator) {
      case "\n": {
        const lf = bytes.indexOf(LF, this.#scan);
        if (lf === -1) break;
        // An LF at #start never follows a CR: that CR LF would have ended the answer before.
        return [bytes[lf - 1] === CR ? lf - 1 : lf, lf + 1];
      }
      case "\r": {
        const cr = bytes.indexOf(CR, this.#scan);
        if (cr === -1) break;
        return [cr, cr + 1];
      }
      case "\r\n": {
        for (let lf = bytes.indexOf(LF, this.#scan); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
          if (lf > this.#start && bytes[lf - 1] === CR) return [lf - 1, lf + 1];
        }
        break;
      }
      case "any": {
        const lf = bytes.indexOf(LF, this.#scan);
        const cr = bytes.indexOf(CR, this.#scan);
        const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
        if (end === -1) break;
        if (end === lf) return [lf, lf + 1];
        if (cr + 1 < this.#end) return [cr, bytes[cr + 1] === LF ? cr + 2 : cr + 1];
        this.#afterCR = true;
        return [cr, cr + 1];
      }
    }
    this.#scan = this.#end;
    return undefined;
  }

  // A line without its terminator yet: once it is over the cap (one byte spare, for a CR
  // before an LF), keep its first maxLineBytes and drop the rest as it comes. The last byte
  // stays, for a CR whose LF is still to come.
  #capPartialLine(): void {
    const length = this.#end - this.#start;
    if (this.#overflow === undefined && length <= this.#maxLineBytes + 1) return;
    this.#overflow ??= this.#buffer.slice(this.#start, this.#start + this.#maxLineBytes);
    this.#start = this.#end - 1;
  }

  // Where the bytes after a terminator at `at` start: `at` itself when something else is
  // there, undefined while more bytes are needed to tell.
  #terminatorEnd(at: number): number | undefined {
    if (at >= this.#end) return undefined;
    const first = this.#buffer[at];
    const second = at + 1 < this.#end ? this.#buffer[at + 1] : undefined;
    switch (this.#terminator) {
      case "\n":
        if (first === LF) return at + 1;
        if (first !== CR) return at;
        return second === undefined ? undefined : second === LF ? at + 2 : at;
      case "\r":
        return first === CR ? at + 1 : at;
      case "\r\n":
        if (first !== CR) return at;
        return second === undefined ? undefined : second === LF ? at + 2 : at;
      case "any":
        if (first === LF) return at + 1;
        if (first !== CR) return at;
        if (second === undefined) this.#afterCR = true;
        return second === LF ? at + 2 : at + 1;
    }
  }
}
