/**
 * Running a TypeScript file as a script, on Deno, Bun and Node: in a child
 * process of the same runtime, and knowing whether a module is the one run.
 *
 * @module
 */

import process from "node:process";

export { isMain } from "../_cli/script.ts";

// Node strips TypeScript types by default from 22.18 and 23.6 on; before, only with the flag,
// which also warns on stderr at every start.
function nodeTypeStripping(): string[] {
  const [major, minor] = process.versions.node.split(".").map(Number);
  const byDefault = major > 23 || (major === 23 ? minor >= 6 : major === 22 && minor >= 18);
  return byDefault ? [] : ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"];
}

/**
 * The arguments that make this runtime's executable (`process.execPath`) run
 * `script`: `deno run -A script …` on Deno, `bun run script …` on Bun, and
 * `node script …` on Node (with `--experimental-strip-types` before 22.18).
 *
 * @param script Path of the script.
 * @param args Its arguments.
 * @returns The arguments for `spawn(process.execPath, …)`.
 *
 * @example
 * ```ts
 * import { scriptArgs } from "./script.ts";
 * import assert from "node:assert/strict";
 *
 * if ("Deno" in globalThis) assert.deepEqual(scriptArgs("a.ts", ["x"]), ["run", "-A", "a.ts", "x"]);
 * ```
 */
export function scriptArgs(script: string, args: string[] = []): string[] {
  if ("Deno" in globalThis) return ["run", "-A", script, ...args];
  if ("Bun" in globalThis) return ["run", script, ...args];
  return [...nodeTypeStripping(), script, ...args];
}
