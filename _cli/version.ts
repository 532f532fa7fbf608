/**
 * The package's version, for `--version`: read from `deno.json`, the one
 * place it is written, as a JSON module (which Deno, Bun and Node import
 * alike, and which a bundle inlines).
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/**
 * The version in `deno.json`.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = denoJson.version;
