// The session's phases: the moves the table lists, and no other.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as phases from "./phase.ts";
import type { Phase, PhaseName } from "./phase.ts";
import type { Timer } from "../_util/clock.ts";

const { closing, ended, finishing, move, NEXT } = phases;
const NAMES = Object.keys(NEXT) as PhaseName[];
const PLAIN = [phases.NEW, phases.READING, phases.SERVING, phases.CALLING, phases.HANDLING];

function phase(name: PhaseName): Phase {
  switch (name) {
    case "finishing":
      return finishing(undefined as unknown as Timer);
    case "closing":
      return closing(undefined);
    case "ended":
      return ended("stopped");
    default:
      return PLAIN.find((
        p,
      ) => p.name === name)!;
  }
}

describe("session phases", () => {
  test("SRS-220 a session moves only as the table says: any other move throws; ended is final", () => {
    for (const from of NAMES) {
      for (const to of NAMES) {
        const next = phase(to);
        if (NEXT[from].includes(to)) assert.equal(move(phase(from), next), next);
        else if (from === "ended") assert.equal(move(phase(from), next).name, "ended");
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
    assert.deepEqual(PLAIN.map((p) => p.name), [
      "new",
      "reading",
      "serving",
      "calling",
      "handling",
    ]);
    assert.equal(phase("ended").name, "ended");
    assert.equal((ended("idle") as { reason: string }).reason, "idle");
    assert.equal((closing(undefined) as { timer: unknown }).timer, undefined);
  });
});
