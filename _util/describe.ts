/**
 * Any value as text, for a log message.
 *
 * @module
 */

/**
 * Any value, a thrown one included, as text: a Symbol or an object without a
 * prototype has no string form a template literal could use.
 *
 * @param value The value.
 * @returns Its text.
 *
 * @example Usage
 * ```ts
 * import { describe } from "./describe.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describe(new Error("boom")), "Error: boom");
 * assert.equal(describe(Object.create(null)), "[object Object]");
 * ```
 */
export function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
