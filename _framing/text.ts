/**
 * Decoding lines, and checking a line before it is sent.
 *
 * @module
 */

import { isAscii } from "node:buffer";
import type { Line } from "./types.ts";
import { describeValue } from "../_util/option_checks.ts";

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
// ASCII text decodes the same as UTF-8 and as latin1 (windows-1252 in the Encoding standard);
// latin1 skips UTF-8's checks and is the faster on Bun and Node, the slower on Deno.
const asciiDecoder = "Deno" in globalThis ? lenientDecoder : new TextDecoder("latin1");

/**
 * Whether a read's line ends are found faster in its text (see
 * {@linkcode asciiText}) than in its bytes, even when no line is wanted as
 * text: V8 (Deno, Node) searches a string several times faster than a
 * `Uint8Array`, while JavaScriptCore (Bun) searches the bytes fast and pays
 * for the decode.
 *
 * @example Usage
 * ```ts
 * import { TEXT_SEARCH_IS_FASTER } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TEXT_SEARCH_IS_FASTER, !("Bun" in globalThis));
 * ```
 */
export const TEXT_SEARCH_IS_FASTER: boolean = !("Bun" in globalThis);

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
 * import { decodeLine } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeLine(new Uint8Array([0x68, 0xff, 0x69])), { text: "hi", invalid: true });
 * ```
 */
export function decodeLine(bytes: Uint8Array): DecodedLine {
  // The lenient decoder is faster than the fatal one on Deno. Its text is exact
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
 * import { asciiText } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(asciiText(new TextEncoder().encode("ping\n")), "ping\n");
 * assert.equal(asciiText(new TextEncoder().encode("grüße")), undefined);
 * ```
 */
export function asciiText(bytes: Uint8Array): string | undefined {
  return isAscii(bytes) ? asciiDecoder.decode(bytes) : undefined;
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
 * Turns raw line bytes, as produced by a splitter, into a
 * `Line`.
 *
 * @param raw The line's bytes.
 * @param tooLong Whether the splitter cut the line at the cap.
 * @returns The decoded line with its invalid flag and reason.
 *
 * @example Usage
 * ```ts
 * import { toLine } from "./text.ts";
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
 * import { checkSingleLine } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkSingleLine("a\nb", "response"), TypeError);
 * ```
 */
export function checkSingleLine(text: string, what: string): string {
  if (typeof text !== "string") {
    throw new TypeError(`${what} must be a string, got ${describeValue(text)}`);
  }
  // indexOf beats a /[\r\n]/ test on long lines.
  if (text.indexOf("\n") !== -1 || text.indexOf("\r") !== -1) {
    throw new TypeError(`${what} must not contain CR or LF: ${JSON.stringify(text)}`);
  }
  return text;
}
