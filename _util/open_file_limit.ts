/**
 * The process's limit on open files, where the system tells it.
 *
 * @module
 */

import * as fs from "node:fs";

const LIMITS_FILE = "/proc/self/limits";

// Deno's permission API, where it runs: read access is asked about before
// reading, so that a server run with --allow-net alone neither prompts nor warns.
interface DenoPermissions {
  permissions: { querySync(descriptor: { name: "read"; path: string }): { state: string } };
}

/**
 * The soft limit on open files (`ulimit -n`) of this process, read from
 * `/proc/self/limits` (Linux). On Deno it is read only when read access to
 * that file is already granted: it is never asked for.
 *
 * @returns The limit, or `undefined` where it cannot be read, may not be read, or is unlimited.
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./open_file_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const limit = openFileLimit();
 * assert.ok(limit === undefined || limit > 0);
 * ```
 */
export function openFileLimit(): number | undefined {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (deno?.permissions.querySync({ name: "read", path: LIMITS_FILE }).state === "prompt") {
    return undefined;
  }
  try {
    const limits = fs.readFileSync(LIMITS_FILE, "utf8");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}
