/**
 * The process's limit on open files, where the system tells it.
 *
 * @module
 */

import * as fs from "node:fs";

/**
 * The soft limit on open files (`ulimit -n`) of this process, read from
 * `/proc/self/limits` (Linux).
 *
 * @returns The limit, or `undefined` where it cannot be read or is unlimited.
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
  try {
    const limits = fs.readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}
