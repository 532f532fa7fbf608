/**
 * Line framing for the oneline protocol: LF-terminated lines cut out of a byte
 * stream at any chunk boundaries, with a length cap, optional CR stripping and
 * strict UTF-8 decoding.
 *
 * @module
 */

import { RangeSplitter } from "./_framing/range_splitter.ts";
import { toLine } from "./_framing/text.ts";
import type { Line, LineSink, LineSplitterOptions } from "./_framing/types.ts";

export { DEFAULT_MAX_LINE_BYTES, TERMINATOR } from "./_framing/types.ts";
export type { InvalidReason, Line, LineSink, LineSplitterOptions } from "./_framing/types.ts";

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
  readonly #ranges: RangeSplitter;

  /**
   * Creates a splitter.
   *
   * @param options Line cap and CR handling.
   * @throws {TypeError | RangeError} When `maxLineBytes` is not a whole number of at least 1.
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
