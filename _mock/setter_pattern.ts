/**
 * A setter's `q` read backwards: `!FREQ {:.2f}` matches `!FREQ 10.30` and
 * gives the value `10.3`, by the rules pyvisa-sim's parser (the `stringparser`
 * library) applies, quirks included: `{:.2f}` wants at least two digits, so
 * `!FREQ 5` does not match it while `!FREQ 5.0` does; width and precision are
 * not checked.
 *
 * @module
 */

import { parseFormat } from "./format.ts";
import { PyValueError, toPyFloat, toPyInt } from "./python_value.ts";
import type { PyValue } from "./python_value.ts";

/** The values a setter's query gave: the value and, in a channel, the channel's id. */
export interface SetterMatch {
  /** The value, converted as its field's type says (`d` → int, `f` → float, else str). */
  value: PyValue;
  /** The `{ch_id}` field's text, when the pattern has one. */
  channel: string | undefined;
}

interface Field {
  name: "value" | "ch_id";
  convert: (text: string) => PyValue;
}

/** A compiled setter pattern. */
export interface SetterPattern {
  /** Matches a query, or `undefined` when it does not match. */
  match(query: string): SetterMatch | undefined;
  /** Whether the pattern has a `{ch_id}` field. */
  readonly hasChannel: boolean;
}

const FLOAT_DIGITS = String.raw`[0-9]+\.?[0-9]+`;
// Each type's pattern and converter, as stringparser has them.
const TYPES: Record<string, [string, (text: string) => PyValue]> = {
  s: ["[^\\n]*?", (text) => text],
  d: ["[0-9]+?", (text) => toPyInt(text)],
  b: ["[0-1]+?", (text) => radixInt(text, 2)],
  o: ["[0-7]+?", (text) => radixInt(text, 8)],
  x: ["[0-9a-f]+?", (text) => radixInt(text, 16)],
  X: ["[0-9A-F]+?", (text) => radixInt(text, 16)],
  e: [`${FLOAT_DIGITS}(?:e[-+]?[0-9]+)?`, toPyFloat],
  E: [`${FLOAT_DIGITS}(?:E[-+]?[0-9]+)?`, toPyFloat],
  f: [FLOAT_DIGITS, toPyFloat],
  F: [FLOAT_DIGITS, toPyFloat],
  g: [`${FLOAT_DIGITS}(?:[eE][-+]?[0-9]+)?`, toPyFloat],
  G: [`${FLOAT_DIGITS}(?:[eE][-+]?[0-9]+)?`, toPyFloat],
  "%": [`${FLOAT_DIGITS}%`, (text) => toPyFloat(text.slice(0, -1)) / 100],
};

// The parts of a spec that stringparser reads (it searches, so trailing junk is ignored).
const SPEC = /^(?:[^{}]?[<>=^])?([-+ ])?(#)?0?(?:[0-9]+)?,?(?:\.[0-9]+)?([bcdeEfFgGnosxX%]+)?/;

function radixInt(text: string, radix: number): bigint {
  const negative = text.startsWith("-");
  const digits = text.replace(/^[-+]/, "").replace(/^0[bBoOxX]/, "");
  const value = [...digits].reduce(
    (sum, digit) => sum * BigInt(radix) + BigInt(parseInt(digit, radix)),
    0n,
  );
  return negative ? -value : value;
}

function fieldPattern(spec: string): [string, (text: string) => PyValue] {
  const [, sign, alternate, type] = SPEC.exec(spec)!;
  const entry = TYPES[type ?? "s"];
  if (entry === undefined) throw new PyValueError(`${type} is not a valid type`);
  let [pattern] = entry;
  if (alternate !== undefined) {
    if (!"oxXb".includes(type ?? "s") || type === undefined) {
      throw new PyValueError(`Alternate form (#) not allowed in ${type ?? "s"} type`);
    }
    pattern = `0${type}${pattern}`;
  }
  const signPattern = sign === "+" ? "[-+]" : sign === " " ? "[- ]" : "[-]?";
  return [signPattern + pattern, entry[1]];
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * Compiles a setter's query pattern.
 *
 * @param template The setter's `q`, such as `!FREQ {:.2f}` or `CH {ch_id}:VOLT {:.3f}`.
 * @param allowChannel Whether a `{ch_id}` field may appear (in a channel's setter).
 * @returns The pattern.
 * @throws {PyValueError} When the template is not one value field (plus
 *   `{ch_id}` where allowed) and literal text, or a field's spec has a type
 *   the parser does not know (as pyvisa-sim fails to load such a file).
 *
 * @example
 * ```ts
 * import { compileSetter } from "./setter_pattern.ts";
 * import assert from "node:assert/strict";
 *
 * const setter = compileSetter("!FREQ {:.2f}", false);
 * assert.deepEqual(setter.match("!FREQ 10.3"), { value: 10.3, channel: undefined });
 * assert.equal(setter.match("!FREQ 5"), undefined); // {:.2f} wants two digits or more
 * const channel = compileSetter("CH {ch_id}:OUTP {:d}", true);
 * assert.deepEqual(channel.match("CH 2:OUTP 1"), { value: 1n, channel: "2" });
 * ```
 */
export function compileSetter(template: string, allowChannel: boolean): SetterPattern {
  let source = "";
  const fields: Field[] = [];
  for (const piece of parseFormat(template)) {
    if ("literal" in piece) {
      source += escapeRegExp(piece.literal);
      continue;
    }
    const [pattern, convert] = fieldPattern(piece.spec);
    if (piece.field === "_") {
      source += `(?:${pattern})`;
      continue;
    }
    const name = piece.field === "" || piece.field === "0" ? "value" : piece.field;
    if (name !== "value" && !(name === "ch_id" && allowChannel)) {
      throw new PyValueError(
        `field {${piece.field}}: a setter's q has one value field ({} or {:FORMAT})` +
          (allowChannel ? " and may have {ch_id}" : ""),
      );
    }
    if (fields.some((field) => field.name === name)) {
      throw new PyValueError(
        `a setter's q has one ${name === "value" ? "value" : "{ch_id}"} field`,
      );
    }
    source += `(${pattern})`;
    fields.push({ name, convert });
  }
  if (!fields.some((field) => field.name === "value")) {
    throw new PyValueError("a setter's q needs a value field ({} or {:FORMAT})");
  }
  // Python's `$` also matches before a final LF.
  const regex = new RegExp(`^${source}(?=\\n?$)`);
  return {
    hasChannel: fields.some((field) => field.name === "ch_id"),
    match(query) {
      const match = regex.exec(query);
      if (match === null) return undefined;
      const result: SetterMatch = { value: "", channel: undefined };
      fields.forEach((field, i) => {
        const value = field.convert(match[i + 1]);
        if (field.name === "value") result.value = value;
        else result.channel = String(value);
      });
      return result;
    },
  };
}
