import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BUILTINS, findBuiltin, isBuiltin } from "./builtins.ts";

const encode = (text: string) => new TextEncoder().encode(text);

describe("built-ins table", () => {
  test("SRS-004 SRS-005 SRS-006 each entry: its bytes, its answer or its end, whether it can be turned off", () => {
    assert.deepEqual(
      BUILTINS.map(({ name, bytes, reply, replyBytes, end, optional }) => ({
        name,
        bytes: new TextDecoder().decode(bytes),
        reply,
        replyBytes: replyBytes && new TextDecoder().decode(replyBytes),
        end,
        optional,
      })),
      [
        {
          name: "ping",
          bytes: "ping",
          reply: "pong",
          replyBytes: "pong",
          end: undefined,
          optional: false,
        },
        {
          name: "disconnect",
          bytes: "disconnect",
          reply: undefined,
          replyBytes: undefined,
          end: "disconnect",
          optional: true,
        },
        {
          name: "shutdown",
          bytes: "shutdown",
          reply: undefined,
          replyBytes: undefined,
          end: "shutdown",
          optional: true,
        },
      ],
    );
  });

  test("SRS-004 only the exact bytes of a range name a built-in", () => {
    const line = encode("xpingx");
    const ping = BUILTINS[0];
    assert.equal(isBuiltin(ping, line, 1, 5), true);
    for (const [start, end] of [[0, 4], [2, 6], [1, 4], [1, 6], [0, 6]]) {
      assert.equal(isBuiltin(ping, line, start, end), false, `${start}-${end}`);
    }
    for (const near of ["Ping", "pinG", "pinx", "ping "]) {
      const bytes = encode(near);
      assert.equal(findBuiltin(BUILTINS, bytes, 0, bytes.length), undefined, near);
    }
    const shutdown = encode("shutdown");
    assert.equal(findBuiltin(BUILTINS, shutdown, 0, 8), BUILTINS[2]);
    assert.equal(findBuiltin(BUILTINS.slice(0, 2), shutdown, 0, 8), undefined);
    assert.equal(findBuiltin([], shutdown, 0, 8), undefined);
  });
});
