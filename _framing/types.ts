/**
 * The types and constants of line framing, shared by the public
 * `framing.ts` and the private splitter and decoder.
 *
 * @module
 */

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
 * What ends every line: LF. The server accepts a CR before it (and drops it
 * unless told to keep it), and ends every response line with LF alone.
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
 * Why a line is flagged invalid.
 *
 * @example
 * ```ts
 * import type { InvalidReason } from "../framing.ts";
 * const reason: InvalidReason = "decode";
 * ```
 */
export type InvalidReason = "decode" | "too_long";

/**
 * Options of `LineSplitter` and `LineStream`.
 *
 * @example Accept lines of up to 1 KiB and keep CRs
 * ```ts
 * import { LineSplitter } from "../framing.ts";
 * import type { LineSplitterOptions } from "../framing.ts";
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
 * const print: LineSink = (bytes, tooLong) => console.log(bytes.length, tooLong);
 * new LineSplitter().split(new TextEncoder().encode("ping\n"), print); // 4 false
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
 * const line: Line = { text: "a", raw: new Uint8Array([0x61, 0xff]), invalid: true, reason: "decode" };
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
