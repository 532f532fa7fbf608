import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CommandContext, responseLines } from "./command_context.ts";
import { UnsolicitedResponseError } from "../errors.ts";

function context(reason?: "decode" | "too_long") {
  const sent: (string | Uint8Array)[] = [];
  const bytes = new TextEncoder().encode("xcmdx");
  const ctx = new CommandContext(
    bytes,
    1,
    4,
    reason,
    { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    new AbortController().signal,
    (line) => (sent.push(line), Promise.resolve()),
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
    assert.throws(() => responseLines(["a", "b\r"]), {
      name: "TypeError",
      message: 'response must not contain CR or LF: "b\\r"',
    });
    assert.throws(() => responseLines(42 as never), {
      name: "TypeError",
      message: "a handler must return a string, a Uint8Array, an array of them or nothing, got 42",
    });
  });
});
