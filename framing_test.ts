import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeLine,
  type Line,
  LineSplitter,
  type LineSplitterOptions,
  LineStream,
  type LineStreamOptions,
  type ReadTerminator,
} from "./framing.ts";
import { RangeSplitter } from "./_framing/range_splitter.ts";
import { asciiText, checkSingleLine, decodeLine } from "./_framing/text.ts";
import { RawClient, withServer } from "./test_util.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const bytesOf = (...values: number[]) => new Uint8Array(values);

interface Emitted {
  bytes: number[];
  tooLong: boolean;
}

// Splits `input` cut at `cuts` (sorted offsets) and collects what comes out. With `viaText`, each
// chunk goes through splitRanges with its ASCII text, as the server hands it over; the test
// fails if a chunk has no such text.
function splitAt(
  input: Uint8Array,
  cuts: number[],
  options?: LineSplitterOptions,
  viaText = false,
): Emitted[] {
  const splitter = new LineSplitter(options);
  const ranges = new RangeSplitter(options);
  const out: Emitted[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    const chunk = input.slice(start, cut);
    if (viaText) {
      const text = asciiText(chunk);
      assert.notEqual(text, undefined, "the chunk is ASCII");
      ranges.splitRanges(
        chunk,
        (bytes, from, to, tooLong) => out.push({ bytes: [...bytes.subarray(from, to)], tooLong }),
        text,
      );
    } else {
      splitter.split(chunk, (bytes, tooLong) => out.push({ bytes: [...bytes], tooLong }));
    }
    start = cut;
  }
  return out;
}

// The obvious definition, for comparison: split the whole input on LF.
function referenceSplit(input: Uint8Array, max: number, keepCR: boolean): Emitted[] {
  const out: Emitted[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== 0x0a) continue;
    let line = [...input.subarray(start, i)];
    if (!keepCR && line.at(-1) === 0x0d) line = line.slice(0, -1);
    out.push(
      line.length > max ? { bytes: line.slice(0, max), tooLong: true } : {
        bytes: line,
        tooLong: false,
      },
    );
    start = i + 1;
  }
  return out;
}

// A small deterministic PRNG (mulberry32), so a failure can be replayed.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 500 random inputs, cut at random places, with random caps and CR choices, split and compared
// with the reference. `otherByte` picks the bytes that are not LF or CR.
function checkRandomSplits(
  seed: number,
  otherByte: (next: () => number) => number,
  viaText: boolean,
): void {
  const next = random(seed);
  for (let round = 0; round < 500; round++) {
    const length = Math.floor(next() * 300);
    // Bias the alphabet towards LF and CR so lines are short and CRLF occurs.
    const input = Uint8Array.from({ length }, () => {
      const r = next();
      return r < 0.1 ? 0x0a : r < 0.15 ? 0x0d : otherByte(next);
    });
    const cuts = Array.from(
      { length: Math.floor(next() * 10) },
      () => Math.floor(next() * (length + 1)),
    ).sort((a, b) => a - b);
    const max = 1 + Math.floor(next() * 40);
    const keepCR = next() < 0.5;
    assert.deepEqual(
      splitAt(input, cuts, { maxLineBytes: max, keepCR }, viaText),
      referenceSplit(input, max, keepCR),
      `round ${round}: length ${length}, cuts ${cuts}, max ${max}, keepCR ${keepCR}`,
    );
  }
}

describe("LineSplitter", () => {
  test("SRS-009 LF ends a line; the bytes after the last LF wait for more", () => {
    const out = splitAt(encode("ping\ncmd01\npart"), []);
    assert.deepEqual(out.map((e) => new TextDecoder().decode(bytesOf(...e.bytes))), [
      "ping",
      "cmd01",
    ]);
  });

  test("SRS-009 one byte per chunk gives the same lines", () => {
    const input = encode("ping\ncmd01\n\nx y z\n");
    const cuts = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(splitAt(input, cuts), referenceSplit(input, 65536, false));
  });

  test("SRS-009 SRS-045 random cuts, bytes and caps match the reference split", () => {
    checkRandomSplits(20261124, (next) => Math.floor(next() * 256), false);
  });

  test("SRS-009 SRS-045 random ASCII cuts split through the chunk's text match the reference", () => {
    checkRandomSplits(20261127, (next) => 0x20 + Math.floor(next() * 0x5f), true);
  });

  test("SRS-016 a CR before the LF is dropped by default and kept on request", () => {
    const input = encode("ping\r\na\rb\n\r\n");
    assert.deepEqual(splitAt(input, [5]).map((e) => e.bytes), [
      [...encode("ping")],
      [...encode("a\rb")],
      [],
    ]);
    assert.deepEqual(splitAt(input, [5], { keepCR: true }).map((e) => e.bytes), [
      [...encode("ping\r")],
      [...encode("a\rb")],
      [0x0d],
    ]);
  });

  test("SRS-016 a CR split from its LF across chunks is still dropped", () => {
    assert.deepEqual(splitAt(encode("ping\r\n"), [5]), [{
      bytes: [...encode("ping")],
      tooLong: false,
    }]);
  });

  test("SRS-017 an over-long line is cut at the cap, flagged, and the next line is intact", () => {
    const input = encode("abcdefghij\nok\n");
    for (const cuts of [[], [3], [3, 7, 11], [10]]) {
      assert.deepEqual(splitAt(input, cuts, { maxLineBytes: 4 }), [
        { bytes: [...encode("abcd")], tooLong: true },
        { bytes: [...encode("ok")], tooLong: false },
      ], `cuts ${cuts}`);
    }
  });

  test("SRS-017 a line of exactly the cap is not too long, with or without CR", () => {
    assert.deepEqual(splitAt(encode("abcd\nabcd\r\n"), [2, 8], { maxLineBytes: 4 }), [
      { bytes: [...encode("abcd")], tooLong: false },
      { bytes: [...encode("abcd")], tooLong: false },
    ]);
  });

  test("SRS-017 memory stays bounded while a line without LF streams in", () => {
    const splitter = new LineSplitter({ maxLineBytes: 1024 });
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let emitted = 0;
    for (let i = 0; i < 64; i++) splitter.split(chunk, () => emitted++);
    assert.equal(emitted, 0);
    assert.ok(splitter.pendingBytes <= 1025, `buffered ${splitter.pendingBytes} bytes`);
    splitter.split(encode("\nping\n"), (bytes, tooLong) => {
      emitted++;
      if (emitted === 1) assert.deepEqual([bytes.length, tooLong], [1024, true]);
      else assert.deepEqual([new TextDecoder().decode(bytes), tooLong], ["ping", false]);
    });
    assert.equal(emitted, 2);
    assert.equal(splitter.pendingBytes, 0);
  });

  test("SRS-001 the cap must be a whole number of at least 1", () => {
    assert.throws(() => new LineSplitter({ maxLineBytes: 0 }), {
      name: "RangeError",
      message: "options.maxLineBytes must be at least 1, got 0",
    });
    assert.throws(() => new LineSplitter({ maxLineBytes: 1.5 }), {
      name: "TypeError",
      message: "options.maxLineBytes must be an integer, got 1.5",
    });
  });

  test("SRS-017 overflowing holds while an over-long line streams in, until its LF", () => {
    const splitter = new RangeSplitter({ maxLineBytes: 3 });
    const seen: boolean[] = [];
    const sink = (_: Uint8Array, __: number, ___: number, tooLong: boolean) => seen.push(tooLong);
    splitter.splitRanges(encode("ab"), sink);
    assert.equal(splitter.overflowing, false);
    splitter.splitRanges(encode("cde"), sink);
    assert.equal(splitter.overflowing, true);
    splitter.splitRanges(encode("f\ng"), sink);
    assert.equal(splitter.overflowing, false);
    assert.deepEqual(seen, [true]);
    assert.equal(splitter.pendingBytes, 1);
  });

  test("SRS-009 lines within one chunk are views; carried lines are fresh copies", () => {
    const splitter = new LineSplitter();
    const chunk = encode("ab\ncd");
    const seen: Uint8Array[] = [];
    splitter.split(chunk, (bytes) => seen.push(bytes));
    assert.equal(seen[0].buffer, chunk.buffer);
    const second = encode("e\n");
    splitter.split(second, (bytes) => seen.push(bytes));
    assert.notEqual(seen[1].buffer, second.buffer);
    assert.equal(new TextDecoder().decode(seen[1]), "cde");
  });
});

// The obvious definition of the other read terminators, for comparison: "\r" splits on CR
// alone; "any" on CR or LF, where an LF or NUL right after a CR belongs to it.
function referenceSplitOther(input: Uint8Array, max: number, terminator: "\r" | "any"): Emitted[] {
  const out: Emitted[] = [];
  let line: number[] = [];
  let afterCR = false;
  for (const byte of input) {
    const follower = afterCR && (byte === 0x0a || byte === 0x00);
    afterCR = false;
    if (follower) continue;
    const ends = byte === 0x0d || (terminator === "any" && byte === 0x0a);
    if (!ends) {
      line.push(byte);
      continue;
    }
    out.push({ bytes: line.slice(0, max), tooLong: line.length > max });
    line = [];
    afterCR = terminator === "any" && byte === 0x0d;
  }
  return out;
}

describe("LineSplitter: read terminators", () => {
  const lines = (input: string, cuts: number[], readTerminator: ReadTerminator) =>
    splitAt(encode(input), cuts, { readTerminator }).map((e) =>
      new TextDecoder().decode(bytesOf(...e.bytes))
    );

  test('SRS-135 "\\r": a CR alone ends a line, an LF is an ordinary byte', () => {
    assert.deepEqual(lines("a\rb\nc\r\r", [], "\r"), ["a", "b\nc", ""]);
    assert.deepEqual(lines("a\rb\nc\r\r", [1, 2, 3, 6], "\r"), ["a", "b\nc", ""]);
  });

  test('SRS-136 "any": CR, LF and CRLF each end one line, and CR NUL is one CR', () => {
    const input = "a\rb\nc\r\nd\r\0e\n\r\n\n\r\r\0\0";
    const expected = ["a", "b", "c", "d", "e", "", "", "", "", "\0"];
    assert.deepEqual(lines(input, [], "any"), expected.slice(0, -1));
    // Cut anywhere, CRLF and CR NUL split over two chunks included: the same lines.
    for (let cut = 0; cut <= input.length; cut++) {
      assert.deepEqual(lines(`${input}\n`, [cut], "any"), expected, `cut at ${cut}`);
    }
  });

  test('SRS-136 "any": a CRLF split over two reads, even through the read\'s text, is one line end', () => {
    const ranges = new RangeSplitter({ readTerminator: "any" });
    const out: string[] = [];
    const sink = (bytes: Uint8Array, start: number, end: number) =>
      out.push(new TextDecoder().decode(bytes.subarray(start, end)));
    for (const part of ["one\r", "\ntwo\r", "\n\r", "three\r\n"]) {
      const chunk = encode(part);
      ranges.splitRanges(chunk, sink, asciiText(chunk));
    }
    assert.deepEqual(out, ["one", "two", "", "three"]);
  });

  test("SRS-135 SRS-136 random bytes, cuts and caps match the reference split, through bytes or text", () => {
    for (const terminator of ["\r", "any"] as const) {
      const next = random(terminator === "any" ? 20261201 : 20261202);
      for (let round = 0; round < 500; round++) {
        const length = Math.floor(next() * 300);
        const viaText = round % 2 === 1;
        const input = Uint8Array.from({ length }, () => {
          const r = next();
          if (r < 0.1) return 0x0a;
          if (r < 0.2) return 0x0d;
          if (r < 0.25 && !viaText) return 0x00;
          return 0x20 + Math.floor(next() * 0x5f);
        });
        const cuts = Array.from(
          { length: Math.floor(next() * 10) },
          () => Math.floor(next() * (length + 1)),
        ).sort((a, b) => a - b);
        const max = 1 + Math.floor(next() * 40);
        assert.deepEqual(
          splitAt(input, cuts, { maxLineBytes: max, readTerminator: terminator }, viaText),
          referenceSplitOther(input, max, terminator),
          `${terminator} round ${round}: length ${length}, cuts ${cuts}, max ${max}`,
        );
      }
    }
  });

  test('SRS-136 "any": an over-long line ends at its CR, and the LF after it is no empty line', () => {
    assert.deepEqual(
      splitAt(encode("abcdef\r\nok\n"), [3, 7], { maxLineBytes: 4, readTerminator: "any" }),
      [{ bytes: [...encode("abcd")], tooLong: true }, { bytes: [...encode("ok")], tooLong: false }],
    );
  });

  test("SRS-136 after a flush, an LF that starts the next stream is a line end of its own", () => {
    const splitter = new LineSplitter({ readTerminator: "any" });
    const out: number[] = [];
    splitter.split(encode("a\r"), (bytes) => out.push(bytes.length));
    splitter.flush((bytes) => out.push(bytes.length));
    splitter.split(encode("\n"), (bytes) => out.push(bytes.length));
    assert.deepEqual(out, [1, 0]);
  });

  test("SRS-139 a wrong terminator is a TypeError that quotes it and names the one meant", () => {
    assert.throws(() => new LineSplitter({ readTerminator: "lf" as ReadTerminator }), {
      name: "TypeError",
      message:
        'options.readTerminator must be "\\n", "\\r" or "any", got "lf" (a string); did you mean "\\n"?',
    });
    assert.throws(() => new LineSplitter({ readTerminator: "\r\n" as ReadTerminator }), {
      name: "TypeError",
      message:
        'options.readTerminator must be "\\n", "\\r" or "any", got "\\r\\n" (a string); did you mean "\\n"?',
    });
    assert.throws(() => new LineSplitter({ readTerminator: 10 as unknown as ReadTerminator }), {
      name: "TypeError",
      message: 'options.readTerminator must be "\\n", "\\r" or "any", got 10',
    });
    assert.throws(() => new LineSplitter({ readTerminator: "any", keepCR: true }), {
      name: "TypeError",
      message: 'options.keepCR applies to readTerminator "\\n" only, not "any"',
    });
    assert.doesNotThrow(() => new LineSplitter({ readTerminator: "\r", keepCR: false }));
  });

  test("SRS-140 LineStream takes the read terminator", async () => {
    const bytes = encode("a\r\nb\rc");
    const texts: string[] = [];
    const stream = ReadableStream.from([bytes.subarray(0, 2), bytes.subarray(2)])
      .pipeThrough(new LineStream({ readTerminator: "any" }));
    for await (const line of stream) texts.push(line.text);
    assert.deepEqual(texts, ["a", "b", "c"]);
  });

  test("SRS-140 encodeLine: text checked and encoded, bytes as they are, then the terminator", () => {
    assert.deepEqual([...encodeLine("é")], [0xc3, 0xa9, 0x0a]);
    assert.deepEqual([...encodeLine("ok", "\r")], [0x6f, 0x6b, 0x0d]);
    assert.deepEqual([...encodeLine(bytesOf(0x0d, 0x0a), "\r\n")], [0x0d, 0x0a, 0x0d, 0x0a]);
    assert.throws(() => encodeLine("a\rb"), {
      name: "TypeError",
      message: 'line must not contain CR or LF: "a\\rb"',
    });
    assert.throws(() => encodeLine("ok", "crlf" as "\r\n"), {
      name: "TypeError",
      message:
        'terminator must be "\\n", "\\r\\n" or "\\r", got "crlf" (a string); did you mean "\\r\\n"?',
    });
  });
});

describe("LineSplitter at the end of the stream", () => {
  // Splits `input` in one chunk and flushes, collecting the lines as text (with their flag).
  function splitAndFlush(input: string, options?: LineSplitterOptions): [string, boolean][] {
    const splitter = new LineSplitter(options);
    const out: [string, boolean][] = [];
    const sink = (bytes: Uint8Array, tooLong: boolean) =>
      out.push([new TextDecoder().decode(bytes), tooLong]);
    splitter.split(encode(input), sink);
    splitter.flush(sink);
    assert.equal(splitter.pendingBytes, 0);
    return out;
  }

  test("SRS-094 flush hands out the last line without LF as if an LF ended it", () => {
    assert.deepEqual(splitAndFlush("a\nbc"), [["a", false], ["bc", false]]);
    assert.deepEqual(splitAndFlush("a\nbc\r"), [["a", false], ["bc", false]]);
    assert.deepEqual(splitAndFlush("bc\r", { keepCR: true }), [["bc\r", false]]);
    assert.deepEqual(splitAndFlush("\r"), [["", false]]);
    assert.deepEqual(splitAndFlush("abcdef", { maxLineBytes: 4 }), [["abcd", true]]);
    assert.deepEqual(splitAndFlush("abcd\r", { maxLineBytes: 4 }), [["abcd", false]]);
    // Nothing pending, nothing handed out: no empty line after a final LF.
    assert.deepEqual(splitAndFlush("a\n"), [["a", false]]);
    assert.deepEqual(splitAndFlush(""), []);
  });

  test("SRS-094 after a flush the splitter starts afresh, also from an over-long line", () => {
    const splitter = new LineSplitter({ maxLineBytes: 3 });
    const out: [string, boolean][] = [];
    const sink = (bytes: Uint8Array, tooLong: boolean) =>
      out.push([new TextDecoder().decode(bytes), tooLong]);
    splitter.split(encode("ab"), sink);
    splitter.split(encode("cdefg"), sink);
    splitter.flush(sink);
    splitter.flush(sink);
    splitter.split(encode("xy\n"), sink);
    assert.deepEqual(out, [["abc", true], ["xy", false]]);
  });

  test("SRS-094 random cuts: split and flush match the reference split of the input ended by an LF", () => {
    const next = random(20261202);
    for (let round = 0; round < 300; round++) {
      const length = Math.floor(next() * 60);
      const input = Uint8Array.from({ length }, () => {
        const r = next();
        return r < 0.1 ? 0x0a : r < 0.2 ? 0x0d : 0x61 + Math.floor(next() * 3);
      });
      const cuts = Array.from({ length: 3 }, () => Math.floor(next() * (length + 1)))
        .sort((a, b) => a - b);
      const max = 1 + Math.floor(next() * 8);
      const keepCR = next() < 0.5;
      const splitter = new LineSplitter({ maxLineBytes: max, keepCR });
      const out: Emitted[] = [];
      const sink = (bytes: Uint8Array, tooLong: boolean) =>
        out.push({ bytes: [...bytes], tooLong });
      let start = 0;
      for (const cut of [...cuts, length]) {
        splitter.split(input.slice(start, cut), sink);
        start = cut;
      }
      splitter.flush(sink);
      const ended = input.at(-1) === 0x0a || length === 0 ? input : bytesOf(...input, 0x0a);
      assert.deepEqual(out, referenceSplit(ended, max, keepCR), `round ${round}`);
    }
  });
});

describe("decodeLine", () => {
  test("SRS-007 asciiText decodes all-ASCII bytes and refuses anything else", () => {
    assert.equal(asciiText(encode("ping\necho x\n")), "ping\necho x\n");
    assert.equal(asciiText(encode("")), "");
    for (const bytes of [encode("grüße"), encode("\ufeffping"), new Uint8Array([0x61, 0xff])]) {
      assert.equal(asciiText(bytes), undefined);
    }
  });

  test("SRS-007 valid UTF-8 decodes as is, including non-ASCII and a BOM", () => {
    assert.deepEqual(decodeLine(encode("\ufeffgrüße ✓ 🎉")), {
      text: "\ufeffgrüße ✓ 🎉",
      invalid: false,
    });
  });

  test("SRS-007 undecodable bytes are left out and the line is flagged", () => {
    const cases: [Uint8Array, string][] = [
      [bytesOf(0x61, 0xff, 0x62), "ab"],
      [bytesOf(0xc0, 0xaf, 0x61), "a"], // overlong encoding of "/"
      [bytesOf(0xed, 0xa0, 0x80, 0x61), "a"], // a UTF-16 surrogate
      [bytesOf(0x61, 0xe2, 0x9c), "a"], // a truncated sequence
      [bytesOf(0xf4, 0x90, 0x80, 0x80), ""], // above U+10FFFF
      [bytesOf(0xf0, 0x80, 0x80, 0x80, 0x61), "a"], // an overlong four-byte sequence
      [new Uint8Array([0xe2, 0x9c, 0x93, 0x80, 0xf0, 0x9f, 0x8e, 0x89]), "✓🎉"],
    ];
    for (const [bytes, text] of cases) {
      assert.deepEqual(decodeLine(bytes), { text, invalid: true }, `bytes ${[...bytes]}`);
    }
  });

  test("SRS-007 a real U+FFFD and a BOM are text, not decoding errors", () => {
    assert.deepEqual(decodeLine(encode("\ufeffa\ufffd")), {
      text: "\ufeffa\ufffd",
      invalid: false,
    });
  });

  test("SRS-007 random bytes: exactly the ill-formed subparts are left out", () => {
    // The WHATWG decoder replaces each maximal ill-formed subpart with U+FFFD: the same rule,
    // so dropping its U+FFFDs is the reference. (No real U+FFFD, EF BF BD, can occur: no BD.)
    const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
    const edges = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf];
    const pool = [...edges, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 5000; round++) {
      const bytes = Uint8Array.from(
        { length: Math.floor(next() * 9) },
        () => pool[Math.floor(next() * pool.length)],
      );
      const replaced = lenient.decode(bytes);
      const expected = {
        text: replaced.replaceAll("\ufffd", ""),
        invalid: replaced.includes("\ufffd"),
      };
      assert.deepEqual(decodeLine(bytes), expected, `bytes ${[...bytes]}`);
    }
  });
});

describe("LineStream", () => {
  test("SRS-030 pipes bytes to Line objects with flags, at any chunk boundary", async () => {
    const input = bytesOf(...encode("ping\r\n"), 0xff, 0x0a, ...encode("toolong\n"));
    const chunks = [input.subarray(0, 3), input.subarray(3, 7), input.subarray(7)];
    const lines: Line[] = [];
    for await (
      const line of ReadableStream.from(chunks).pipeThrough(new LineStream({ maxLineBytes: 4 }))
    ) {
      lines.push(line);
    }
    assert.deepEqual(
      lines.map(({ text, invalid, reason, raw }) => ({ text, invalid, reason, raw: [...raw] })),
      [
        { text: "ping", invalid: false, reason: undefined, raw: [...encode("ping")] },
        { text: "", invalid: true, reason: "decode", raw: [0xff] },
        { text: "tool", invalid: true, reason: "too_long", raw: [...encode("tool")] },
      ],
    );
  });
});

describe("LineStream at the end of the stream", () => {
  // Pipes `input`, cut in two, through a LineStream and collects what comes out.
  async function streamLines(input: Uint8Array, options?: LineStreamOptions) {
    const half = input.length >> 1;
    const lines = [];
    for await (
      const line of ReadableStream.from([input.subarray(0, half), input.subarray(half)])
        .pipeThrough(new LineStream(options))
    ) {
      lines.push({ text: line.text, reason: line.reason, raw: [...line.raw] });
    }
    return lines;
  }

  test("SRS-094 by default the last line without LF is emitted, with the CR, cap and flags of any line", async () => {
    for (const options of [undefined, { finalLine: "emit" } as const]) {
      assert.deepEqual(await streamLines(encode("ping\nlast\r"), options), [
        { text: "ping", reason: undefined, raw: [...encode("ping")] },
        { text: "last", reason: undefined, raw: [...encode("last")] },
      ]);
    }
    assert.deepEqual(await streamLines(bytesOf(0x61, 0x0a, 0x62, 0xff)), [
      { text: "a", reason: undefined, raw: [0x61] },
      { text: "b", reason: "decode", raw: [0x62, 0xff] },
    ]);
    assert.deepEqual(await streamLines(encode("toolong"), { maxLineBytes: 4 }), [
      { text: "tool", reason: "too_long", raw: [...encode("tool")] },
    ]);
    // A stream that ends with its LF has no extra empty line.
    assert.deepEqual((await streamLines(encode("a\nb\n"))).map((line) => line.text), ["a", "b"]);
  });

  test('SRS-094 with finalLine: "drop" only lines ended by an LF come out', async () => {
    assert.deepEqual(
      (await streamLines(encode("ping\r\ncut off"), { finalLine: "drop" })).map((l) => l.text),
      ["ping"],
    );
    assert.deepEqual(
      await streamLines(encode("toolong"), { maxLineBytes: 4, finalLine: "drop" }),
      [],
    );
  });

  test("SRS-094 a finalLine other than emit or drop is a TypeError", () => {
    assert.throws(() => new LineStream({ finalLine: "keep" as "emit" }), {
      name: "TypeError",
      message: 'options.finalLine must be "emit" or "drop", got "keep" (a string)',
    });
  });
});

describe("the server at the end of the stream", () => {
  test("SRS-095 a last command without LF is not run: a client that ends mid-line gets no answer to it", async () => {
    const seen: string[] = [];
    await withServer(
      { handler: (command) => (seen.push(command), `echo:${command}`) },
      async (server) => {
        for (
          const [sent, answered] of [["first\nsecond", "echo:first\n"], ["ping\nping", "pong\n"]]
        ) {
          const client = await RawClient.connect(server.port!, "127.0.0.1", true);
          try {
            await client.write(sent);
            client.end();
            assert.equal(await client.untilClosed(), answered, JSON.stringify(sent));
          } finally {
            client.destroy();
          }
        }
        assert.deepEqual(seen, ["first"]);
      },
    );
  });
});

describe("checkSingleLine", () => {
  test("SRS-022 SRS-014 CR or LF anywhere is a TypeError; other text passes", () => {
    for (const bad of ["a\nb", "a\r", "\n"]) {
      assert.throws(() => checkSingleLine(bad, "response"), {
        name: "TypeError",
        message: `response must not contain CR or LF: ${JSON.stringify(bad)}`,
      });
    }
    assert.throws(() => checkSingleLine(42 as unknown as string, "command"), {
      name: "TypeError",
      message: "command must be a string, got 42",
    });
    assert.equal(checkSingleLine("ok ✓", "response"), "ok ✓");
  });
});
