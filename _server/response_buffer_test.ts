import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ResponseBuffer } from "./response_buffer.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (...values: number[]) => new Uint8Array(values);

describe("response buffer", () => {
  test("SRS-010 lines and framed bytes go out back to back, in order", () => {
    const buffer = new ResponseBuffer();
    buffer.appendLine("grüße ✓");
    buffer.appendFramed(new TextEncoder().encode("pong\n"));
    const long = new TextEncoder().encode(`${"z".repeat(40)}\n`);
    buffer.appendFramed(long);
    assert.equal(buffer.length, "grüße ✓".length + 5 + 5 + 41);
    assert.equal(text(buffer.take()), `grüße ✓\npong\n${"z".repeat(40)}\n`);
    assert.equal(buffer.length, 0);
  });

  test("SRS-010 SRS-018 framed bytes appended many times over: each copy whole, in order, after what was there", () => {
    const buffer = new ResponseBuffer();
    buffer.appendLine("first");
    const pong = new TextEncoder().encode("pong\n");
    for (const times of [1, 2, 3, 7, 8, 1000]) {
      buffer.appendFramed(pong, times);
      assert.equal(text(buffer.take()), (times === 1 ? "first\n" : "") + "pong\n".repeat(times));
    }
    buffer.appendLine("a");
    buffer.appendFramed(pong, 0);
    buffer.appendFramed(bytesOf(0x0a), 3);
    buffer.appendLine("b");
    assert.equal(text(buffer.take()), "a\n\n\n\nb\n");
  });

  test("SRS-010 it grows for a big batch, and a taken view stays intact while more is appended", () => {
    const buffer = new ResponseBuffer();
    const big = "b".repeat(100_000);
    buffer.appendLine(big);
    const first = buffer.take();
    buffer.appendLine("next");
    assert.equal(text(first), `${big}\n`);
    assert.equal(text(buffer.take()), "next\n");
    // After two takes the first array is used again: the first view is no longer valid then.
    buffer.appendLine("third");
    const third = buffer.take();
    assert.equal(text(third), "third\n");
    assert.equal(third.buffer, first.buffer, "no new array per take");
  });

  test("SRS-010 a line of 3-byte characters that just misses the room left still gets its LF", () => {
    const buffer = new ResponseBuffer();
    buffer.appendLine("");
    // 1 + 85 * 3 = 256 bytes, the first array's size: the LF needs one more.
    buffer.appendLine("✓".repeat(85));
    assert.equal(text(buffer.take()), `\n${"✓".repeat(85)}\n`);
  });

  test("SRS-040 the array doubles as a batch grows, and only when it must", () => {
    const buffer = new ResponseBuffer();
    const pong = new TextEncoder().encode("pong\n");
    for (let i = 0; i < 100; i++) buffer.appendFramed(pong);
    const taken = buffer.take();
    assert.equal(taken.length, 500);
    assert.equal(taken.buffer.byteLength, 512, "doubled from 256, not grown per append");
  });

  test("SRS-040 bytes that exactly fill the array do not grow it; one byte more doubles it", () => {
    const buffer = new ResponseBuffer();
    const full = new Uint8Array(256).fill(0x62);
    full[255] = 0x0a;
    buffer.appendFramed(full);
    assert.equal(buffer.length, 256);
    const taken = buffer.take();
    assert.deepEqual([taken.length, taken.buffer.byteLength], [256, 256]);
    buffer.appendFramed(full.subarray(0, 255));
    buffer.appendFramed(full.subarray(254));
    const grown = buffer.take();
    assert.deepEqual([grown.length, grown.buffer.byteLength], [257, 512]);
    assert.equal(text(grown), `${"b".repeat(256)}\n`);
  });

  test("SRS-040 a buffer of exactly 1 MiB is kept for reuse", () => {
    const buffer = new ResponseBuffer();
    const kib = new Uint8Array(1024).fill(0x61);
    for (let i = 0; i < 1024; i++) buffer.appendFramed(kib);
    const mib = buffer.take();
    assert.equal(mib.buffer.byteLength, 1024 * 1024);
    buffer.appendLine("a");
    buffer.take();
    buffer.appendLine("b");
    assert.equal(buffer.take().buffer, mib.buffer);
  });

  test("SRS-040 a buffer grown past 1 MiB is not kept for the next lines", () => {
    const buffer = new ResponseBuffer();
    const line = "h".repeat(1023);
    for (let i = 0; i < 2048; i++) buffer.appendLine(line);
    const huge = buffer.take();
    assert.ok(huge.buffer.byteLength > 1024 * 1024);
    buffer.appendLine("a");
    const small = buffer.take();
    buffer.appendLine("b");
    const again = buffer.take();
    assert.ok(again.buffer.byteLength <= 1024 * 1024, `${again.buffer.byteLength} bytes kept`);
    assert.notEqual(again.buffer, huge.buffer);
    assert.equal(text(small), "a\n");
  });

  test("SRS-130 SRS-137 bytes go out as they are, CR and LF included, each line with the terminator", () => {
    for (
      const [terminator, end] of [["\n", [0x0a]], ["\r\n", [0x0d, 0x0a]], ["\r", [0x0d]]] as const
    ) {
      const buffer = new ResponseBuffer(new Uint8Array(end));
      buffer.appendLine("a");
      buffer.appendBytes(bytesOf(0x0d, 0x0a, 0x00, 0xff));
      buffer.appendBytes(new Uint8Array(0));
      assert.deepEqual(
        [...buffer.take()],
        [0x61, ...end, 0x0d, 0x0a, 0x00, 0xff, ...end, ...end],
        JSON.stringify(terminator),
      );
    }
  });

  test("SRS-132 bytes are copied when appended: the array may change after", () => {
    const buffer = new ResponseBuffer();
    for (const size of [3, 40, 300 * 1024]) {
      const bytes = new Uint8Array(size).fill(0x61);
      buffer.appendBytes(bytes);
      bytes.fill(0x62);
    }
    let out = "";
    while (buffer.length > 0) out += text(buffer.take());
    assert.equal(out, `aaa\n${"a".repeat(40)}\n${"a".repeat(300 * 1024)}\n`);
  });

  test("SRS-134 a 64 MiB string is encoded a slice at a time: the buffer never holds much of it", () => {
    const buffer = new ResponseBuffer();
    const big = "x".repeat(64 * 1024 * 1024);
    buffer.appendLine("before");
    buffer.appendLine(big);
    buffer.appendLine("after");
    assert.ok(buffer.capacity < 4096, `${buffer.capacity} bytes held before the first take`);
    assert.equal(buffer.length, "before\n".length + big.length + "\nafter\n".length);
    let total = 0;
    let most = 0;
    const ends: string[] = [];
    for (let takes = 0; buffer.length > 0; takes++) {
      const taken = buffer.take();
      most = Math.max(most, buffer.capacity);
      assert.ok(taken.length <= 1024 * 1024, `take ${takes}: ${taken.length} bytes`);
      total += taken.length;
      ends.push(text(taken.subarray(0, 8)), text(taken.subarray(-8)));
    }
    assert.equal(total, "before\n".length + big.length + "\nafter\n".length);
    assert.ok(most <= 1024 * 1024, `${most} bytes held at most`);
    assert.equal(ends[0], "before\n");
    assert.equal(
      ends.at(-1),
      "x\nafter\n",
      "the last slice takes the terminator and the line after",
    );
    assert.ok(ends.slice(2, -1).every((end) => end === "xxxxxxxx"));
    assert.ok(buffer.capacity <= 1024, `${buffer.capacity} bytes kept after`);
  });

  test("SRS-134 a long string's slices never split a character, however they fall", () => {
    // Four-byte characters (surrogate pairs) shifted by code units: some slice ends inside a pair.
    for (const prefix of ["", "a", "abc"]) {
      const big = prefix + "😀é✓".repeat(150_000);
      const buffer = new ResponseBuffer();
      buffer.appendLine(big);
      const parts: Uint8Array[] = [];
      while (buffer.length > 0) parts.push(buffer.take().slice());
      assert.ok(parts.length > 1);
      const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) joined.set(part, (at += part.length) - part.length);
      assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(joined), `${big}\n`);
    }
  });

  // The first slice's last code unit is the high half of a pair: U+10000 (D800), U+10FFFF (DBFF).
  test("SRS-134 a slice that would end inside a pair ends before it, the lowest and highest too", () => {
    for (const pair of ["\u{10000}", "\u{10FFFF}"]) {
      for (const filler of ["a", "✓"]) {
        const big = filler.repeat(SLICE - 1) + pair + filler.repeat(5);
        assert.equal(joinTakes(bufferOf(big)), `${big}\n`);
      }
    }
    // Otherwise a slice is 256 Ki units exactly, whatever its last character.
    for (const [filler, bytes] of [["a", 1], ["\ue000", 3]] as const) {
      assert.equal(bufferOf(filler.repeat(SLICE + 5)).take().length, SLICE * bytes);
    }
    // A lone high half at the very end is encoded as U+FFFD, not held back.
    const lone = "a".repeat(SLICE + 10) + "\ud800";
    assert.equal(joinTakes(bufferOf(lone)), `${lone.slice(0, -1)}\ufffd\n`);
  });

  test("SRS-134 a string or bytes over 256 Ki units wait in line; up to that they are copied at once", () => {
    const atLimit = new ResponseBuffer();
    atLimit.appendLine("x".repeat(SLICE));
    assert.ok(atLimit.capacity >= SLICE, "encoded at once");
    const over = new ResponseBuffer();
    over.appendLine("x".repeat(SLICE + 1));
    assert.ok(over.capacity < 4096, "waits to be encoded");
    const bytes = new ResponseBuffer();
    bytes.appendBytes(new Uint8Array(SLICE).fill(0x62));
    assert.equal(bytes.take().length, SLICE + 1, "copied with its LF");
    bytes.appendBytes(new Uint8Array(SLICE + 1).fill(0x62));
    assert.equal(bytes.take().length, SLICE + 1, "handed out alone");
    assert.deepEqual([...bytes.take()], [0x0a]);
    // Bytes that exactly fill the array still get their LF.
    const fill = new ResponseBuffer();
    fill.appendBytes(new Uint8Array(256).fill(0x63));
    assert.deepEqual([...fill.take().subarray(-2)], [0x63, 0x0a]);
  });

  test("SRS-134 long lines among short ones come out whole and in order, each take non-empty", () => {
    const long = "x".repeat(SLICE + 10);
    const lines = [
      long,
      "mid",
      long,
      "y".repeat(SLICE),
      "y".repeat(SLICE),
      "y".repeat(SLICE),
      "end",
    ];
    // The second: what follows the later long line would fit with the first one's last slice.
    for (const batch of [lines, [long, "mid", long, "end"]]) {
      const buffer = new ResponseBuffer();
      for (const line of batch) buffer.appendLine(line);
      assert.equal(joinTakes(buffer), batch.map((line) => `${line}\n`).join(""));
    }
  });

  test("SRS-040 what the buffer holds: its arrays, the queued bytes and the slices' room while it is needed", () => {
    const buffer = new ResponseBuffer();
    assert.equal(buffer.capacity, 0, "no array before a line");
    buffer.appendLine("a");
    assert.equal(buffer.capacity, 256);
    buffer.take();
    assert.equal(buffer.capacity, 256, "the taken array is kept for reuse, and none made yet");
    buffer.appendLine("b");
    assert.equal(buffer.capacity, 512);
    assert.equal(new TextDecoder().decode(buffer.take()), "b\n");
    assert.equal(buffer.capacity, 512, "both arrays kept");
    const twoLong = new ResponseBuffer();
    twoLong.appendLine("x".repeat(SLICE + 1));
    twoLong.appendLine("x".repeat(SLICE + 1));
    twoLong.appendBytes(new Uint8Array(SLICE + 1));
    assert.ok(twoLong.capacity >= SLICE + 1, "queued bytes count");
    twoLong.take();
    assert.ok(twoLong.capacity >= 3 * SLICE, "the slices' room, needed for the next slice");
    twoLong.take();
    assert.ok(twoLong.capacity >= 3 * SLICE, "kept: another long string waits");
    twoLong.take();
    twoLong.take();
    twoLong.take();
    assert.ok(twoLong.capacity < 3 * SLICE, "let go: only bytes wait");
  });
});

const SLICE = 256 * 1024;

function bufferOf(line: string): ResponseBuffer {
  const buffer = new ResponseBuffer();
  buffer.appendLine(line);
  return buffer;
}

// Every take until the buffer is empty, as one text; a take may not be empty.
function joinTakes(buffer: ResponseBuffer): string {
  const parts: Uint8Array[] = [];
  for (let takes = 0; buffer.length > 0; takes++) {
    assert.ok(takes < 1000, "the takes come to an end");
    const part = buffer.take().slice();
    assert.ok(part.length > 0, `take ${takes} is empty`);
    parts.push(part);
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) joined.set(part, (at += part.length) - part.length);
  return new TextDecoder("utf-8", { fatal: true }).decode(joined);
}
