// The client's answer reader: lines for each read terminator, whatever the chunks, the cap on
// a line, and blocks among lines.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnswerReader } from "./answer_reader.ts";
import type { ClientReadTerminator as ReadTerminator } from "../_framing/terminators.ts";
import { definiteLengthBlock } from "../_framing/block.ts";
import { BlockFormatError } from "../errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Every line of `text` fed in chunks of `size` bytes.
function lines(terminator: ReadTerminator, text: string, size: number, max = 100): string[] {
  const reader = new AnswerReader(terminator, max);
  const bytes = encoder.encode(text);
  const taken: string[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    reader.push(bytes.subarray(at, at + size));
    for (let line = reader.takeLine(); line !== undefined; line = reader.takeLine()) {
      taken.push(decoder.decode(line.raw) + (line.tooLong ? "…" : ""));
    }
  }
  return taken;
}

describe("answer reader", () => {
  const text = "a\nb\r\nc\rd\r\r\ne\n\n";
  const expected: [ReadTerminator, string[]][] = [
    ["\n", ["a", "b", "c\rd\r", "e", ""]],
    ["\r\n", ["a\nb", "c\rd\r"]],
    ["\r", ["a\nb", "\nc", "d", ""]],
    ["any", ["a", "b", "c", "d", "", "e", ""]],
  ];
  for (const [terminator, want] of expected) {
    test(`SRS-157 read terminator ${JSON.stringify(terminator)}: the same lines whatever the chunks`, () => {
      for (const size of [1, 2, 3, 5, text.length]) {
        assert.deepEqual(lines(terminator, text, size), want, `chunks of ${size}`);
      }
    });
  }

  test("SRS-152 a line over the cap keeps its first bytes, flagged, and the next line is whole", () => {
    const long = "x".repeat(50);
    for (const size of [1, 7, 100]) {
      assert.deepEqual(lines("\r\n", `${long}\r\nok\r\n`, size, 10), ["xxxxxxxxxx…", "ok"]);
      assert.deepEqual(lines("\n", `${long}\r\nok\n`, size, 10), ["xxxxxxxxxx…", "ok"]);
    }
    assert.deepEqual(lines("\n", "abcd\r\n", 1, 4), ["abcd"], "a CR before the LF is not counted");
  });

  test("SRS-152 an endless line costs at most the cap", () => {
    const reader = new AnswerReader("\n", 16);
    for (let i = 0; i < 1000; i++) {
      reader.push(new Uint8Array(1024).fill(0x78));
      assert.equal(reader.takeLine(), undefined);
      assert.ok(reader.buffered <= 1024 + 17, `${reader.buffered} bytes kept`);
    }
  });

  test("SRS-159 blocks among lines, their data holding every byte, fed byte by byte", () => {
    const data = new Uint8Array(256).map((_, i) => i);
    const bytes = new Uint8Array([
      ...encoder.encode("before\r\n"),
      ...definiteLengthBlock(data),
      ...encoder.encode("\r\nafter\r\n"),
    ]);
    for (const terminator of ["\n", "\r\n", "any"] as const) {
      const reader = new AnswerReader(terminator, 100);
      const taken: unknown[] = [];
      let want: "line" | "block" | "line2" = "line";
      for (const byte of bytes) {
        reader.push(new Uint8Array([byte]));
        const got = want === "block" ? reader.takeBlock(1000) : reader.takeLine()?.raw;
        if (got === undefined) continue;
        taken.push(want === "block" ? [...got] : decoder.decode(got));
        want = want === "line" ? "block" : "line2";
      }
      assert.deepEqual(taken, ["before", [...data], "after"], JSON.stringify(terminator));
    }
  });

  test("SRS-160 an answer that is not a block is taken as a line and thrown; a block over the cap is not taken", () => {
    const reader = new AnswerReader("\n", 100);
    reader.push(encoder.encode("ERR"));
    assert.equal(reader.takeBlock(10), undefined, "the line is not complete yet");
    reader.push(encoder.encode("\n#3100"));
    assert.throws(() => reader.takeBlock(10), (error) => {
      assert.ok(error instanceof BlockFormatError);
      assert.equal(decoder.decode(error.raw), "ERR");
      return true;
    });
    assert.throws(() => reader.takeBlock(10), /a block of 100 bytes is over maxBlockBytes \(10\)/);
    assert.equal(reader.buffered, 5);
    reader.discard();
    assert.equal(reader.buffered, 0);
  });
});
