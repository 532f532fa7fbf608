import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ResponseBuffer } from "./response_buffer.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("response buffer", () => {
  test("SRS-010 lines and framed bytes go out back to back, in order", () => {
    const buffer = new ResponseBuffer();
    buffer.appendLine("grüße ✓");
    buffer.appendBytes(new TextEncoder().encode("pong\n"));
    const long = new TextEncoder().encode(`${"z".repeat(40)}\n`);
    buffer.appendBytes(long);
    assert.equal(buffer.length, "grüße ✓".length + 5 + 5 + 41);
    assert.equal(text(buffer.take()), `grüße ✓\npong\n${"z".repeat(40)}\n`);
    assert.equal(buffer.length, 0);
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
    for (let i = 0; i < 100; i++) buffer.appendBytes(pong);
    const taken = buffer.take();
    assert.equal(taken.length, 500);
    assert.equal(taken.buffer.byteLength, 512, "doubled from 256, not grown per append");
  });

  test("SRS-040 bytes that exactly fill the array do not grow it; one byte more doubles it", () => {
    const buffer = new ResponseBuffer();
    const full = new Uint8Array(256).fill(0x62);
    full[255] = 0x0a;
    buffer.appendBytes(full);
    assert.equal(buffer.length, 256);
    const taken = buffer.take();
    assert.deepEqual([taken.length, taken.buffer.byteLength], [256, 256]);
    buffer.appendBytes(full.subarray(0, 255));
    buffer.appendBytes(full.subarray(254));
    const grown = buffer.take();
    assert.deepEqual([grown.length, grown.buffer.byteLength], [257, 512]);
    assert.equal(text(grown), `${"b".repeat(256)}\n`);
  });

  test("SRS-040 a buffer of exactly 1 MiB is kept for reuse", () => {
    const buffer = new ResponseBuffer();
    const kib = new Uint8Array(1024).fill(0x61);
    for (let i = 0; i < 1024; i++) buffer.appendBytes(kib);
    const mib = buffer.take();
    assert.equal(mib.buffer.byteLength, 1024 * 1024);
    buffer.appendLine("a");
    buffer.take();
    buffer.appendLine("b");
    assert.equal(buffer.take().buffer, mib.buffer);
  });

  test("SRS-040 a buffer grown past 1 MiB is not kept for the next lines", () => {
    const buffer = new ResponseBuffer();
    buffer.appendLine("h".repeat(2 * 1024 * 1024));
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
});
