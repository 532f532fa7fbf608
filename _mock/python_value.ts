/**
 * Python's three value types as a definition file's properties hold them
 * (`str`, `int`, `float`), and Python's rules for turning text into them and
 * them into text: the mock must answer what pyvisa-sim, written in Python,
 * answers.
 *
 * @module
 */

/** A Python value: `str` is a string, `int` a bigint, `float` a number. */
export type PyValue = string | bigint | number;

/** The type names a property's `specs.type` may give. */
export type PyType = "str" | "int" | "float";

/**
 * What Python raises as `ValueError` (or `OverflowError`, `TypeError`) when a
 * value does not convert or format: the mock treats it as pyvisa-sim treats
 * the exception.
 *
 * @example
 * ```ts
 * import { PyValueError, toPyInt } from "./python_value.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => toPyInt("1.5"), PyValueError);
 * ```
 */
export class PyValueError extends Error {
  /**
   * Creates the error.
   *
   * @param message Python's message, or one like it.
   */
  constructor(message: string) {
    super(message);
    this.name = "PyValueError";
  }
}

const INT_TEXT = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/;
const DIGITS = String.raw`\d+(?:_\d+)*`;
const FLOAT_TEXT = new RegExp(
  String
    .raw`^\s*[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)\s*$`,
  "i",
);

/**
 * Python's `int(text)`, `int(integer)` and `int(float)` (which truncates).
 *
 * @param value The value.
 * @returns The integer.
 * @throws {PyValueError} When Python's `int()` would raise.
 *
 * @example
 * ```ts
 * import { toPyInt } from "./python_value.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toPyInt(" 1_000 "), 1000n);
 * assert.equal(toPyInt(-2.9), -2n);
 * ```
 */
export function toPyInt(value: PyValue): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new PyValueError(`cannot convert float ${pyStr(value)} to integer`);
    }
    return BigInt(Math.trunc(value));
  }
  const match = INT_TEXT.exec(value);
  if (match === null) {
    throw new PyValueError(`invalid literal for int() with base 10: ${pyRepr(value)}`);
  }
  const magnitude = BigInt(match[2].replaceAll("_", ""));
  return match[1] === "-" ? -magnitude : magnitude;
}

/**
 * Python's `float(text)`, `float(integer)` and `float(float)`.
 *
 * @param value The value.
 * @returns The number.
 * @throws {PyValueError} When Python's `float()` would raise.
 *
 * @example
 * ```ts
 * import { toPyFloat } from "./python_value.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toPyFloat("1e3"), 1000);
 * assert.equal(toPyFloat("-inf"), -Infinity);
 * assert.throws(() => toPyFloat("0x10"));
 * ```
 */
export function toPyFloat(value: PyValue): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") {
    const number = Number(value);
    if (!Number.isFinite(number)) throw new PyValueError("int too large to convert to float");
    return number;
  }
  if (!FLOAT_TEXT.test(value)) {
    throw new PyValueError(`could not convert string to float: ${pyRepr(value)}`);
  }
  const plain = value.trim().replaceAll("_", "").toLowerCase();
  if (/n/.test(plain)) return plain.includes("nan") ? NaN : plain[0] === "-" ? -Infinity : Infinity;
  return Number(plain);
}

/**
 * Python's `str(value)`: a float as Python's `repr` writes it (`100.0`,
 * `1e-05`, `1e+16`).
 *
 * @param value The value.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import { pyStr } from "./python_value.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([100, 1e-5, 1e16, 0.1].map(pyStr), ["100.0", "1e-05", "1e+16", "0.1"]);
 * assert.equal(pyStr(7n), "7");
 * ```
 */
export function pyStr(value: PyValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const { digits, point } = shortestDigits(value);
  const sign = value < 0 ? "-" : "";
  if (point <= -4 || point > 16) return sign + scientific(digits, point - 1);
  return sign + withPoint(digits, point, true);
}

/**
 * The shortest digits that read back as `value` (as Python's `repr` and
 * JavaScript's `String` both pick), and where the decimal point goes: the
 * value is `0.DIGITS × 10^point`.
 */
export function shortestDigits(value: number): { digits: string; point: number } {
  const [mantissa, exponent] = Math.abs(value).toExponential().split("e");
  return { digits: mantissa.replace(".", ""), point: Number(exponent) + 1 };
}

/** `d.ddd` and Python's exponent (`e+05`, at least two digits). */
export function scientific(digits: string, exponent: number, upper = false): string {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const sign = exponent < 0 ? "-" : "+";
  return `${mantissa}${upper ? "E" : "e"}${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

/** The digits with the point placed, padded with zeros; `.0` added to a whole number if asked. */
export function withPoint(digits: string, point: number, dotZero = false): string {
  let text: string;
  if (point <= 0) text = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + "0".repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return dotZero && !text.includes(".") ? `${text}.0` : text;
}

/**
 * Python's `repr` of a string, quoted as Python quotes it, for messages.
 *
 * @param text The string.
 * @returns The quoted string.
 */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === "\\") out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return quote + out + quote;
}

/**
 * Python's `TYPE(value)` for a property's `specs.type`.
 *
 * @param type The type's name.
 * @param value The value.
 * @returns The converted value.
 * @throws {PyValueError} When it does not convert.
 *
 * @example
 * ```ts
 * import { convert } from "./python_value.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(convert("float", "1"), 1);
 * assert.equal(convert("int", "1"), 1n);
 * assert.equal(convert("str", 2.5), "2.5");
 * ```
 */
export function convert(type: PyType, value: PyValue): PyValue {
  if (type === "int") return toPyInt(value);
  if (type === "float") return toPyFloat(value);
  return pyStr(value);
}

/**
 * Python's `a < b` for two values of one type (str, int or float).
 *
 * @param a The first value.
 * @param b The second value.
 * @returns Whether `a` is less than `b`.
 */
export function lessThan(a: PyValue, b: PyValue): boolean {
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b) < 0;
  return a < b;
}

/**
 * Python's `a == b` for two values of one type.
 *
 * @param a The first value.
 * @param b The second value.
 * @returns Whether they are equal.
 */
export function equal(a: PyValue, b: PyValue): boolean {
  return a === b || (typeof a !== "string" && typeof b !== "string" && a == b);
}

// Python compares strings by code point, JavaScript by UTF-16 unit: they differ past U+FFFF.
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}
