/**
 * Line framing for the oneline protocol: LF-terminated lines cut out of a byte
 * stream at any chunk boundaries, with a length cap, optional CR stripping and
 * strict UTF-8 decoding.
 *
 * @module
 */

/**
 * Default cap on the length of one line, in bytes (64 KiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_LINE_BYTES } from "./framing.ts";
 * DEFAULT_MAX_LINE_BYTES; // 65536
 * ```
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

// A line handed out as bytes[start, end), for splitRanges.
type RangeSink = (bytes: Uint8Array, start: number, end: number, tooLong: boolean) => void;

/**
 * Why a line is flagged invalid.
 *
 * @example
 * ```ts
 * import type { InvalidReason } from "./framing.ts";
 * const reason: InvalidReason = "decode";
 * ```
 */
export type InvalidReason = "decode" | "too_long";

/**
 * Options of {@linkcode LineSplitter} and {@linkcode LineStream}.
 *
 * @example Accept lines of up to 1 KiB and keep CRs
 * ```ts
 * import { LineSplitter } from "./framing.ts";
 * import type { LineSplitterOptions } from "./framing.ts";
 *
 * const options: LineSplitterOptions = { maxLineBytes: 1024, keepCR: true };
 * const splitter = new LineSplitter(options);
 * ```
 */
export interface LineSplitterOptions {
  /**
   * Longest line kept, in bytes, not counting the LF (nor a dropped CR).
   * Longer lines are cut to this many bytes and flagged too long; the rest of
   * their bytes is discarded up to the next LF and never buffered.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Keep a CR that directly precedes the LF. By default it is dropped, so
   * that CRLF lines from netcat or telnet read the same as LF lines.
   *
   * @default {false}
   */
  keepCR?: boolean;
}

/**
 * Receives each complete line found by {@linkcode LineSplitter.split}.
 *
 * @param bytes The line without its LF (and without a dropped CR).
 * @param tooLong True when the line was longer than the cap and `bytes` holds only its first `maxLineBytes` bytes.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./framing.ts";
 * import type { LineSink } from "./framing.ts";
 *
 * const print: LineSink = (bytes, tooLong) => console.log(bytes.length, tooLong);
 * new LineSplitter().split(new TextEncoder().encode("ping\n"), print); // 4 false
 * ```
 */
export type LineSink = (bytes: Uint8Array, tooLong: boolean) => void;

/**
 * Checks a line-length cap and returns it.
 *
 * @param maxLineBytes The value to check.
 * @returns The value, when it is a whole number of at least 1.
 * @throws {TypeError} When the value is not an integer.
 * @throws {RangeError} When the value is less than 1.
 *
 * @example Usage
 * ```ts
 * import { checkMaxLineBytes } from "./framing.ts";
 * checkMaxLineBytes(1024); // 1024
 * ```
 */
export function checkMaxLineBytes(maxLineBytes: number): number {
  if (!Number.isInteger(maxLineBytes)) {
    throw new TypeError(`maxLineBytes must be an integer, got ${String(maxLineBytes)}`);
  }
  if (maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be at least 1, got ${maxLineBytes}`);
  }
  return maxLineBytes;
}

/**
 * A byte-level line splitter: feed it chunks as they arrive, get every
 * complete line back, whatever the chunk boundaries.
 *
 * Lines inside one chunk are handed out as views into that chunk (no copy),
 * so the caller must not reuse a chunk's memory while it still uses its
 * lines. A line that spans chunks is handed out as a fresh array. Memory is
 * bounded by `maxLineBytes`: an over-long line is never buffered past it.
 *
 * @example Usage
 * ```ts
 * import { LineSplitter } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const splitter = new LineSplitter();
 * const lines: string[] = [];
 * const sink = (bytes: Uint8Array) => lines.push(new TextDecoder().decode(bytes));
 * const bytes = new TextEncoder().encode("ping\r\ncmd01\npar");
 * splitter.split(bytes.subarray(0, 3), sink);
 * splitter.split(bytes.subarray(3), sink);
 * assert.deepEqual(lines, ["ping", "cmd01"]);
 * assert.equal(splitter.pendingBytes, 3);
 * ```
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #keepCR: boolean;
  // The incomplete line carried over from earlier chunks; holds at most
  // maxLineBytes + 1 bytes (one spare for a CR that may be dropped).
  #carry: Uint8Array = new Uint8Array(0);
  #carryLength = 0;
  // True while the rest of an over-long line is being discarded.
  #discarding = false;

  /**
   * Creates a splitter.
   *
   * @param options Line cap and CR handling.
   * @throws {TypeError | RangeError} When `maxLineBytes` is not a whole number of at least 1.
   */
  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineBytes = checkMaxLineBytes(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.#keepCR = options.keepCR ?? false;
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
   * Splits one chunk, calling `sink` for each complete line, in order.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Called once per complete line.
   */
  split(chunk: Uint8Array, sink: LineSink): void {
    this.splitRanges(
      chunk,
      (bytes, start, end, tooLong) => sink(bytes.subarray(start, end), tooLong),
    );
  }

  /**
   * Splits one chunk like {@linkcode LineSplitter.split}, but hands out each
   * line as a range of a byte array: the server's hot path, which needs no
   * view for the lines it answers itself.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Called once per complete line.
   * @param text The chunk as text with one character per byte, as
   * {@linkcode asciiText} gives it, when the caller has it: line ends are then
   * found in the text, which V8 searches several times faster than bytes.
   */
  splitRanges(
    chunk: Uint8Array,
    sink: (bytes: Uint8Array, start: number, end: number, tooLong: boolean) => void,
    text?: string,
  ): void {
    let start = 0;
    for (;;) {
      const lf = text === undefined ? chunk.indexOf(LF, start) : text.indexOf("\n", start);
      if (lf === -1) break;
      if (this.#carryLength === 0 && !this.#discarding) {
        this.#emit(chunk, start, lf, sink);
      } else {
        this.#finishCarried(chunk, start, lf, sink);
      }
      start = lf + 1;
    }
    if (start < chunk.length) this.#keep(chunk, start, chunk.length);
  }

  /**
   * Whether the incomplete line is already over the cap (its bytes are
   * being discarded until the next LF).
   *
   * @returns `true` while an over-long line is streaming in.
   */
  get overflowing(): boolean {
    return this.#discarding;
  }

  /** Forgets any incomplete line, as when its connection ends. */
  reset(): void {
    this.#carryLength = 0;
    this.#discarding = false;
  }

  // Hands out bytes[start, end) as one line, cutting a CR and the cap.
  #emit(bytes: Uint8Array, start: number, end: number, sink: RangeSink): void {
    if (!this.#keepCR && end > start && bytes[end - 1] === CR) end--;
    if (end - start > this.#maxLineBytes) {
      sink(bytes, start, start + this.#maxLineBytes, true);
    } else {
      sink(bytes, start, end, false);
    }
  }

  // Completes the carried line with chunk[start, lf).
  #finishCarried(chunk: Uint8Array, start: number, lf: number, sink: RangeSink): void {
    this.#keep(chunk, start, lf);
    // #keep sets #discarding once the line outgrows the cap.
    const tooLong = this.#discarding;
    // Copy out, so the carry buffer can be reused for the next partial line.
    const line = this.#carry.slice(0, this.#carryLength);
    this.reset();
    if (tooLong) {
      sink(line, 0, this.#maxLineBytes, true);
    } else {
      this.#emit(line, 0, line.length, sink);
    }
  }

  // Appends chunk[start, end) to the carried line, up to the cap.
  #keep(chunk: Uint8Array, start: number, end: number): void {
    if (this.#discarding) return;
    const limit = this.#maxLineBytes + 1;
    const room = limit - this.#carryLength;
    const take = Math.min(end - start, room);
    if (end - start > room) this.#discarding = true;
    if (take <= 0) return;
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

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The result of {@linkcode decodeLine}. */
export interface DecodedLine {
  /** The line's text; undecodable bytes are left out. */
  text: string;
  /** True when some bytes did not decode as UTF-8. */
  invalid: boolean;
}

/**
 * Decodes one line as strict UTF-8. Bytes that are not part of a well-formed
 * UTF-8 sequence are left out of the text, and the line is flagged invalid.
 *
 * @param bytes The line's bytes.
 * @returns The text and whether any bytes were left out.
 *
 * @example Usage
 * ```ts
 * import { decodeLine } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeLine(new Uint8Array([0x68, 0xff, 0x69])), { text: "hi", invalid: true });
 * ```
 */
export function decodeLine(bytes: Uint8Array): DecodedLine {
  // The lenient decoder is several times faster than the fatal one on Deno. Its text is exact
  // unless it holds U+FFFD, which a bad byte or a real U+FFFD puts there: only then check strictly.
  const text = lenientDecoder.decode(bytes);
  if (!text.includes("\uFFFD")) return { text, invalid: false };
  try {
    return { text: strictDecoder.decode(bytes), invalid: false };
  } catch {
    return { text: lenientDecoder.decode(wellFormedUtf8(bytes)), invalid: true };
  }
}

/**
 * Decodes bytes that are all ASCII in one go, so that byte offsets are text
 * offsets: one decode of a whole read, then a slice per line, is cheaper than
 * a decode per line, and its line ends are found faster in the text.
 *
 * @param bytes The bytes.
 * @returns The text, or `undefined` when any byte is not ASCII.
 *
 * @example Usage
 * ```ts
 * import { asciiText } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(asciiText(new TextEncoder().encode("ping\n")), "ping\n");
 * assert.equal(asciiText(new TextEncoder().encode("grüße")), undefined);
 * ```
 */
export function asciiText(bytes: Uint8Array): string | undefined {
  const text = lenientDecoder.decode(bytes);
  // A non-ASCII character makes the text shorter than the bytes; an
  // undecodable byte becomes U+FFFD.
  return text.length === bytes.length && !text.includes("\uFFFD") ? text : undefined;
}

// Returns the bytes of `bytes` that form well-formed UTF-8 sequences
// (the Unicode "maximal subpart" rules), dropping every other byte.
function wellFormedUtf8(bytes: Uint8Array): Uint8Array {
  const kept = new Uint8Array(bytes.length);
  let length = 0;
  let i = 0;
  while (i < bytes.length) {
    const size = sequenceLength(bytes, i);
    if (size === 0) {
      i++;
      continue;
    }
    kept.set(bytes.subarray(i, i + size), length);
    length += size;
    i += size;
  }
  return kept.subarray(0, length);
}

// Length of the well-formed UTF-8 sequence at bytes[i], or 0 if there is none.
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  let size: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) size = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    size = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    size = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + size > bytes.length) return 0;
  const second = bytes[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k < size; k++) {
    const next = bytes[i + k];
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return size;
}

/**
 * One line of a {@linkcode LineStream}.
 *
 * @example
 * ```ts
 * import { toLine } from "./framing.ts";
 * import type { Line } from "./framing.ts";
 *
 * const line: Line = toLine(new Uint8Array([0x61, 0xff]), false);
 * line.text; // "a"
 * line.reason; // "decode"
 * ```
 */
export interface Line {
  /** The decoded text (undecodable bytes left out). */
  text: string;
  /** The line's bytes, without LF (and without a dropped CR). */
  raw: Uint8Array;
  /** True when the line did not decode or was too long. */
  invalid: boolean;
  /** Why the line is invalid; `undefined` when it is valid. */
  reason: InvalidReason | undefined;
}

/**
 * Turns raw line bytes, as produced by {@linkcode LineSplitter}, into a
 * {@linkcode Line}.
 *
 * @param raw The line's bytes.
 * @param tooLong Whether the splitter cut the line at the cap.
 * @returns The decoded line with its invalid flag and reason.
 *
 * @example Usage
 * ```ts
 * import { toLine } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toLine(new TextEncoder().encode("cmd01"), false).text, "cmd01");
 * ```
 */
export function toLine(raw: Uint8Array, tooLong: boolean): Line {
  const { text, invalid } = decodeLine(raw);
  const reason = tooLong ? "too_long" : invalid ? "decode" : undefined;
  return { text, raw, invalid: reason !== undefined, reason };
}

/**
 * A TextLineStream-style transform from bytes to {@linkcode Line}s, for users
 * who pipe streams. An incomplete last line is not emitted: a line is only a
 * line once its LF has arrived.
 *
 * @example Usage
 * ```ts
 * import { LineStream } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("ping\ncmd01\r\n");
 * const lines = ReadableStream.from([bytes.subarray(0, 2), bytes.subarray(2)])
 *   .pipeThrough(new LineStream());
 * const texts: string[] = [];
 * for await (const line of lines) texts.push(line.text);
 * assert.deepEqual(texts, ["ping", "cmd01"]);
 * ```
 */
export class LineStream extends TransformStream<Uint8Array, Line> {
  /**
   * Creates the stream.
   *
   * @param options Line cap and CR handling.
   */
  constructor(options: LineSplitterOptions = {}) {
    const splitter = new LineSplitter(options);
    super({
      transform(chunk, controller) {
        splitter.split(chunk, (raw, tooLong) => controller.enqueue(toLine(raw, tooLong)));
      },
    });
  }
}

/**
 * Throws a `TypeError` when `text` holds a CR or LF, which would break the
 * framing of the line it is sent in.
 *
 * @param text The line to check.
 * @param what How to name the line in the error message.
 * @returns The same text.
 * @throws {TypeError} When the text is not a string or contains CR or LF.
 *
 * @example Usage
 * ```ts
 * import { checkSingleLine } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkSingleLine("a\nb", "response"), TypeError);
 * ```
 */
export function checkSingleLine(text: string, what: string): string {
  if (typeof text !== "string") {
    throw new TypeError(`${what} must be a string, got ${typeof text}`);
  }
  // indexOf beats a /[\r\n]/ test several times over on long lines.
  if (text.indexOf("\n") !== -1 || text.indexOf("\r") !== -1) {
    throw new TypeError(`${what} must not contain CR or LF: ${JSON.stringify(text)}`);
  }
  return text;
}
