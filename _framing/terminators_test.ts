// The terminator options' checks: each value people often write instead is named with the one
// meant, whatever its case and surrounding spaces; keepCR only with LF; the bytes of each.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkKeepCR,
  checkReadTerminator,
  checkWriteTerminator,
  CLIENT_READ_TERMINATORS,
  terminatorBytes,
  WRITE_TERMINATORS,
} from "./terminators.ts";

const READ_LIST = '"\\n", "\\r" or "any"';
const WRITE_LIST = '"\\n", "\\r\\n" or "\\r"';

describe("terminator options", () => {
  test("SRS-139 each read terminator is taken, and undefined (the default)", () => {
    for (const value of [undefined, "\n", "\r", "any"]) {
      assert.doesNotThrow(() => checkReadTerminator(value, "options.readTerminator"));
    }
    for (const value of [undefined, "\n", "\r\n", "\r"]) {
      assert.doesNotThrow(() => checkWriteTerminator(value, "options.writeTerminator"));
    }
  });

  // [what was written, the one meant]
  const readMeant: [string, string][] = [
    [" lf ", "\n"],
    ["CR", "\r"],
    [" CrLf", "\n"],
    ["\r\n", "\n"],
    ["\\n", "\n"],
    ["\\r ", "\r"],
    [" ANY ", "any"],
  ];
  for (const [value, meant] of readMeant) {
    test(`SRS-139 read terminator ${JSON.stringify(value)} is refused, naming ${JSON.stringify(meant)}`, () => {
      assert.throws(() => checkReadTerminator(value, "options.readTerminator"), {
        name: "TypeError",
        message: `options.readTerminator must be ${READ_LIST}, got ${
          JSON.stringify(value)
        } (a string); did you mean ${JSON.stringify(meant)}?`,
      });
    });
  }

  const writeMeant: [string, string][] = [
    [" LF", "\n"],
    ["cr ", "\r"],
    [" crlf ", "\r\n"],
    ["\\n", "\n"],
    ["\\r", "\r"],
    ["\\r\\n", "\r\n"],
  ];
  for (const [value, meant] of writeMeant) {
    test(`SRS-139 write terminator ${JSON.stringify(value)} is refused, naming ${JSON.stringify(meant)}`, () => {
      assert.throws(() => checkWriteTerminator(value, "terminator"), {
        name: "TypeError",
        message: `terminator must be ${WRITE_LIST}, got ${
          JSON.stringify(value)
        } (a string); did you mean ${JSON.stringify(meant)}?`,
      });
    });
  }

  test("SRS-139 a value that names no terminator gets no guess", () => {
    assert.throws(() => checkWriteTerminator("\n\n", "w"), {
      name: "TypeError",
      message: `w must be ${WRITE_LIST}, got "\\n\\n" (a string)`,
    });
    // A name every object has is no alias.
    assert.throws(() => checkWriteTerminator("constructor", "w"), {
      name: "TypeError",
      message: `w must be ${WRITE_LIST}, got "constructor" (a string)`,
    });
    assert.throws(() => checkReadTerminator(["\n"], "r"), {
      name: "TypeError",
      message: `r must be ${READ_LIST}, got an array`,
    });
  });

  test("SRS-139 keepCR comes with the LF read terminator only", () => {
    for (const readTerminator of [undefined, "\n"]) {
      assert.doesNotThrow(() => checkKeepCR({ keepCR: true, readTerminator }));
    }
    for (const readTerminator of ["\r", "any"]) {
      assert.doesNotThrow(() => checkKeepCR({ keepCR: false, readTerminator }));
      assert.doesNotThrow(() => checkKeepCR({ readTerminator }));
      assert.throws(() => checkKeepCR({ keepCR: true, readTerminator }), {
        name: "TypeError",
        message: `options.keepCR applies to readTerminator "\\n" only, not ${
          JSON.stringify(readTerminator)
        }`,
      });
    }
  });

  test("SRS-140 the terminators and their bytes", () => {
    assert.deepEqual(WRITE_TERMINATORS, ["\n", "\r\n", "\r"]);
    assert.deepEqual(CLIENT_READ_TERMINATORS, ["\n", "\r\n", "\r", "any"]);
    assert.deepEqual(WRITE_TERMINATORS.map((t) => [...terminatorBytes(t)]), [
      [0x0a],
      [0x0d, 0x0a],
      [0x0d],
    ]);
  });
});
