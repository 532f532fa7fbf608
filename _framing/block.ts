/**
 * IEEE 488.2 definite-length blocks: `#`, one digit n (1 to 9), n digits
 * giving the data's length in bytes, then the data, which may hold any byte
 * (LF and CR included). Instruments answer binary data (waveforms, screen
 * shots) this way, followed by the usual terminator.
 *
 * @module
 */

import { BlockFormatError } from "../errors.ts";

const HASH = 0x23;
const ZERO = 0x30;
const NINE = 0x39;
const encoder = new TextEncoder();

/**
 * The header of a definite-length block, as {@linkcode parseBlockHeader} reads it.
 *
 * @example
 * ```ts
 * import { parseBlockHeader } from "./block.ts";
 * import type { BlockHeader } from "./block.ts";
 * import assert from "node:assert/strict";
 *
 * const header: BlockHeader | undefined = parseBlockHeader(new TextEncoder().encode("#15hello"));
 * assert.deepEqual(header, { headerBytes: 3, dataBytes: 5 });
 * ```
 */
export interface BlockHeader {
  /** Bytes of the header: `#`, the digit count and the digits. */
  headerBytes: number;
  /** Bytes of data that follow the header. */
  dataBytes: number;
}

/**
 * Builds a definite-length block from bytes: `#`, the number of digits of the
 * length, the length, then the data unchanged. A server answers with it (and
 * its usual terminator after it); the client reads it with `queryBlock()`.
 *
 * @param data The block's data; any bytes.
 * @returns The block: header and data, without a terminator.
 * @throws {RangeError} When the data is 1,000,000,000 bytes or longer (nine digits at most).
 *
 * @example Usage
 * ```ts
 * import { definiteLengthBlock } from "./block.ts";
 * import assert from "node:assert/strict";
 *
 * const block = definiteLengthBlock(new Uint8Array([0x0a, 0x0d, 0x41]));
 * assert.deepEqual([...block], [0x23, 0x31, 0x33, 0x0a, 0x0d, 0x41]); // "#13", then the data
 * ```
 */
export function definiteLengthBlock(data: Uint8Array): Uint8Array {
  const length = String(data.length);
  if (length.length > 9) {
    throw new RangeError(`a definite-length block holds at most 999999999 bytes, got ${length}`);
  }
  const header = encoder.encode(`#${length.length}${length}`);
  const block = new Uint8Array(header.length + data.length);
  block.set(header);
  block.set(data, header.length);
  return block;
}

/**
 * Reads the header of a definite-length block at `bytes[start]`.
 *
 * @param bytes The bytes received so far.
 * @param start Where the block starts.
 * @param end Where the bytes received end.
 * @returns The header's size and the data's length, or `undefined` when more
 *   bytes are needed to tell.
 * @throws {BlockFormatError} When the bytes are not a definite-length block's
 *   header: no `#`, no digit after it, `#0` (an indefinite-length block,
 *   whose end over a socket cannot be told from its data), or a length that
 *   is not digits. The error's `raw` holds the bytes looked at.
 *
 * @example Usage
 * ```ts
 * import { parseBlockHeader } from "./block.ts";
 * import { BlockFormatError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("#212");
 * assert.equal(parseBlockHeader(bytes, 0, 3), undefined); // one digit of two so far
 * assert.deepEqual(parseBlockHeader(bytes), { headerBytes: 4, dataBytes: 12 });
 * assert.throws(() => parseBlockHeader(new TextEncoder().encode("#0abc")), BlockFormatError);
 * assert.throws(() => parseBlockHeader(new TextEncoder().encode("1.5")), BlockFormatError);
 * ```
 */
export function parseBlockHeader(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): BlockHeader | undefined {
  if (end <= start) return undefined;
  const seen = (to: number) => bytes.slice(start, Math.min(to, end));
  if (bytes[start] !== HASH) {
    throw new BlockFormatError("the answer is not a block: it does not start with #", seen(end));
  }
  if (end < start + 2) return undefined;
  const digits = bytes[start + 1] - ZERO;
  if (digits < 0 || digits > 9) {
    throw new BlockFormatError("the answer is not a block: no digit after #", seen(start + 2));
  }
  if (digits === 0) {
    throw new BlockFormatError(
      "the answer is an indefinite-length block (#0), whose end cannot be told from its data " +
        "over a socket: ask the instrument for a definite-length block",
      seen(start + 2),
    );
  }
  const headerBytes = 2 + digits;
  if (end < start + headerBytes) return undefined;
  let dataBytes = 0;
  for (let i = start + 2; i < start + headerBytes; i++) {
    if (bytes[i] < ZERO || bytes[i] > NINE) {
      throw new BlockFormatError(
        "the answer is not a block: its length is not digits",
        seen(start + headerBytes),
      );
    }
    dataBytes = dataBytes * 10 + bytes[i] - ZERO;
  }
  return { headerBytes, dataBytes };
}
