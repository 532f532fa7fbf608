import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as checks from "./option_checks.ts";

describe("option checks", () => {
  test("SRS-001 SRS-002 SRS-092 endpoints: types, the port's range by side, a path alone, TLS over TCP only", () => {
    const cases: [Record<string, unknown>, 0 | 1, string, string][] = [
      [{ hostname: 1 }, 0, "TypeError", "options.hostname must be a string, got 1"],
      [{ port: "5001" }, 0, "TypeError", 'options.port must be an integer, got "5001" (a string)'],
      [{ port: 1.5 }, 0, "TypeError", "options.port must be an integer, got 1.5"],
      [{ port: -1 }, 0, "RangeError", "options.port must be from 0 to 65535, got -1"],
      [{ port: 0 }, 1, "RangeError", "options.port must be from 1 to 65535, got 0"],
      [{ port: 65536 }, 0, "RangeError", "options.port must be from 0 to 65535, got 65536"],
      [{ path: "" }, 0, "TypeError", 'options.path must be a non-empty string, got "" (a string)'],
      [{ path: 7 }, 0, "TypeError", "options.path must be a non-empty string, got 7"],
      [
        { path: "/x", tls: {} },
        0,
        "TypeError",
        "options.path cannot be combined with options.tls (TLS runs over TCP only)",
      ],
      [
        { path: "/x", port: 0 },
        0,
        "TypeError",
        "options.path cannot be combined with options.port (a Unix socket has no port)",
      ],
      [
        { path: "/x", hostname: "::1" },
        0,
        "TypeError",
        "options.path cannot be combined with options.hostname (a Unix socket has no hostname)",
      ],
    ];
    for (const [options, lowest, name, message] of cases) {
      assert.throws(() => checks.checkEndpointOptions(options, lowest), { name, message });
    }
    for (
      const [options, lowest] of [
        [{}, 0],
        [{ port: 0 }, 0],
        [{ port: 1 }, 1],
        [{ port: 65535 }, 1],
        [{ hostname: "::1", port: 5001 }, 1],
        [{ path: "/tmp/x.sock" }, 1],
        [{ path: "/tmp/x.sock", hostname: undefined, port: undefined, tls: undefined }, 1],
        [{ port: 5001, tls: {} }, 1],
      ] as [Record<string, unknown>, 0 | 1][]
    ) {
      assert.doesNotThrow(
        () => checks.checkEndpointOptions(options, lowest),
        JSON.stringify(options),
      );
    }
  });

  test("SRS-001 milliseconds: positive numbers, Infinity only where allowed", () => {
    const bad: [unknown, boolean, string, string][] = [
      ["1", true, "TypeError", 't must be a number of milliseconds, got "1" (a string)'],
      [NaN, true, "TypeError", "t must be a number of milliseconds, got NaN"],
      [0, true, "RangeError", "t must be positive, got 0"],
      [-5, true, "RangeError", "t must be positive, got -5"],
      [Infinity, false, "RangeError", "t must be positive and finite, got Infinity"],
    ];
    for (const [value, allowInfinity, name, message] of bad) {
      assert.throws(() => checks.checkMilliseconds(value, "t", allowInfinity), { name, message });
    }
    for (
      const [value, allowInfinity] of [[undefined, false], [1, false], [0.5, false], [
        Infinity,
        true,
      ]]
    ) {
      assert.doesNotThrow(() => checks.checkMilliseconds(value, "t", allowInfinity as boolean));
    }
  });

  test("SRS-001 counts: positive integers", () => {
    assert.throws(() => checks.checkPositiveInteger(0, "n"), {
      name: "RangeError",
      message: "n must be at least 1, got 0",
    });
    assert.throws(() => checks.checkPositiveInteger(2.5, "n"), {
      name: "TypeError",
      message: "n must be an integer, got 2.5",
    });
    assert.throws(() => checks.checkPositiveInteger("3", "n"), {
      name: "TypeError",
      message: 'n must be an integer, got "3" (a string)',
    });
    assert.doesNotThrow(() => checks.checkPositiveInteger(undefined, "n"));
    assert.doesNotThrow(() => checks.checkPositiveInteger(1, "n"));
  });

  test("SRS-001 flags: true or false", () => {
    assert.throws(() => checks.checkBoolean("yes", "f"), {
      name: "TypeError",
      message: 'f must be true or false, got "yes" (a string)',
    });
    assert.throws(() => checks.checkBoolean(0, "f"), {
      name: "TypeError",
      message: "f must be true or false, got 0",
    });
    for (const value of [undefined, true, false]) {
      assert.doesNotThrow(() => checks.checkBoolean(value, "f"));
    }
  });

  test("SRS-090 a wrong value is shown as it is: numbers plain, strings quoted, other types by name", () => {
    const cases: [unknown, string][] = [
      [5001, "5001"],
      [-1.5, "-1.5"],
      [NaN, "NaN"],
      [Infinity, "Infinity"],
      ["5001", '"5001" (a string)'],
      ["", '"" (a string)'],
      ['a "b"\n', '"a \\"b\\"\\n" (a string)'],
      [null, "null"],
      [undefined, "undefined"],
      [true, "a boolean"],
      [5n, "a bigint"],
      [Symbol("s"), "a symbol"],
      [() => 1, "a function"],
      [[1], "an array"],
      [{}, "an object"],
      [new AbortController(), "an object"],
    ];
    for (const [value, shown] of cases) assert.equal(checks.describeValue(value), shown);
  });

  test("SRS-091 unknown keys: named, with the nearest known key when one is near", () => {
    const known = { hostname: true, port: true, maxLineBytes: true, keepCR: true } as const;
    const cases: [object, string][] = [
      [{ prot: 1 }, "options.prot is not an option (did you mean port?)"], // a swap is one edit
      [{ porte: 1 }, "options.porte is not an option (did you mean port?)"],
      [{ HOSTNAME: "a" }, "options.HOSTNAME is not an option (did you mean hostname?)"],
      [{ maxLineByte: 1 }, "options.maxLineByte is not an option (did you mean maxLineBytes?)"],
      [{ keepcr: true }, "options.keepcr is not an option (did you mean keepCR?)"],
      [{ pt: 1 }, "options.pt is not an option"], // two edits from port: too far for two letters
      [{ host: "a" }, "options.host is not an option"],
      [{ port: 1, colour: "red" }, "options.colour is not an option"],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => checks.checkKnownKeys(options, known, "options"), {
        name: "TypeError",
        message,
      });
    }
    // The nearest key must be within a third of the unknown key's length (at least one edit):
    // each kind of edit counts one, a swap of neighbours included, whatever the case.
    const near: [string, string | undefined][] = [
      ["hsotnmae", "hostname"], // two swaps, 8 letters: within 2
      ["ohsntmae", undefined], // three swaps: too far
      ["hostxaxe", "hostname"], // two substitutions
      ["hxstxaxe", undefined], // three
      ["hstnme", "hostname"], // two letters missing, 6 letters: within 2
      ["hstnm", undefined], // three missing, 5 letters: within 1
      ["hosttnamee", "hostname"], // two letters too many
      ["mxLneBytes", "maxLineBytes"], // two missing, 10 letters: within 3
      ["axLinBtes", "maxLineBytes"], // three missing, 9 letters: within 3
      ["maxLnByt", undefined], // four missing, 8 letters: within 2
      ["EKEPrc", "keepCR"], // a swap twice over, in capitals
      ["oxrt", undefined], // two substitutions, not a swap: too far for four letters
      ["xprt", undefined],
      ["kepC", undefined],
    ];
    for (const [key, suggested] of near) {
      const hint = suggested === undefined ? "" : ` (did you mean ${suggested}?)`;
      assert.throws(() => checks.checkKnownKeys({ [key]: 1 }, known, "options"), {
        name: "TypeError",
        message: `options.${key} is not an option${hint}`,
      });
    }
    // On a tie the first known key is suggested.
    for (const [order, suggested] of [[["port", "sort"], "port"], [["sort", "port"], "sort"]]) {
      const tied = Object.fromEntries((order as string[]).map((key) => [key, true]));
      assert.throws(() => checks.checkKnownKeys({ bort: 1 }, tied, "options"), {
        name: "TypeError",
        message: `options.bort is not an option (did you mean ${suggested}?)`,
      });
    }
    // The first unknown key is named, in the object's order.
    assert.throws(() => checks.checkKnownKeys({ port: 1, b: 1, a: 1 }, known, "options"), {
      name: "TypeError",
      message: "options.b is not an option",
    });
    assert.throws(() => checks.checkKnownKeys({ x: 1 }, known, "options.tls"), {
      name: "TypeError",
      message: "options.tls.x is not an option",
    });
    // Only the object's own keys count, not inherited ones.
    assert.doesNotThrow(() => checks.checkKnownKeys(Object.create({ prot: 1 }), known, "options"));
    assert.doesNotThrow(() =>
      checks.checkKnownKeys({ port: 1, keepCR: undefined }, known, "options")
    );
    assert.doesNotThrow(() => checks.checkKnownKeys({}, known, "options"));
  });
});
