// Definite-length blocks: built from bytes and their headers read, whatever the data holds.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { definiteLengthBlock, parseBlockHeader } from "./block.ts";
import { BlockFormatError } from "../errors.ts";

const encoder = new TextEncoder();

describe("definite-length blocks", () => {
  test("SRS-158 a block is #, the digit count, the length and the data unchanged", () => {
    assert.deepEqual(definiteLengthBlock(new Uint8Array(0)), encoder.encode("#10"));
    const data = new Uint8Array(1234).map((_, i) => i % 256);
    const block = definiteLengthBlock(data);
    assert.deepEqual(block.subarray(0, 6), encoder.encode("#41234"));
    assert.deepEqual(block.subarray(6), data);
    assert.deepEqual(parseBlockHeader(block), { headerBytes: 6, dataBytes: 1234 });
  });

  // Only the length is read before the check: no gigabyte is allocated for it.
  test("SRS-158 data of 10 digits' length is a RangeError", () => {
    const huge = { length: 1_000_000_000 } as Uint8Array;
    assert.throws(() => definiteLengthBlock(huge), {
      name: "RangeError",
      message: "a definite-length block holds at most 999999999 bytes, got 1000000000",
    });
  });

  test("SRS-158 a header is read at any offset, and needs all its bytes", () => {
    const bytes = encoder.encode("xx#3100");
    for (let end = 2; end < 7; end++) assert.equal(parseBlockHeader(bytes, 2, end), undefined);
    // Nothing past `end` is looked at, whatever it holds.
    const wrong = encoder.encode("1#x");
    assert.equal(parseBlockHeader(wrong, 0, 0), undefined);
    assert.equal(parseBlockHeader(wrong, 1, 2), undefined);
    assert.deepEqual(parseBlockHeader(bytes, 2), { headerBytes: 5, dataBytes: 100 });
    assert.deepEqual(parseBlockHeader(encoder.encode("#9999999999")), {
      headerBytes: 11,
      dataBytes: 999_999_999,
    });
  });

  test("SRS-160 an indefinite-length block's error says what to ask for instead", () => {
    assert.throws(() => parseBlockHeader(encoder.encode("#0")), {
      name: "BlockFormatError",
      message: "the answer is an indefinite-length block (#0), whose end cannot be told from its " +
        "data over a socket: ask the instrument for a definite-length block",
    });
  });

  test("SRS-158 what is not a definite-length block's header is a BlockFormatError holding the bytes seen", () => {
    const cases: [string, RegExp, string][] = [
      ["1.25", /does not start with #/, "1.25"],
      ["#x1234", /no digit after #/, "#x"],
      ["#/12", /no digit after #/, "#/"],
      ["#:12", /no digit after #/, "#:"],
      ["#0data", /indefinite-length block \(#0\)/, "#0"],
      ["#0", /indefinite-length block \(#0\)/, "#0"],
      ["#21x", /its length is not digits/, "#21x"],
      ["#21 ", /its length is not digits/, "#21 "],
      ["#2:1", /its length is not digits/, "#2:1"],
    ];
    for (const [text, message, raw] of cases) {
      assert.throws(() => parseBlockHeader(encoder.encode(text)), (error) => {
        assert.ok(error instanceof BlockFormatError);
        assert.match(error.message, message);
        assert.equal(new TextDecoder().decode(error.raw), raw);
        return true;
      });
    }
  });
});
