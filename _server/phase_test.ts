// The session's phases: the moves the table lists, and no other.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CALLING, ended, HANDLING, move, NEW, NEXT, READING, SERVING } from "./phase.ts";
import type { Phase, PhaseName } from "./phase.ts";

const NAMES = Object.keys(NEXT) as PhaseName[];

function phase(name: PhaseName): Phase {
  switch (name) {
    case "finishing":
    case "closing":
      return { name, timer: undefined };
    case "ended":
      return ended("stopped");
    default:
      return { name };
  }
}

describe("session phases", () => {
  test("SRS-220 a session moves only as the table says: every move listed is made, any other throws", () => {
    for (const from of NAMES) {
      for (const to of NAMES) {
        const next = phase(to);
        if (from === "ended") assert.equal(move(phase(from), next).name, "ended");
        else if (NEXT[from].includes(to)) assert.equal(move(phase(from), next), next);
        else {
          assert.throws(
            () => move(phase(from), next),
            new Error(`a session cannot move from ${from} to ${to}`),
          );
        }
      }
    }
  });

  test("SRS-220 the table: a read is served, a handler called then awaited, and ended is final", () => {
    const moves = NAMES.flatMap((from) => NEXT[from].map((to) => `${from} > ${to}`));
    assert.deepEqual(moves, [
      "new > reading",
      "new > closing",
      "reading > serving",
      "reading > finishing",
      "finishing > closing",
      "serving > reading",
      "serving > calling",
      "serving > closing",
      "calling > serving",
      "calling > handling",
      "handling > serving",
    ]);
    assert.deepEqual(NAMES, [
      "new",
      "reading",
      "finishing",
      "serving",
      "calling",
      "handling",
      "closing",
      "ended",
    ]);
    assert.deepEqual([NEW, READING, SERVING, CALLING, HANDLING].map((p) => p.name), [
      "new",
      "reading",
      "serving",
      "calling",
      "handling",
    ]);
    const stopped = ended("idle");
    assert.deepEqual(stopped, { name: "ended", reason: "idle" });
    assert.equal(move(stopped, READING), stopped);
  });
});
