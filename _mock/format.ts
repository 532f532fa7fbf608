/**
 * Python's `str.format` for the mock's answers: a getter's `r` such as
 * `{:.2f}` or `{:+.8E}` formats the property's value as pyvisa-sim formats it,
 * with Python's format-spec mini-language (fill, align, sign, `z`, `#`, `0`,
 * width, grouping, precision, type) and its rounding (half to even, on the
 * exact binary value).
 *
 * @module
 */

import { pyStr, PyValueError, scientific, shortestDigits, withPoint } from "./python_value.ts";
import type { PyValue } from "./python_value.ts";

/** A piece of a format string: literal text, or a field to fill. */
export type FormatPiece =
  | { literal: string }
  | { field: string; conversion: string | undefined; spec: string };

/**
 * Splits a format string as Python's `string.Formatter().parse` does: `{{` and
 * `}}` are literal braces; a field is `{name!conversion:spec}`.
 *
 * @param template The format string.
 * @returns Its pieces, in order.
 * @throws {PyValueError} On a lone `{` or `}`, or a nested field in a spec.
 *
 * @example
 * ```ts
 * import { parseFormat } from "./format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseFormat("V={:.2f}{{"), [
 *   { literal: "V=" },
 *   { field: "", conversion: undefined, spec: ".2f" },
 *   { literal: "{" },
 * ]);
 * ```
 */
export function parseFormat(template: string): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    const char = template[i];
    if (char === "}") {
      if (template[i + 1] !== "}") {
        throw new PyValueError("Single '}' encountered in format string");
      }
      literal += "}";
      i += 2;
      continue;
    }
    if (char !== "{") {
      literal += char;
      i++;
      continue;
    }
    if (template[i + 1] === "{") {
      literal += "{";
      i += 2;
      continue;
    }
    const end = template.indexOf("}", i + 1);
    if (end < 0) throw new PyValueError("Single '{' encountered in format string");
    const body = template.slice(i + 1, end);
    if (body.includes("{")) {
      throw new PyValueError("nested fields in a format spec are not supported by the mock");
    }
    if (literal !== "") pieces.push({ literal });
    literal = "";
    const colon = body.indexOf(":");
    const head = colon < 0 ? body : body.slice(0, colon);
    const spec = colon < 0 ? "" : body.slice(colon + 1);
    const bang = head.indexOf("!");
    const field = bang < 0 ? head : head.slice(0, bang);
    const conversion = bang < 0 ? undefined : head.slice(bang + 1);
    pieces.push({ field, conversion, spec });
    i = end + 1;
  }
  if (literal !== "") pieces.push({ literal });
  return pieces;
}

/**
 * Python's `template.format(*args)` for positional fields (`{}`, `{0}`), the
 * `!s` conversion and any format spec.
 *
 * @param template The format string.
 * @param args The positional arguments.
 * @returns The formatted text.
 * @throws {PyValueError} Where Python would raise (a spec that does not fit
 *   the value, a missing argument, a named field).
 *
 * @example
 * ```ts
 * import { formatString } from "./format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatString("{:.2f}", [100]), "100.00");
 * assert.equal(formatString("{:+.8E}", [1]), "+1.00000000E+00");
 * assert.equal(formatString("{:d}", [5n]), "5");
 * assert.throws(() => formatString("{:d}", ["0"]), /Unknown format code 'd' for object of type 'str'/);
 * ```
 */
export function formatString(
  template: string,
  args: readonly PyValue[],
  named: Readonly<Record<string, PyValue>> = {},
): string {
  let auto = 0;
  let numbering: "auto" | "manual" | undefined;
  let out = "";
  for (const piece of parseFormat(template)) {
    if ("literal" in piece) {
      out += piece.literal;
      continue;
    }
    let index: number;
    if (Object.hasOwn(named, piece.field)) {
      out += formatField(named[piece.field], piece.conversion, piece.spec);
      continue;
    } else if (piece.field === "") {
      if (numbering === "manual") {
        throw new PyValueError(
          "cannot switch from manual field specification to automatic field numbering",
        );
      }
      numbering = "auto";
      index = auto++;
    } else if (/^\d+$/.test(piece.field)) {
      if (numbering === "auto") {
        throw new PyValueError(
          "cannot switch from automatic field numbering to manual field specification",
        );
      }
      numbering = "manual";
      index = Number(piece.field);
    } else {
      throw new PyValueError(`field {${piece.field}} names no positional argument (KeyError)`);
    }
    if (index >= args.length) {
      throw new PyValueError(`Replacement index ${index} out of range for positional args tuple`);
    }
    out += formatField(args[index], piece.conversion, piece.spec);
  }
  return out;
}

function formatField(value: PyValue, conversion: string | undefined, spec: string): string {
  if (conversion === undefined) return formatValue(value, spec);
  if (conversion === "s") return formatValue(pyStr(value), spec);
  throw new PyValueError(`conversion !${conversion} is not supported by the mock`);
}

interface Spec {
  fill: string;
  align: string | undefined;
  sign: string | undefined;
  z: boolean;
  alternate: boolean;
  zero: boolean;
  width: number;
  grouping: string | undefined;
  precision: number | undefined;
  type: string | undefined;
}

const SPEC =
  /^(?:([\s\S])?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/u;

function parseSpec(text: string): Spec {
  const match = SPEC.exec(text);
  if (match === null) throw new PyValueError("Invalid format specifier");
  const [, fill, align, sign, z, alternate, zero, width, grouping, precision, type] = match;
  return {
    fill: fill ?? " ",
    align,
    sign,
    z: z !== undefined,
    alternate: alternate !== undefined,
    zero: zero !== undefined,
    width: width === undefined ? 0 : Number(width),
    grouping,
    precision: precision === undefined ? undefined : Number(precision),
    type,
  };
}

function typeName(value: PyValue): string {
  return typeof value === "string" ? "str" : typeof value === "bigint" ? "int" : "float";
}

/**
 * Python's `format(value, spec)`.
 *
 * @param value The value.
 * @param specText The format spec, such as `.2f` or `>8s`.
 * @returns The formatted text.
 * @throws {PyValueError} Where Python would raise.
 *
 * @example
 * ```ts
 * import { formatValue } from "./format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatValue(0.125, ".2f"), "0.12"); // half to even, as Python rounds
 * assert.equal(formatValue(1234567n, ","), "1,234,567");
 * assert.equal(formatValue("P6V", ">5"), "  P6V");
 * ```
 */
export function formatValue(value: PyValue, specText: string): string {
  const spec = parseSpec(specText);
  const type = spec.type;
  if (typeof value === "string") {
    if (type !== undefined && type !== "s") throw unknownCode(type, value);
    return formatText(value, spec);
  }
  if (typeof value === "bigint") {
    if (type === undefined || "bcdnoxX".includes(type)) return formatInteger(value, spec);
    if (!"eEfFgG%".includes(type)) throw unknownCode(type, value);
    return formatFloat(Number(value), spec);
  }
  if (type !== undefined && !"eEfFgGn%".includes(type)) throw unknownCode(type, value);
  return formatFloat(value, spec);
}

function unknownCode(type: string, value: PyValue): PyValueError {
  return new PyValueError(`Unknown format code '${type}' for object of type '${typeName(value)}'`);
}

function formatText(value: string, spec: Spec): string {
  if (spec.sign !== undefined) {
    throw new PyValueError("Sign not allowed in string format specifier");
  }
  if (spec.alternate) {
    throw new PyValueError("Alternate form (#) not allowed in string format specifier");
  }
  if (spec.z) throw new PyValueError("Negative zero coercion (z) not allowed in format specifier");
  if (spec.grouping !== undefined) {
    throw new PyValueError(`Cannot specify '${spec.grouping}' with 's'.`);
  }
  if (spec.align === "=") {
    throw new PyValueError("'=' alignment not allowed in string format specifier");
  }
  const text = spec.precision === undefined ? value : [...value].slice(0, spec.precision).join("");
  const fill = spec.zero && spec.align === undefined ? "0" : spec.fill;
  return pad("", text, spec.width, fill, spec.align ?? "<");
}

function formatInteger(value: bigint, spec: Spec): string {
  const type = spec.type ?? "d";
  if (spec.precision !== undefined) {
    throw new PyValueError("Precision not allowed in integer format specifier");
  }
  if (spec.z) {
    throw new PyValueError("Negative zero coercion (z) not allowed in integer format specifier");
  }
  if (type === "c") {
    if (spec.sign !== undefined) {
      throw new PyValueError("Sign not allowed with integer format specifier 'c'");
    }
    if (value < 0n || value > 0x10ffffn) throw new PyValueError("%c arg not in range(0x110000)");
    return pad("", String.fromCodePoint(Number(value)), spec.width, spec.fill, spec.align ?? "<");
  }
  if (spec.grouping === "," && type !== "d") {
    throw new PyValueError(`Cannot specify ',' with '${type}'.`);
  }
  if (spec.grouping !== undefined && type === "n") {
    throw new PyValueError(`Cannot specify '${spec.grouping}' with 'n'.`);
  }
  const radix = { b: 2, o: 8, x: 16, X: 16 }[type as "b"] ?? 10;
  let digits = (value < 0n ? -value : value).toString(radix);
  if (type === "X") digits = digits.toUpperCase();
  const prefix = spec.alternate && radix !== 10 ? `0${type}` : "";
  return finishNumber(value < 0n, prefix, digits, "", spec, radix === 10 ? 3 : 4);
}

function formatFloat(value: number, spec: Spec): string {
  let type = spec.type;
  if (spec.grouping !== undefined && type === "n") {
    throw new PyValueError(`Cannot specify '${spec.grouping}' with 'n'.`);
  }
  let negative = value < 0 || Object.is(value, -0);
  let magnitude = Math.abs(value);
  let suffix = "";
  if (type === "%") {
    magnitude *= 100;
    suffix = "%";
    type = "f";
  }
  const upper = type === "E" || type === "F" || type === "G";
  let body: string;
  if (!Number.isFinite(magnitude)) {
    body = Number.isNaN(magnitude) ? "nan" : "inf";
    if (Number.isNaN(value)) negative = false;
  } else {
    body = floatBody(magnitude, type, spec.precision, spec.alternate);
  }
  if (upper) body = body.toUpperCase();
  if (spec.z && negative && /^[0.]*$/.test(body.replace(/e.*$/i, ""))) negative = false;
  const point = body.search(/[.eE]|inf|nan|INF|NAN/);
  const integer = point < 0 ? body : body.slice(0, point);
  const rest = point < 0 ? "" : body.slice(point);
  return finishNumber(negative, "", integer, rest + suffix, spec, 3);
}

// The digits of a non-negative finite float, as Python writes them for the type.
function floatBody(
  value: number,
  type: string | undefined,
  precision: number | undefined,
  alternate: boolean,
): string {
  const dot = (text: string) => (alternate && !text.includes(".") ? `${text}.` : text);
  switch (type) {
    case "f":
    case "F":
      return dot(fixed(value, precision ?? 6));
    case "e":
    case "E": {
      const { digits, exponent } = significant(value, (precision ?? 6) + 1);
      return scientificWithDot(digits, exponent, alternate);
    }
    case "g":
    case "G":
    case "n":
      return general(value, precision ?? 6, alternate, false);
    default:
      if (precision !== undefined) return general(value, precision, alternate, true);
      return dot(shortest(value));
  }
}

function scientificWithDot(digits: string, exponent: number, alternate: boolean): string {
  const text = scientific(digits, exponent);
  return alternate && digits.length === 1 ? text.replace("e", ".e") : text;
}

// Python's repr digits without the sign, for the type-less spec.
function shortest(value: number): string {
  if (value === 0) return "0.0";
  const { digits, point } = shortestDigits(value);
  if (point <= -4 || point > 16) return scientific(digits, point - 1);
  return withPoint(digits, point, true);
}

// 'g', and the type-less spec with a precision (which keeps at least one decimal).
function general(value: number, precision: number, alternate: boolean, dotZero: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (value === 0) {
    const zeros = alternate ? `0.${"0".repeat(p - 1)}` : dotZero ? "0.0" : "0";
    return zeros;
  }
  const { digits, exponent } = significant(value, p);
  const point = exponent + 1;
  const limit = dotZero ? p - 1 : p;
  if (point <= -4 || point > limit) {
    const kept = alternate ? digits : digits.replace(/0+$/, "") || "0";
    return scientificWithDot(kept, exponent, alternate);
  }
  let text = withPoint(digits, point);
  if (!alternate && text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  if (alternate && !text.includes(".")) text += ".";
  return dotZero && !text.includes(".") ? `${text}.0` : text;
}

/** A finite float as the exact fraction `numerator / denominator` (both BigInt). */
function exactFraction(value: number): { numerator: bigint; denominator: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  return exponent >= 0
    ? { numerator: mantissa << BigInt(exponent), denominator: 1n }
    : { numerator: mantissa, denominator: 1n << BigInt(-exponent) };
}

function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

/** `value` with `precision` decimals, rounded half to even on its exact value. */
function fixed(value: number, precision: number): string {
  const { numerator, denominator } = exactFraction(value);
  const scaled = divideHalfEven(numerator * 10n ** BigInt(precision), denominator);
  const digits = scaled.toString().padStart(precision + 1, "0");
  if (precision === 0) return digits;
  return `${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
}

/** `count` significant digits of a positive `value`, rounded half to even, and its exponent. */
function significant(value: number, count: number): { digits: string; exponent: number } {
  if (value === 0) return { digits: "0".repeat(count), exponent: 0 };
  const { numerator, denominator } = exactFraction(value);
  let exponent = Math.floor(Math.log10(value));
  for (;;) {
    const shift = count - 1 - exponent;
    const rounded = shift >= 0
      ? divideHalfEven(numerator * 10n ** BigInt(shift), denominator)
      : divideHalfEven(numerator, denominator * 10n ** BigInt(-shift));
    const digits = rounded.toString();
    if (digits.length > count) exponent++;
    else if (digits.length < count) exponent--;
    else return { digits, exponent };
  }
}

// Sign, prefix, grouping and padding, as Python lays out a number.
function finishNumber(
  negative: boolean,
  prefix: string,
  integer: string,
  rest: string,
  spec: Spec,
  groupSize: number,
): string {
  const sign = negative ? "-" : spec.sign === "+" ? "+" : spec.sign === " " ? " " : "";
  const zeroPad = spec.zero && spec.align === undefined;
  const align = spec.align ?? (zeroPad ? "=" : ">");
  const fill = zeroPad ? "0" : spec.fill;
  const separator = spec.grouping;
  let digits = integer;
  if (separator !== undefined && /^[0-9a-fA-F]+$/.test(integer)) {
    digits = group(integer, separator, groupSize);
    if (align === "=" && fill === "0") {
      const room = spec.width - sign.length - prefix.length - rest.length;
      let padded = integer;
      while (digits.length < room) {
        padded = `0${padded}`;
        digits = group(padded, separator, groupSize);
      }
    }
  }
  return pad(sign + prefix, digits + rest, spec.width, fill, align);
}

function group(digits: string, separator: string, size: number): string {
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= size) {
    groups.unshift(digits.slice(Math.max(0, end - size), end));
  }
  return groups.join(separator);
}

function pad(head: string, body: string, width: number, fill: string, align: string): string {
  const length = [...head].length + [...body].length;
  const missing = Math.max(0, width - length);
  if (align === "=") return head + fill.repeat(missing) + body;
  if (align === "<") return head + body + fill.repeat(missing);
  if (align === "^") {
    const left = Math.floor(missing / 2);
    return fill.repeat(left) + head + body + fill.repeat(missing - left);
  }
  return fill.repeat(missing) + head + body;
}
