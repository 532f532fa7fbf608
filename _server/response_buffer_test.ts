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
    assert.equal(text(buffer.take()), "third\n");
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
