// Python's formatting and parsing rules, against answers taken from CPython 3
// (`format(value, spec)`, `str.format`, `int()`, `float()`), and the setter
// patterns of pyvisa-sim's parser.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatString, formatValue } from "./format.ts";
import { pyStr, PyValueError, toPyFloat, toPyInt } from "./python_value.ts";
import type { PyValue } from "./python_value.ts";
import { compileSetter } from "./setter_pattern.ts";
import { randomAnswer, toBytes } from "./directives.ts";

// Each value, its spec, and what CPython answered ("!" and the message: it raised).
const FORMAT_CASES: [PyValue, string, string][] = [
  [100.0, ".2f", "100.00"],
  [0.125, ".2f", "0.12"],
  [2.5, ".0f", "2"],
  [1.0, "+.8E", "+1.00000000E+00"],
  [-0, ".2f", "-0.00"],
  [1e+16, "", "1e+16"],
  [1e-05, "", "1e-05"],
  [0.1, "", "0.1"],
  [123456789.0, "", "123456789.0"],
  [1.0, ".3", "1.0"],
  [100.0, ".3", "1e+02"],
  [0.0, ".3", "0.0"],
  [1234.5, ",.2f", "1,234.50"],
  [1.234e-05, "g", "1.234e-05"],
  [123456789.0, "g", "1.23457e+08"],
  [0.0, "g", "0"],
  [1.5, "#g", "1.50000"],
  [0.5, "%", "50.000000%"],
  [0.25, ".1%", "25.0%"],
  [3.14159, "10.3f", "     3.142"],
  [3.14159, "<10.2f", "3.14      "],
  [3.14159, "^10.2f", "   3.14   "],
  [3.14159, "*>10.2f", "******3.14"],
  [-3.14159, "=+10.2f", "-     3.14"],
  [-3.14159, "010.2f", "-000003.14"],
  [1e+300, ".3e", "1.000e+300"],
  [5e-324, "e", "4.940656e-324"],
  [Infinity, "f", "inf"],
  [-Infinity, "E", "-INF"],
  [NaN, "+.2f", "+nan"],
  [-0.0001, "z.2f", "0.00"],
  [2.675, ".2f", "2.67"],
  [1.0, "e", "1.000000e+00"],
  [12345.678, "_.1f", "12_345.7"],
  [1.0, "#.0f", "1."],
  [1.0, "#.0e", "1.e+00"],
  [1e+22, "f", "10000000000000000000000.000000"],
  [9.995, ".2f", "9.99"],
  [0.1, ".20f", "0.10000000000000000555"],
  [0.3333333333333333, ".17g", "0.33333333333333331"],
  [255n, "x", "ff"],
  [255n, "#X", "0XFF"],
  [255n, "#b", "0b11111111"],
  [255n, "o", "377"],
  [-255n, "#x", "-0xff"],
  [1234567n, ",", "1,234,567"],
  [1234567n, "_x", "12_d687"],
  [42n, "+d", "+42"],
  [42n, " d", " 42"],
  [42n, "08d", "00000042"],
  [-42n, "08d", "-0000042"],
  [1234n, "010,", "00,001,234"],
  [1234n, "09,", "0,001,234"],
  [65n, "c", "A"],
  [5n, ".2f", "5.00"],
  [5n, "e", "5.000000e+00"],
  [5n, "%", "500.000000%"],
  [5n, "g", "5"],
  [123n, ">6", "   123"],
  [123n, "^7", "  123  "],
  [1.5e-07, "", "1.5e-07"],
  [1.152921504606847e+18, "", "1.152921504606847e+18"],
  [1000000000000000.0, "", "1000000000000000.0"],
  ["P6V", "s", "P6V"],
  ["P6V", ">5", "  P6V"],
  ["P6V", "^7", "  P6V  "],
  ["abc", ".2", "ab"],
  ["ab", "05", "ab000"],
  ["ab", "*<6", "ab****"],
  ["x", "", "x"],
  [1.5, "d", "!Unknown format code 'd' for object of type 'float'"],
  ["0", "d", "!Unknown format code 'd' for object of type 'str'"],
  [5n, ".2d", "!Precision not allowed in integer format specifier"],
  ["a", "+s", "!Sign not allowed in string format specifier"],
  ["a", "=5", "!'=' alignment not allowed in string format specifier"],
  [5n, "z", "!Negative zero coercion (z) not allowed in integer format specifier"],
  ["a", "#", "!Alternate form (#) not allowed in string format specifier"],
  [5n, "s", "!Unknown format code 's' for object of type 'int'"],
  [1.5, "x", "!Unknown format code 'x' for object of type 'float'"],
  [5n, ",x", "!Cannot specify ',' with 'x'."],
  [5n, ",n", "!Cannot specify ',' with 'n'."],
  ["x", ",", "!Cannot specify ',' with 's'."],
];

const bytes = (...values: number[]) => new Uint8Array(values);

describe("Python formatting", () => {
  test("SRS-168 format(value, spec) answers what CPython answers", () => {
    for (const [value, spec, expected] of FORMAT_CASES) {
      const label = `format(${typeof value === "bigint" ? `${value}` : JSON.stringify(value)}, ${
        JSON.stringify(spec)
      })`;
      if (expected.startsWith("!")) {
        assert.throws(() => formatValue(value, spec), (error: Error) => {
          assert.ok(error instanceof PyValueError, label);
          assert.equal(error.message, expected.slice(1), label);
          return true;
        });
      } else {
        assert.equal(formatValue(value, spec), expected, label);
      }
    }
  });

  test("SRS-168 str.format: literal text, escaped braces, positional fields, !s", () => {
    assert.equal(formatString("{:.2f} V", [2.5]), "2.50 V");
    assert.equal(formatString("{0:.1f}/{0:.2f}", [2.5]), "2.5/2.50");
    assert.equal(formatString("{{x}} {}", [2.5]), "{x} 2.5");
    assert.equal(formatString("{!s:>4}", [2.5]), " 2.5");
    assert.equal(formatString("CH{ch_id}:VOLT?", [], { ch_id: "2" }), "CH2:VOLT?");
    const failures: [string, RegExp][] = [
      ["{} {}", /Replacement index 1 out of range for positional args tuple$/],
      ["}", /Single '\}' encountered in format string$/],
      ["{", /Single '\{' encountered in format string$/],
      ["{x}", /names no positional argument/],
      ["{0}{}", /cannot switch from manual field specification to automatic field numbering$/],
      ["{!r}", /conversion !r is not supported by the mock/],
    ];
    for (const [template, message] of failures) {
      assert.throws(() => formatString(template, [2.5]), message, template);
    }
  });

  test("SRS-168 str(), int() and float() of Python", () => {
    assert.deepEqual(
      [100, 1e16, 1e-5, 1.5e-7, 123456789012345678, 0.0001, -0, Infinity, 1e15, 2 ** 60].map(pyStr),
      [
        "100.0",
        "1e+16",
        "1e-05",
        "1.5e-07",
        "1.2345678901234568e+17",
        "0.0001",
        "-0.0",
        "inf",
        "1000000000000000.0",
        "1.152921504606847e+18",
      ],
    );
    assert.deepEqual([" 1_000 ", "+5", "0005"].map(toPyInt), [1000n, 5n, 5n]);
    for (const text of ["1.5", "", "0x10"]) {
      assert.throws(
        () => toPyInt(text),
        /^PyValueError: invalid literal for int\(\) with base 10: /,
      );
    }
    assert.deepEqual(
      ["1e3", ".5", "5.", "inf", "-Infinity", "1_0.5", " 2 "].map(toPyFloat),
      [1000, 0.5, 5, Infinity, -Infinity, 10.5, 2],
    );
    assert.ok(Number.isNaN(toPyFloat("nan")));
    for (const text of ["1._5", ".e5", "0x10", ""]) {
      assert.throws(() => toPyFloat(text), /^PyValueError: could not convert string to float: /);
    }
    assert.equal(toPyInt(-2.9), -2n);
    assert.throws(() => toPyInt(Infinity), /cannot convert float inf to integer/);
  });
});

describe("setter patterns", () => {
  test("SRS-169 a setter's q parses its value as pyvisa-sim's parser does", () => {
    const cases: [string, string, PyValue | undefined][] = [
      ["!F {:.2f}", "!F 10.3", 10.3],
      ["!F {:.2f}", "!F 10", 10],
      ["!F {:.2f}", "!F -1.0", -1],
      ["!F {:.2f}", "!F 5", undefined], // {:.2f} wants two digits or more
      ["!F {:.2f}", "!F 1e3", undefined],
      ["!F {:.2f}", "!F +1.0", undefined],
      ["!F {:+.2f}", "!F +1.0", 1],
      ["!F {:+.2f}", "!F 1.0", undefined],
      ["!O {:d}", "!O 1", 1n],
      ["!O {:d}", "!O -12", -12n],
      ["!O {:d}", "!O 1.0", undefined],
      ["!E {:e}", "!E 1.5e3", 1500],
      ["!X {:x}", "!X ff", 255n],
      ["!X {:#x}", "!X 0xff", 255n],
      ["!P {:%}", "!P 50.0%", 0.5],
      ["!S {:s}", "!S SQUARE", "SQUARE"],
      ["!S {}", "!S two words", "two words"],
      ["!S {}", "!S ", ""],
      ["!S {:>8s}", "!S x", "x"], // width is not checked
      ["(A) {} [B]", "(A) v [B]", "v"],
      ["!F {:.2f}", "!f 10.3", undefined], // case matters
      ["!F {:.2f}", "!F 10.3 ", undefined],
      ["!F {:.2f}{_}", "!F 10.3xyz", 10.3],
    ];
    for (const [template, query, value] of cases) {
      const match = compileSetter(template, false).match(query);
      assert.deepEqual(match?.value, value, `${template} on ${JSON.stringify(query)}`);
    }
    assert.deepEqual(compileSetter("CH {ch_id}:OUT {:d}", true).match("CH 3:OUT 1"), {
      value: 1n,
      channel: "3",
    });
  });

  test("SRS-169 a setter's q that pyvisa-sim cannot use is refused", () => {
    const failures: [string, boolean, RegExp][] = [
      ["!N {:n}", false, /n is not a valid type/],
      ["!C {:c}", false, /c is not a valid type/],
      ["!F {:#f}", false, /Alternate form \(#\) not allowed in f type/],
      ["!F", false, /needs a value field/],
      ["!F {} {}", false, /one value field/],
      ["!F {x}", false, /field \{x\}/],
      ["CH {ch_id}:F {}", false, /field \{ch_id\}/],
      ["CH {ch_id}:F {ch_id}", true, /one \{ch_id\} field/],
      ["!F {", false, /Single '\{'/],
    ];
    for (const [template, channel, message] of failures) {
      assert.throws(() => compileSetter(template, channel), message, template);
    }
  });
});

describe("directives", () => {
  test("SRS-170 BYTES(…) and the \\r \\n texts become bytes as pyvisa-sim makes them", () => {
    const cases: [string, Uint8Array][] = [
      ["abc", bytes(0x61, 0x62, 0x63)],
      ["BYTES()", bytes()],
      ["BYTES())", bytes(0x29)],
      ["BYTES(\x29\x29)", bytes(0x29, 0x29)],
      ["BYTES(\x01)BYTES(\x02)", bytes(1, 2)],
      ["abBYTES(\x01\xf0)cd", bytes(0x61, 0x62, 1, 0xf0, 0x63, 0x64)],
      ["aBYTES()b", bytes(0x61, 0x42, 0x59, 0x54, 0x45, 0x53, 0x28, 0x29, 0x62)],
      ["a\\r\\nb", bytes(0x61, 0x0d, 0x0a, 0x62)],
      ["µ", bytes(0xc2, 0xb5)],
    ];
    for (const [text, expected] of cases) assert.deepEqual(toBytes(text), expected, text);
    assert.throws(() => toBytes("BYTES(µ€)"), /BYTES\(…\) holds "€" \(U\+20AC\)/);
  });

  test("SRS-171 RANDOM readings: n values in range, formatted and joined as pyvisa-sim does", () => {
    const draws = [0, 0.5, 0.999];
    let next = 0;
    const random = () => draws[next++ % draws.length];
    assert.equal(randomAnswer("{RANDOM(0, 10.5, 3):.2f}", random), "0.00, 5.25, 10.49");
    assert.equal(randomAnswer("V={RANDOM(-5, 5, 1):+.1f}", () => 0.25), "V=-2.5");
    assert.equal(randomAnswer("{RANDOM(1, 2, 0):.1f}", () => 0.5), "");
    for (const bad of ["RANDOM(0, 10, 4){:.1f}", "{RANDOM(0, 10):.1f}", "{RANDOM(0,10,1):.1f}"]) {
      assert.throws(() => randomAnswer(bad, Math.random), /Wrong RANDOM directive/, bad);
    }
    for (let i = 0; i < 100; i++) {
      const value = Number(randomAnswer("{RANDOM(1, 2.5, 1):.3f}", Math.random));
      assert.ok(value >= 1 && value <= 2.5, String(value));
    }
  });
});
