import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LineBatch } from "./line_batch.ts";
import { BUILTINS } from "./builtins.ts";

describe("line batch", () => {
  test("SRS-009 lines are kept as ranges, in order, and cleared for the next read", () => {
    const batch = new LineBatch();
    const a = new Uint8Array(4);
    const b = new Uint8Array(2);
    assert.deepEqual(batch.builtins, []);
    batch.push(a, 0, 3, false);
    batch.push(b, 1, 2, true, BUILTINS[0]);
    assert.equal(batch.length, 2);
    assert.deepEqual(
      [batch.sources, batch.starts, batch.ends, batch.tooLong, batch.builtins],
      [[a, b], [0, 1], [3, 2], [false, true], [undefined, BUILTINS[0]]],
    );
    batch.clear();
    assert.equal(batch.length, 0);
    assert.deepEqual([batch.starts, batch.ends, batch.tooLong, batch.builtins], [[], [], [], []]);
  });
});
