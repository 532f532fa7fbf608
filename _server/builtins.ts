/**
 * The built-in commands, in one table: what each is called, what it does,
 * and whether it can be turned off. The session consults only this table, so
 * adding a built-in is one entry here (and its tests).
 *
 * @module
 */

const encoder = new TextEncoder();

/** How a session that a built-in ends ends. */
export type BuiltinEnd = "disconnect" | "shutdown";

/** A command the server answers itself. */
export interface Builtin {
  /** The command, exactly (compared byte for byte, after the CR is dropped). */
  readonly name: string;
  /** The command's bytes. */
  readonly bytes: Uint8Array;
  /** The answer, when it answers and the session goes on. */
  readonly reply: string | undefined;
  /** The answer's bytes, without the response terminator (the server's `writeTerminator`). */
  readonly replyBytes: Uint8Array | undefined;
  /** How the session ends, when it ends the session (after the earlier answers). */
  readonly end: BuiltinEnd | undefined;
  /** Whether `ServeOptions.builtins` can turn it off (the line then goes to the handler). */
  readonly optional: boolean;
}

function builtin(
  name: string,
  does: { reply: string } | { end: BuiltinEnd },
  optional: boolean,
): Builtin {
  return {
    name,
    bytes: encoder.encode(name),
    reply: "reply" in does ? does.reply : undefined,
    replyBytes: "reply" in does ? encoder.encode(does.reply) : undefined,
    end: "end" in does ? does.end : undefined,
    optional,
  };
}

/**
 * Every built-in. The first is answered on the session's hot path, with a
 * reply made once: it must be one that cannot be turned off.
 *
 * @example
 * ```ts
 * import { BUILTINS } from "./builtins.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(BUILTINS.map((b) => b.name), ["ping", "disconnect", "shutdown"]);
 * assert.deepEqual(BUILTINS.filter((b) => b.optional).map((b) => b.name), ["disconnect", "shutdown"]);
 * ```
 */
export const BUILTINS: readonly Builtin[] = [
  builtin("ping", { reply: "pong" }, false),
  builtin("disconnect", { end: "disconnect" }, true),
  builtin("shutdown", { end: "shutdown" }, true),
];

/**
 * Whether bytes[start, end) is exactly this built-in's command.
 *
 * @param builtin The built-in.
 * @param bytes The line's source.
 * @param start Where the line starts.
 * @param end Where it ends (LF and dropped CR excluded).
 * @returns `true` on an exact match.
 */
export function isBuiltin(
  builtin: Builtin,
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  const name = builtin.bytes;
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return false;
  return true;
}

/**
 * The built-in among `builtins` that bytes[start, end) names.
 *
 * @param builtins The built-ins in force.
 * @param bytes The line's source.
 * @param start Where the line starts.
 * @param end Where it ends.
 * @returns The built-in, or `undefined` for any other line.
 *
 * @example
 * ```ts
 * import { BUILTINS, findBuiltin } from "./builtins.ts";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("xshutdown");
 * assert.equal(findBuiltin(BUILTINS, line, 1, 9)?.end, "shutdown");
 * assert.equal(findBuiltin(BUILTINS, line, 0, 9), undefined);
 * ```
 */
export function findBuiltin(
  builtins: readonly Builtin[],
  bytes: Uint8Array,
  start: number,
  end: number,
): Builtin | undefined {
  for (let b = 0; b < builtins.length; b++) {
    if (isBuiltin(builtins[b], bytes, start, end)) return builtins[b];
  }
  return undefined;
}
