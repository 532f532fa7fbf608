/**
 * Line framing for the oneline protocol: lines cut out of a byte stream at any
 * chunk boundaries (ended by LF, by CR, or by any of CR, LF and CRLF), with a
 * length cap, optional CR stripping and strict UTF-8 decoding; and lines
 * encoded with the terminator a peer expects.
 *
 * @module
 */

import { RangeSplitter } from "./_framing/range_splitter.ts";
import { checkSingleLine, toLine } from "./_framing/text.ts";
import { checkWriteTerminator, terminatorBytes } from "./_framing/terminators.ts";
import type { WriteTerminator } from "./_framing/terminators.ts";
import type { Line, LineSink, LineSplitterOptions, LineStreamOptions } from "./_framing/types.ts";
import { describeValue } from "./_util/option_checks.ts";

export { DEFAULT_MAX_LINE_BYTES, TERMINATOR } from "./_framing/types.ts";
export { type BlockHeader, definiteLengthBlock, parseBlockHeader } from "./_framing/block.ts";
export type {
  InvalidReason,
  Line,
  LineSink,
  LineSplitterOptions,
  LineStreamOptions,
} from "./_framing/types.ts";
export type { ReadTerminator, WriteTerminator } from "./_framing/terminators.ts";

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
 * splitter.flush(sink); // the stream ended: "par" is the last line
 * assert.deepEqual(lines, ["ping", "cmd01", "par"]);
 * ```
 */
export class LineSplitter {
  readonly #ranges: RangeSplitter;

  /**
   * Creates a splitter.
   *
   * @param options Line cap, terminator and CR handling.
   * @throws {TypeError | RangeError} When `maxLineBytes` is not a whole number of at least 1,
   *   `readTerminator` is not `"\n"`, `"\r"` or `"any"`, or `keepCR` comes with another.
   */
  constructor(options: LineSplitterOptions = {}) {
    this.#ranges = new RangeSplitter(options);
  }

  /**
   * Bytes of the incomplete line buffered so far (capped at `maxLineBytes + 1`).
   *
   * @returns The number of buffered bytes.
   */
  get pendingBytes(): number {
    return this.#ranges.pendingBytes;
  }

  /**
   * Splits one chunk, calling `sink` for each complete line, in order.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Called once per complete line.
   */
  split(chunk: Uint8Array, sink: LineSink): void {
    this.#ranges.splitRanges(
      chunk,
      (bytes, start, end, tooLong) => sink(bytes.subarray(start, end), tooLong),
    );
  }

  /**
   * Ends the stream: calls `sink` with the incomplete last line, if there is
   * one, as if an LF ended it (a CR at its end is dropped unless `keepCR`,
   * and the cap applies). The splitter is then empty, ready for a new stream.
   * Call it only where the end of the stream ends a line: in the oneline
   * protocol it does not, and the server never flushes.
   *
   * @param sink Called once if a line was pending.
   */
  flush(sink: LineSink): void {
    this.#ranges.flushRanges(
      (bytes, start, end, tooLong) => sink(bytes.subarray(start, end), tooLong),
    );
  }
}

/**
 * A TextLineStream-style transform from bytes to {@linkcode Line}s, for users
 * who pipe streams. A last line that the stream ends without an LF is handed
 * out too, as `TextLineStream` does; `finalLine: "drop"` discards it instead,
 * where a line only counts once its LF has arrived.
 *
 * @example Usage
 * ```ts
 * import { LineStream } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("ping\ncmd01\r\nlast");
 * const chunks = [bytes.subarray(0, 2), bytes.subarray(2)];
 * const texts: string[] = [];
 * for await (const line of ReadableStream.from(chunks).pipeThrough(new LineStream())) {
 *   texts.push(line.text);
 * }
 * assert.deepEqual(texts, ["ping", "cmd01", "last"]);
 * ```
 *
 * @example Only lines ended by an LF
 * ```ts
 * import { LineStream } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("ping\ncut off");
 * const texts: string[] = [];
 * for await (
 *   const line of ReadableStream.from([bytes]).pipeThrough(new LineStream({ finalLine: "drop" }))
 * ) {
 *   texts.push(line.text);
 * }
 * assert.deepEqual(texts, ["ping"]);
 * ```
 */
export class LineStream extends TransformStream<Uint8Array, Line> {
  /**
   * Creates the stream.
   *
   * @param options Line cap, terminator, CR handling, and what to do with a last line without
   *   its line end.
   * @throws {TypeError | RangeError} When `maxLineBytes` is not a whole number
   *   of at least 1, `finalLine` is neither `"emit"` nor `"drop"`, or `readTerminator` or
   *   `keepCR` is wrong (see {@linkcode LineSplitter}).
   */
  constructor(options: LineStreamOptions = {}) {
    const finalLine = options.finalLine ?? "emit";
    if (finalLine !== "emit" && finalLine !== "drop") {
      throw new TypeError(
        `options.finalLine must be "emit" or "drop", got ${describeValue(finalLine)}`,
      );
    }
    const splitter = new LineSplitter(options);
    let sink: LineSink;
    super({
      start(controller) {
        sink = (raw, tooLong) => controller.enqueue(toLine(raw, tooLong));
      },
      transform(chunk) {
        splitter.split(chunk, sink);
      },
      flush() {
        if (finalLine === "emit") splitter.flush(sink);
      },
    });
  }
}

/**
 * Encodes one line for the wire, followed by `terminator`: a string as UTF-8,
 * refused when it holds CR or LF (which would end the line early); bytes as
 * they are, CR and LF included, as the server sends a handler's bytes.
 *
 * @param line The line, without its terminator.
 * @param terminator What ends it: LF unless given.
 * @returns The line's bytes and its terminator.
 * @throws {TypeError} When a string holds CR or LF, or the terminator is not
 *   `"\n"`, `"\r\n"` or `"\r"`.
 *
 * @example A line for an instrument that wants CRLF
 * ```ts
 * import { encodeLine } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeLine("*IDN?", "\r\n")), "*IDN?\r\n");
 * assert.deepEqual([...encodeLine(new Uint8Array([0x0a, 0x0d]))], [0x0a, 0x0d, 0x0a]);
 * assert.throws(() => encodeLine("a\nb"), TypeError);
 * ```
 */
export function encodeLine(
  line: string | Uint8Array,
  terminator: WriteTerminator = "\n",
): Uint8Array {
  checkWriteTerminator(terminator, "terminator");
  const body = line instanceof Uint8Array
    ? line
    : new TextEncoder().encode(checkSingleLine(line, "line"));
  const end = terminatorBytes(terminator);
  const bytes = new Uint8Array(body.length + end.length);
  bytes.set(body);
  bytes.set(end, body.length);
  return bytes;
}
