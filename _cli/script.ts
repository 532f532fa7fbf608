/**
 * Whether a module is the script that was run, on every runtime.
 *
 * @module
 */

import { realpathSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";

/**
 * Whether the module of `meta` is the script the runtime was started with:
 * `import.meta.main` where the runtime has it (Deno, Bun, Node from 22.18
 * and 24.2), else whether the module is the file named by `argv1`, with links
 * resolved as Node resolves the main module's (an npm `bin` is a link).
 *
 * @param meta The module's `import.meta`.
 * @param argv1 The script the process runs (`process.argv[1]`).
 * @returns `true` for the main module.
 *
 * @example
 * ```ts
 * import { isMain } from "./script.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isMain({ url: "file:///a.ts", main: false }), false);
 * assert.equal(isMain({ url: import.meta.url }, "/no/such/script.ts"), false);
 * ```
 */
export function isMain(
  meta: { url: string; main?: boolean },
  argv1: string | undefined = process.argv[1],
): boolean {
  if (typeof meta.main === "boolean") return meta.main;
  if (argv1 === undefined) return false;
  try {
    return meta.url === pathToFileURL(realpathSync(argv1)).href;
  } catch {
    return false; // not a file: not the script run
  }
}
