/**
 * Running a TypeScript file in a child process of the same runtime.
 *
 * @module
 */

/**
 * The arguments that make this runtime's executable (`process.execPath`) run
 * `script`: `deno run -A script …` on Deno, `bun run script …` on Bun.
 *
 * @param script Path of the script.
 * @param args Its arguments.
 * @returns The arguments for `spawn(process.execPath, …)`.
 */
export function scriptArgs(script: string, args: string[] = []): string[] {
  return "Deno" in globalThis ? ["run", "-A", script, ...args] : ["run", script, ...args];
}
