/**
 * The types and constants of line framing, shared by the public
 * `framing.ts` and the private splitter and decoder.
 *
 * @module
 */

import type { ReadTerminator } from "./terminators.ts";

/**
 * Default cap on the length of one line, in bytes (64 KiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_LINE_BYTES } from "../framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_LINE_BYTES, 65536);
 * ```
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * What ends a line by default: LF. The server accepts a CR before it (and
 * drops it unless told to keep it), and ends every response line with LF
 * alone, unless its `readTerminator` and `writeTerminator` say otherwise.
 *
 * @example
 * ```ts
 * import { TERMINATOR } from "../framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TERMINATOR, "\n");
 * ```
 */
export const TERMINATOR = "\n";

/** {@linkcode TERMINATOR} as a byte. */
export const LF = 0x0a;

/**
 * The carriage return byte, which `"\r"`, `"\r\n"` and `"any"` end lines with.
 *
 * @example
 * ```ts
 * import { CR } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CR, "\r".charCodeAt(0));
 * ```
 */
export const CR = 0x0d;

/**
 * Why a line is flagged invalid.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "../framing.ts";
 * import type { InvalidReason } from "../framing.ts";
 * import { toLine } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * const reasons: (InvalidReason | undefined)[] = [];
 * const splitter = new LineSplitter({ maxLineBytes: 4 });
 * const bytes = new Uint8Array([0x6f, 0x6b, 0x0a, 0xff, 0x0a, 0x61, 0x62, 0x63, 0x64, 0x65, 0x0a]);
 * splitter.split(bytes, (raw, tooLong) => reasons.push(toLine(raw, tooLong).reason));
 * assert.deepEqual(reasons, [undefined, "decode", "too_long"]);
 * ```
 */
export type InvalidReason = "decode" | "too_long";

/**
 * Options of `LineSplitter` and `LineStream` (see also {@linkcode LineStreamOptions}).
 *
 * @example Accept lines of up to 1 KiB and keep CRs
 * ```ts
 * import { LineSplitter } from "../framing.ts";
 * import type { LineSplitterOptions } from "../framing.ts";
 *
 * import assert from "node:assert/strict";
 *
 * const options: LineSplitterOptions = { maxLineBytes: 1024, keepCR: true };
 * const splitter = new LineSplitter(options);
 * const lines: number[] = [];
 * splitter.split(new TextEncoder().encode("ping\r\n"), (bytes) => lines.push(bytes.length));
 * assert.deepEqual(lines, [5]); // "ping" and its CR
 * ```
 */
export interface LineSplitterOptions {
  /**
   * Longest line kept, in bytes, not counting its line end (nor a dropped
   * CR). Longer lines are cut to this many bytes and flagged too long; the
   * rest of their bytes is discarded up to the next line end and never
   * buffered.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Keep a CR that directly precedes the LF. By default it is dropped, so
   * that CRLF lines from netcat or telnet read the same as LF lines. Only
   * with `readTerminator` `"\n"`: with the others a CR ends the line.
   *
   * @default {false}
   */
  keepCR?: boolean;
  /**
   * What ends a line: LF (`"\n"`), CR alone (`"\r"`: an LF is then an
   * ordinary byte), or `"any"` of CR, LF and CRLF. Under `"any"` a CRLF
   * ends one line, even when its CR and LF arrive in different chunks, and a
   * NUL right after a CR is dropped (telnet sends a lone CR as CR NUL).
   *
   * @default {"\n"}
   */
  readTerminator?: ReadTerminator;
}

/**
 * Options of `LineStream`: those of `LineSplitter`, and what to do with a
 * last line that the stream ends without an LF.
 *
 * @example Read a protocol stream strictly: a line needs its LF
 * ```ts
 * import { LineStream } from "../framing.ts";
 * import type { LineStreamOptions } from "../framing.ts";
 *
 * import assert from "node:assert/strict";
 *
 * const options: LineStreamOptions = { maxLineBytes: 1024, finalLine: "drop" };
 * const bytes = new TextEncoder().encode("ping\ncut off");
 * const texts: string[] = [];
 * for await (const line of ReadableStream.from([bytes]).pipeThrough(new LineStream(options))) {
 *   texts.push(line.text);
 * }
 * assert.deepEqual(texts, ["ping"]);
 * ```
 */
export interface LineStreamOptions extends LineSplitterOptions {
  /**
   * A last line without an LF when the stream ends: `"emit"` hands it out as
   * if an LF ended it (as `TextLineStream` and `node:readline` do, so a file
   * or a device's output loses no text); `"drop"` discards it, for a protocol
   * where a line only counts once its LF has arrived (a peer cut off
   * mid-line).
   *
   * @default {"emit"}
   */
  finalLine?: "emit" | "drop";
}

/**
 * Receives each complete line found by `LineSplitter.split`.
 *
 * @param bytes The line without its LF (and without a dropped CR).
 * @param tooLong True when the line was longer than the cap and `bytes` holds only its first `maxLineBytes` bytes.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "../framing.ts";
 * import type { LineSink } from "../framing.ts";
 *
 * import assert from "node:assert/strict";
 *
 * const seen: [number, boolean][] = [];
 * const sink: LineSink = (bytes, tooLong) => seen.push([bytes.length, tooLong]);
 * new LineSplitter({ maxLineBytes: 3 }).split(new TextEncoder().encode("ping\nok\n"), sink);
 * assert.deepEqual(seen, [[3, true], [2, false]]);
 * ```
 */
export type LineSink = (bytes: Uint8Array, tooLong: boolean) => void;

/**
 * One decoded line, as a `LineStream` or the client hands it out.
 *
 * @example
 * ```ts
 * import type { Line } from "../framing.ts";
 *
 * import { LineStream } from "../framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x61, 0xff, 0x0a]); // "a", a byte that is not UTF-8, LF
 * const lines: Line[] = [];
 * for await (const line of ReadableStream.from([bytes]).pipeThrough(new LineStream())) {
 *   lines.push(line);
 * }
 * const expected: Line = {
 *   text: "a",
 *   raw: new Uint8Array([0x61, 0xff]),
 *   invalid: true,
 *   reason: "decode",
 * };
 * assert.deepEqual(lines, [expected]);
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
