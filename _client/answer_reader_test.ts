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

// Asserts that `take` throws a BlockFormatError holding `raw` (as text), with `message` if given.
function assertBlockError(take: () => unknown, raw: string, message?: string): void {
  assert.throws(take, (error) => {
    assert.ok(error instanceof BlockFormatError);
    if (message !== undefined) assert.equal(error.message, message);
    assert.equal(decoder.decode(error.raw), raw);
    return true;
  });
}

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
    assertBlockError(() => reader.takeBlock(10), "ERR");
    // The header, which the reader keeps.
    assertBlockError(
      () => reader.takeBlock(10),
      "#3100",
      "a block of 100 bytes is over maxBlockBytes (10): connect with a higher maxBlockBytes",
    );
    assert.equal(reader.buffered, 5);
    reader.discard();
    assert.equal(reader.buffered, 0);
  });

  test("SRS-160 a block of maxBytes is taken; one without its terminator is thrown with its bytes", () => {
    const reader = new AnswerReader("\n", 100);
    reader.push(encoder.encode("#13abc\n#11a"));
    assert.deepEqual(reader.takeBlock(3), encoder.encode("abc"));
    assert.equal(reader.takeBlock(3), undefined, "what follows the data is still to come");
    reader.push(encoder.encode("b\n"));
    assertBlockError(
      () => reader.takeBlock(3),
      "#11a",
      "a block of 1 bytes is not followed by the terminator",
    );
    assert.deepEqual(reader.takeLine(), { raw: encoder.encode("b"), tooLong: false });
  });

  test("SRS-160 a block asked for while a long line is under way is that line, even if it ends like a block", () => {
    const reader = new AnswerReader("\n", 4);
    reader.push(encoder.encode("LONG LINE #"));
    assert.equal(reader.takeBlock(100), undefined);
    reader.push(encoder.encode("15abcde\n"));
    assertBlockError(
      () => reader.takeBlock(100),
      "LONG",
      "the answer is not a block: a long line is under way",
    );
    assert.equal(reader.buffered, 0);
  });

  test("SRS-081 SRS-152 a long line under way keeps one byte buffered, whatever comes", () => {
    const reader = new AnswerReader("\n", 4);
    reader.push(encoder.encode("xxxxxxxx"));
    assert.equal(reader.takeLine(), undefined);
    assert.equal(reader.buffered, 1);
    reader.push(encoder.encode("xx"));
    assert.equal(reader.takeLine(), undefined);
    assert.equal(reader.buffered, 1);
    reader.push(encoder.encode("\n"));
    assert.deepEqual(reader.takeLine(), { raw: encoder.encode("xxxx"), tooLong: true });
  });

  test("SRS-157 discard() forgets a CR whose LF was still to come, and a long line under way", () => {
    const reader = new AnswerReader("any", 4);
    reader.push(encoder.encode("a\rxxxxxxxx"));
    assert.deepEqual(reader.takeLine(), { raw: encoder.encode("a"), tooLong: false });
    assert.equal(reader.takeLine(), undefined);
    reader.discard();
    reader.push(encoder.encode("b\r"));
    assert.deepEqual(reader.takeLine(), { raw: encoder.encode("b"), tooLong: false });
    reader.discard();
    reader.push(encoder.encode("\nc\n"));
    assert.deepEqual(reader.takeLine(), { raw: new Uint8Array(), tooLong: false }, "a new line");
    assert.deepEqual(reader.takeLine(), { raw: encoder.encode("c"), tooLong: false });
  });
});

// A seeded generator, so that a failing stream can be replayed.
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % below);
  };
}

const CR = 0x0d;
const LF = 0x0a;

// What a stream of answers is read as: a line (takeLine), a block (takeBlock), a line taken by
// takeBlock (a BlockFormatError), or a block with no terminator after its data (likewise).
type Kind = "line" | "block" | "not block" | "unended";

// The terminators each read terminator takes, after a line or a block.
const ENDINGS: Record<ReadTerminator, string[]> = {
  "\n": ["\n", "\r\n"],
  "\r\n": ["\r\n"],
  "\r": ["\r"],
  "any": ["\n", "\r\n", "\r"],
};

// What may follow a block without its terminator: anything that does not start one.
const NOT_ENDINGS: Record<ReadTerminator, string[]> = {
  "\n": ["z", "\rz"],
  "\r\n": ["z", "\n", "\rz"],
  "\r": ["z", "\n"],
  "any": ["z"],
};

// A line's bytes that do not end it: letters, and the CR or LF that does not end a line.
function lineBytes(terminator: ReadTerminator, length: number, next: (below: number) => number) {
  const alphabet = { "\n": "abc\r", "\r\n": "abc\r\n", "\r": "abc\n", "any": "abc" }[terminator];
  let text = "";
  while (text.length < length) {
    const char = alphabet[next(alphabet.length)];
    if (!(char === "\n" && text.endsWith("\r"))) text += char;
  }
  return encoder.encode(text);
}

// A stream of answers under `terminator`: the kind of each, and their bytes.
function answers(terminator: ReadTerminator, seed: number, max: number) {
  const next = random(seed);
  const kinds: Kind[] = [];
  const parts: number[] = [];
  let unended = false;
  for (let i = 0; i < 40; i++) {
    const roll = next(10);
    // After a block without its terminator, a line that does not start with one.
    const kind: Kind = unended
      ? roll < 5 ? "line" : "not block"
      : roll < 5
      ? "line"
      : roll < 8
      ? "block"
      : roll < 9
      ? "not block"
      : "unended";
    kinds.push(kind);
    const lead = unended
      ? NOT_ENDINGS[terminator][next(NOT_ENDINGS[terminator].length)]
      : kind === "not block"
      ? ["x", "#0", "#x"][next(3)]
      : "";
    unended = kind === "unended";
    if (kind === "line" || kind === "not block") {
      const length = [0, 1, max - 1, max, max + 1, max + 2, 3 * max][next(7)];
      parts.push(...encoder.encode(lead), ...lineBytes(terminator, length, next));
    } else {
      const length = [0, 1, 5, 300, 5000][next(5)];
      const data = new Uint8Array(length).map(() => next(256));
      // A CR that ends the data of a block without its terminator is not the terminator's.
      if (kind === "unended" && length > 0 && next(2) === 0) data[length - 1] = CR;
      parts.push(...encoder.encode(lead), ...definiteLengthBlock(data));
      if (kind === "unended") continue;
    }
    let ending = ENDINGS[terminator][next(ENDINGS[terminator].length)];
    // Under "any", an LF right after a CR is the rest of its CR LF.
    if (terminator === "any" && ending === "\n" && parts.at(-1) === CR) ending = "\r";
    parts.push(...encoder.encode(ending));
  }
  if (unended) {
    kinds.push("line");
    parts.push(...encoder.encode(`z${ENDINGS[terminator][0]}`));
  }
  return { kinds, bytes: new Uint8Array(parts) };
}

// How many bytes of a terminator start at `byte`, followed by `after`: 0 when none does.
function endingBytes(terminator: ReadTerminator, byte: number, after: number): number {
  const pair = byte === CR && after === LF ? 2 : 0;
  switch (terminator) {
    case "\n":
      return byte === LF ? 1 : pair;
    case "\r":
      return byte === CR ? 1 : 0;
    case "\r\n":
      return pair;
    case "any":
      return pair || (byte === CR || byte === LF ? 1 : 0);
  }
}

// The answers read from the whole stream at once, each as how it was taken and its bytes in hex.
function expected(terminator: ReadTerminator, max: number, kinds: Kind[], bytes: Uint8Array) {
  const hex = (from: number, to: number) => toHex(bytes.subarray(from, to));
  const taken: string[] = [];
  let at = 0;
  for (const kind of kinds) {
    if (kind === "line" || kind === "not block") {
      let end = at;
      while (endingBytes(terminator, bytes[end], bytes[end + 1]) === 0) end++;
      const long = end - at > max;
      const line = hex(at, long ? at + max : end);
      taken.push(kind === "not block" ? `error ${line}` : `${long ? "long" : "line"} ${line}`);
      at = end + endingBytes(terminator, bytes[end], bytes[end + 1]);
    } else {
      const digits = bytes[at + 1] - 0x30;
      const length = Number(decoder.decode(bytes.subarray(at + 2, at + 2 + digits)));
      const dataEnd = at + 2 + digits + length;
      if (kind === "unended") {
        taken.push(`error ${hex(at, dataEnd)}`);
        at = dataEnd;
      } else {
        taken.push(`block ${hex(at + 2 + digits, dataEnd)}`);
        at = dataEnd + endingBytes(terminator, bytes[dataEnd], bytes[dataEnd + 1]);
      }
    }
  }
  return taken;
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The answers read from the stream fed in chunks of random sizes, taking what has come after
// some chunks only; and the bytes still buffered at the end.
function read(
  terminator: ReadTerminator,
  max: number,
  kinds: Kind[],
  bytes: Uint8Array,
  seed: number,
) {
  const next = random(seed);
  const reader = new AnswerReader(terminator, max);
  const taken: string[] = [];
  let k = 0;
  const takeAll = () => {
    while (k < kinds.length) {
      const kind = kinds[k];
      try {
        if (kind === "line") {
          const line = reader.takeLine();
          if (line === undefined) return;
          taken.push(`${line.tooLong ? "long" : "line"} ${toHex(line.raw)}`);
        } else {
          const block = reader.takeBlock(1_000_000);
          if (block === undefined) return;
          taken.push(`block ${toHex(block)}`);
        }
      } catch (error) {
        assert.ok(error instanceof BlockFormatError, String(error));
        taken.push(`error ${toHex(error.raw)}`);
      }
      k++;
    }
  };
  for (let at = 0; at < bytes.length;) {
    const size = 1 + next([1, 4, 20, 600, 9000][next(5)]);
    reader.push(bytes.slice(at, at + size));
    at += size;
    if (next(3) > 0) takeAll();
  }
  takeAll();
  return { taken, buffered: reader.buffered };
}

describe("answer reader, against a reading of the whole stream", () => {
  for (const terminator of ["\n", "\r\n", "\r", "any"] as const) {
    test(`SRS-157 SRS-159 SRS-160 lines, blocks and errors under ${JSON.stringify(terminator)}, whatever the chunks`, () => {
      for (let seed = 1; seed <= 30; seed++) {
        const max = [1, 4, 100][seed % 3];
        const { kinds, bytes } = answers(terminator, seed, max);
        const want = expected(terminator, max, kinds, bytes);
        assert.equal(want.length, kinds.length);
        const got = read(terminator, max, kinds, bytes, seed);
        assert.deepEqual(got, { taken: want, buffered: 0 }, `seed ${seed}`);
      }
    });
  }
});
