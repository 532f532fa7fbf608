import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ServerTally } from "./stats.ts";

describe("server tally", () => {
  test("SRS-070 refusals at a full queue are counted at once and logged once per stretch", () => {
    const messages: string[] = [];
    const tally = new ServerTally(3, (message) => messages.push(message));
    tally.endStretch();
    assert.deepEqual(messages, []);
    for (let i = 0; i < 4; i++) tally.queueFull();
    assert.equal(tally.counts.refused, 4);
    assert.deepEqual(messages, ["3 clients wait: refusing more"]);
    tally.endStretch();
    tally.endStretch();
    tally.queueFull();
    tally.endStretch();
    assert.deepEqual(messages, [
      "3 clients wait: refusing more",
      "refused 4 client(s) while the queue was full",
      "3 clients wait: refusing more",
      "refused 1 client(s) while the queue was full",
    ]);
    assert.deepEqual(tally.counts, { connections: 0, commands: 0, errors: 0, refused: 5 });
  });
});
