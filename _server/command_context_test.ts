import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CommandContext, responseLines } from "./command_context.ts";
import { UnsolicitedResponseError } from "../errors.ts";

const bytesOf = (...values: number[]) => new Uint8Array(values);

// A context over "xcmdx"[1, 4); `keep` stands for the session's: a copy, as for a read whose
// array the connection reuses.
function context(
  reason?: "decode" | "too_long",
  keep: (source: Uint8Array) => Uint8Array = (source) => source.slice(),
) {
  const view = (source: Uint8Array, start: number, end: number) => {
    const kept = keep(source);
    return new Uint8Array(kept.buffer, kept.byteOffset + start, end - start);
  };
  const sent: (string | Uint8Array)[] = [];
  const bytes = new TextEncoder().encode("xcmdx");
  const ctx = new CommandContext(
    bytes,
    1,
    4,
    reason,
    { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    new AbortController().signal,
    { send: (line) => (sent.push(line), Promise.resolve()), view },
  );
  return { ctx, sent, bytes };
}

describe("handler context", () => {
  test("SRS-007 SRS-017 flags, raw bytes as a copy, the peer", () => {
    const { ctx, bytes } = context();
    assert.equal(ctx.invalid, false);
    assert.equal(ctx.reason, undefined);
    assert.deepEqual([...ctx.raw], [...new TextEncoder().encode("cmd")]);
    bytes[1] = 0x5a;
    assert.deepEqual([...ctx.raw], [...new TextEncoder().encode("cmd")], "raw is a copy");
    assert.equal(ctx.raw, ctx.raw, "copied once");
    assert.equal(ctx.raw.buffer.byteLength, 5, "the kept array's view, not a copy of its own");
    assert.deepEqual(ctx.remoteAddr, { transport: "tcp", hostname: "127.0.0.1", port: 1 });
    const flagged = context("too_long").ctx;
    assert.equal(flagged.invalid, true);
    assert.equal(flagged.reason, "too_long");
  });

  test("SRS-020 SRS-022 send while it runs; after the end, send and a first raw throw", () => {
    const { ctx, sent } = context();
    ctx.send("one");
    assert.throws(() => ctx.send("a\nb"), {
      name: "TypeError",
      message: 'response must not contain CR or LF: "a\\nb"',
    });
    assert.deepEqual(sent, ["one"]);
    ctx.end();
    assert.throws(() => ctx.send("late"), UnsolicitedResponseError);
    assert.throws(() => ctx.raw, {
      name: "HandlerFinishedError",
      message: "context.raw is only available while the handler runs",
    });
    const { ctx: read } = context();
    const raw = read.raw;
    read.end();
    assert.equal(read.raw, raw, "raw read before the end stays");
  });

  test("SRS-021 SRS-022 responseLines: nothing, arrays of lines; anything else is refused", () => {
    assert.deepEqual(responseLines(undefined), []);
    assert.deepEqual(responseLines(null), []);
    assert.deepEqual(responseLines(["a", "b"]), ["a", "b"]);
    assert.deepEqual(responseLines(["a", bytesOf(0x0a)]), ["a", bytesOf(0x0a)]);
    assert.throws(() => responseLines([{}] as never), {
      name: "TypeError",
      message: "a response must be a string or a Uint8Array, got an object",
    });
    assert.throws(() => responseLines(["a", "b\r"]), {
      name: "TypeError",
      message: 'response must not contain CR or LF: "b\\r"',
    });
    assert.throws(() => responseLines(42 as never), {
      name: "TypeError",
      message: "a handler must return a string, a Uint8Array, an array of them or nothing, got 42",
    });
  });

  test("SRS-133 raw is a view of what the session keeps: the read itself when it is never reused", () => {
    const { ctx, bytes } = context(undefined, (source) => source);
    assert.equal(ctx.raw.buffer, bytes.buffer);
    assert.deepEqual([ctx.raw.byteOffset, ctx.raw.length], [1, 3]);
    assert.equal(Object.getPrototypeOf(ctx.raw), Uint8Array.prototype, "a plain Uint8Array");
  });

  test("SRS-130 SRS-022 send takes bytes, and refuses what is neither text nor bytes", () => {
    const { ctx, sent } = context();
    ctx.send(bytesOf(0x0a, 0x0d));
    assert.throws(() => ctx.send(42 as never), {
      name: "TypeError",
      message: "a response must be a string or a Uint8Array, got 42",
    });
    assert.deepEqual(sent, [bytesOf(0x0a, 0x0d)]);
    ctx.end();
    assert.throws(() => ctx.send(bytesOf(0x61)), {
      name: "UnsolicitedResponseError",
      message: /^response "a" refused/,
    });
  });
});
