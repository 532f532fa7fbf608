/**
 * The two directives pyvisa-sim reads inside queries and answers: `BYTES(…)`
 * for raw bytes, and `{RANDOM(min, max, n):FORMAT}` for random readings.
 *
 * @module
 */

import { formatString } from "./format.ts";
import { PyValueError, toPyFloat, toPyInt } from "./python_value.ts";

const encoder = new TextEncoder();

/**
 * Turns a query or answer of a definition into the bytes on the wire, as
 * pyvisa-sim does: the two-character texts `\r` and `\n` (a backslash and a
 * letter, as a single-quoted YAML string keeps them) become CR and LF; each
 * `BYTES(…)` with at least one character inside, and no `)`, becomes those
 * characters as bytes (each must be U+0000 to U+00FF, such as `\xaa` in a
 * double-quoted YAML string); a text that is a whole `BYTES(…)` may also hold
 * `)` or nothing; everything else is UTF-8.
 *
 * @param text The text from the definition.
 * @returns The bytes.
 * @throws {PyValueError} When a `BYTES(…)` holds a character past U+00FF.
 *
 * @example
 * ```ts
 * import { toBytes } from "./directives.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(toBytes("ab\x01BYTES(\xaa\x55)cd"), new Uint8Array([0x61, 0x62, 1, 0xaa, 0x55, 0x63, 0x64]));
 * assert.deepEqual(toBytes("BYTES())"), new Uint8Array([0x29]));
 * assert.deepEqual(toBytes("a\\nb"), new Uint8Array([0x61, 0x0a, 0x62]));
 * ```
 */
export function toBytes(text: string): Uint8Array {
  const replaced = text.replaceAll("\\r", "\r").replaceAll("\\n", "\n");
  const parts = replaced.split(/(BYTES\([^)]+\))/).map((part) => {
    const match = /^BYTES\(([\s\S]*)\)$/.exec(part);
    return match === null ? encoder.encode(part) : latin1(match[1]);
  });
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      throw new PyValueError(
        `BYTES(…) holds ${JSON.stringify(text[i])} (U+${
          code.toString(16).toUpperCase().padStart(4, "0")
        }); only characters U+0000 to U+00FF are bytes`,
      );
    }
    bytes[i] = code;
  }
  return bytes;
}

// As pyvisa-sim finds a directive: an unescaped "." matches any character but LF.
const NUMBER = String.raw`\d*[^\n]\d*`;
const DIRECTIVE = new RegExp(String.raw`\{RANDOM\((${NUMBER}), (${NUMBER}), (\d*)\)[^\n]*\}`);
const CALL = new RegExp(String.raw`RANDOM\(${NUMBER}, ${NUMBER}, \d*\)`, "g");

/**
 * Whether an answer goes through {@linkcode randomAnswer}: pyvisa-sim does
 * so with every answer that contains the word `RANDOM`.
 *
 * @param text The answer's text.
 * @returns `true` when it contains `RANDOM`.
 */
export function hasRandom(text: string): boolean {
  return text.includes("RANDOM");
}

/**
 * Builds an answer with random readings, as pyvisa-sim does: in
 * `{RANDOM(min, max, n):FORMAT}` (exactly so spaced), the directive is taken
 * out and the whole answer formatted once per reading, a float drawn
 * uniformly from min to max; the `n` results are joined by `, `.
 *
 * @param text The answer, such as `{RANDOM(0, 10.5, 3):.2f}`.
 * @param random A source of numbers in [0, 1), such as `Math.random`.
 * @returns The answer.
 * @throws {PyValueError} On a malformed directive (pyvisa-sim raises then).
 *
 * @example
 * ```ts
 * import { randomAnswer } from "./directives.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(randomAnswer("{RANDOM(0, 10, 3):.2f}", () => 0.5), "5.00, 5.00, 5.00");
 * assert.throws(() => randomAnswer("{RANDOM(0, 10):.2f}", Math.random), /Wrong RANDOM directive/);
 * ```
 */
export function randomAnswer(text: string, random: () => number): string {
  const directive = DIRECTIVE.exec(text);
  if (directive === null) {
    throw new PyValueError("Wrong RANDOM directive, see documentation for correct usage.");
  }
  const template = text.replace(CALL, "");
  const low = toPyFloat(directive[1]);
  const high = toPyFloat(directive[2]);
  const count = toPyInt(directive[3]);
  const results: string[] = [];
  for (let i = 0n; i < count; i++) {
    results.push(formatString(template, [low + (high - low) * random()]));
  }
  return results.join(", ");
}
