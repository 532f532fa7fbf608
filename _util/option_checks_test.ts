import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkEndpointOptions, checkMilliseconds, checkPositiveInteger } from "./option_checks.ts";

describe("option checks", () => {
  test("SRS-001 SRS-002 endpoints: types, the port's range by side, a path, TLS over TCP only", () => {
    const cases: [Record<string, unknown>, 0 | 1, string, string][] = [
      [{ hostname: 1 }, 0, "TypeError", "options.hostname must be a string, got number"],
      [{ port: "5001" }, 0, "TypeError", "options.port must be an integer, got 5001"],
      [{ port: 1.5 }, 0, "TypeError", "options.port must be an integer, got 1.5"],
      [{ port: -1 }, 0, "RangeError", "options.port must be from 0 to 65535, got -1"],
      [{ port: 0 }, 1, "RangeError", "options.port must be from 1 to 65535, got 0"],
      [{ port: 65536 }, 0, "RangeError", "options.port must be from 0 to 65535, got 65536"],
      [{ path: "" }, 0, "TypeError", "options.path must be a non-empty string, got "],
      [{ path: 7 }, 0, "TypeError", "options.path must be a non-empty string, got 7"],
      [
        { path: "/x", tls: {} },
        0,
        "TypeError",
        "TLS works over TCP only, not over a Unix socket path (options.path)",
      ],
    ];
    for (const [options, lowest, name, message] of cases) {
      assert.throws(() => checkEndpointOptions(options, lowest), { name, message });
    }
    for (
      const [options, lowest] of [
        [{}, 0],
        [{ port: 0 }, 0],
        [{ port: 1 }, 1],
        [{ port: 65535 }, 1],
        [{ hostname: "::1", port: 5001 }, 1],
        [{ path: "/tmp/x.sock" }, 1],
        [{ port: 5001, tls: {} }, 1],
      ] as [Record<string, unknown>, 0 | 1][]
    ) {
      assert.doesNotThrow(() => checkEndpointOptions(options, lowest), JSON.stringify(options));
    }
  });

  test("SRS-001 milliseconds: positive numbers, Infinity only where allowed", () => {
    const bad: [unknown, boolean, string, string][] = [
      ["1", true, "TypeError", "t must be a number of milliseconds, got 1"],
      [NaN, true, "TypeError", "t must be a number of milliseconds, got NaN"],
      [0, true, "RangeError", "t must be positive, got 0"],
      [-5, true, "RangeError", "t must be positive, got -5"],
      [Infinity, false, "RangeError", "t must be positive and finite, got Infinity"],
    ];
    for (const [value, allowInfinity, name, message] of bad) {
      assert.throws(() => checkMilliseconds(value, "t", allowInfinity), { name, message });
    }
    for (
      const [value, allowInfinity] of [[undefined, false], [1, false], [0.5, false], [
        Infinity,
        true,
      ]]
    ) {
      assert.doesNotThrow(() => checkMilliseconds(value, "t", allowInfinity as boolean));
    }
  });

  test("SRS-001 counts: positive integers", () => {
    assert.throws(() => checkPositiveInteger(0, "n"), {
      name: "RangeError",
      message: "n must be at least 1, got 0",
    });
    assert.throws(() => checkPositiveInteger(2.5, "n"), {
      name: "TypeError",
      message: "n must be an integer, got 2.5",
    });
    assert.throws(() => checkPositiveInteger("3", "n"), {
      name: "TypeError",
      message: "n must be an integer, got 3",
    });
    assert.doesNotThrow(() => checkPositiveInteger(undefined, "n"));
    assert.doesNotThrow(() => checkPositiveInteger(1, "n"));
  });
});
