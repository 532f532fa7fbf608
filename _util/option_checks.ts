/**
 * Checks of the options the server and the client share, so that both fail
 * the same way on the same mistake, with the same words.
 *
 * @module
 */

/**
 * Shows a wrong value in an error message: a number as it is, a string
 * quoted (so that `"5001"` cannot pass for `5001`), anything else by its type.
 *
 * @param value The value.
 * @returns The value's description.
 *
 * @example Usage
 * ```ts
 * import { describeValue } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeValue(5001), "5001");
 * assert.equal(describeValue("5001"), '"5001" (a string)');
 * assert.equal(describeValue(null), "null");
 * assert.equal(describeValue([]), "an array");
 * assert.equal(describeValue({}), "an object");
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `${JSON.stringify(value)} (a string)`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return `${type === "object" ? "an" : "a"} ${type}`;
}

/**
 * Checks that every key of an options object is a known option, so that a
 * misspelt option fails instead of being ignored. The message suggests the
 * known option nearest to the unknown one, when one is near.
 *
 * @param options The options object.
 * @param known The known options, as keys (a `Record<keyof Options, true>`,
 *   so that the list cannot drift from the type).
 * @param name How to name the object in the error, such as `options`.
 * @throws {TypeError} On the first unknown key.
 *
 * @example Usage
 * ```ts
 * import { checkKnownKeys } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * const known = { hostname: true, port: true };
 * assert.throws(() => checkKnownKeys({ prot: 1 }, known, "options"), {
 *   name: "TypeError",
 *   message: "options.prot is not an option (did you mean port?)",
 * });
 * ```
 */
export function checkKnownKeys(
  options: object,
  known: Readonly<Record<string, unknown>>,
  name: string,
): void {
  // for...in and hasOwn allocate nothing: this runs on every request's options too.
  for (const key in options) {
    if (!Object.hasOwn(options, key) || Object.hasOwn(known, key)) continue;
    const nearest = nearestKey(key, Object.keys(known));
    const hint = nearest === undefined ? "" : ` (did you mean ${nearest}?)`;
    throw new TypeError(`${name}.${key} is not an option${hint}`);
  }
}

/**
 * The candidate closest to `key`, ignoring case, if it is within a third of
 * the key's length (at least one edit) of it; the first one on a tie. For the
 * "did you mean" of a misspelt option, flag, command or definition key.
 *
 * @param key What was written.
 * @param candidates What it may have meant.
 * @returns The nearest candidate, or `undefined` when none is near.
 *
 * @example Usage
 * ```ts
 * import { nearestKey } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nearestKey("sned", ["send", "repl", "serve"]), "send");
 * assert.equal(nearestKey("bogus", ["send", "repl", "serve"]), undefined);
 * ```
 */
export function nearestKey(key: string, candidates: readonly string[]): string | undefined {
  let nearest: string | undefined;
  let best = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < best) [nearest, best] = [candidate, distance];
  }
  return nearest;
}

// Edits (insertion, deletion, substitution, or swap of neighbours) that turn
// `a` into `b`: the optimal string alignment distance, so that `prot` is one
// edit from `port`.
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}

/**
 * Checks `hostname`, `port` and `path` of server or client options, and that
 * `path` (a Unix socket) does not come with a TCP option: `hostname`, `port`
 * or `tls`.
 *
 * @param options The options.
 * @param lowestPort `0` where any free port may be asked for (servers), `1` otherwise.
 * @throws {TypeError} When a value has the wrong type, or `path` comes with a TCP option.
 * @throws {RangeError} When the port is out of range.
 *
 * @example Usage
 * ```ts
 * import { checkEndpointOptions } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkEndpointOptions({ port: "5001" }, 1), {
 *   name: "TypeError",
 *   message: 'options.port must be an integer, got "5001" (a string)',
 * });
 * ```
 */
export function checkEndpointOptions(
  options: { hostname?: unknown; port?: unknown; path?: unknown; tls?: unknown },
  lowestPort: 0 | 1,
): void {
  if (options.hostname !== undefined && typeof options.hostname !== "string") {
    throw new TypeError(
      `options.hostname must be a string, got ${describeValue(options.hostname)}`,
    );
  }
  if (options.port !== undefined) {
    if (typeof options.port !== "number" || !Number.isInteger(options.port)) {
      throw new TypeError(`options.port must be an integer, got ${describeValue(options.port)}`);
    }
    if (options.port < lowestPort || options.port > 65535) {
      throw new RangeError(`options.port must be from ${lowestPort} to 65535, got ${options.port}`);
    }
  }
  if (options.path === undefined) return;
  if (typeof options.path !== "string" || options.path === "") {
    throw new TypeError(
      `options.path must be a non-empty string, got ${describeValue(options.path)}`,
    );
  }
  if (options.hostname !== undefined) throw pathCombinedWith("hostname");
  if (options.port !== undefined) throw pathCombinedWith("port");
  if (options.tls !== undefined) throw tlsOverUnixPath();
}

/**
 * Checks a duration in milliseconds: a positive number, finite unless
 * `Infinity` (wait forever) is allowed.
 *
 * @param value The value; `undefined` passes (not set).
 * @param name How to name it in the error.
 * @param allowInfinity Whether `Infinity` is allowed.
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not positive (or not finite, where that is required).
 */
export function checkMilliseconds(value: unknown, name: string, allowInfinity: boolean): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describeValue(value)}`);
  }
  if (value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    const kind = allowInfinity ? "positive" : "positive and finite";
    throw new RangeError(`${name} must be ${kind}, got ${value}`);
  }
}

/**
 * Checks a count: a positive integer.
 *
 * @param value The value; `undefined` passes (not set).
 * @param name How to name it in the error.
 * @throws {TypeError} When it is not an integer.
 * @throws {RangeError} When it is below 1.
 */
export function checkPositiveInteger(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describeValue(value)}`);
  }
  if (value < 1) throw new RangeError(`${name} must be at least 1, got ${value}`);
}

/**
 * Checks a flag: `true` or `false`.
 *
 * @param value The value; `undefined` passes (not set).
 * @param name How to name it in the error.
 * @throws {TypeError} When it is not a boolean.
 *
 * @example Usage
 * ```ts
 * import { checkBoolean } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkBoolean("yes", "options.verbose"), {
 *   name: "TypeError",
 *   message: 'options.verbose must be true or false, got "yes" (a string)',
 * });
 * ```
 */
export function checkBoolean(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${name} must be true or false, got ${describeValue(value)}`);
  }
}

/**
 * The error for TLS asked for over a Unix socket path, which every check of
 * that rule throws (the transports check it too, for direct callers).
 *
 * @returns The error, to throw.
 *
 * @example Usage
 * ```ts
 * import { tlsOverUnixPath } from "./option_checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   tlsOverUnixPath().message,
 *   "options.path cannot be combined with options.tls (TLS runs over TCP only)",
 * );
 * ```
 */
export function tlsOverUnixPath(): TypeError {
  return new TypeError("options.path cannot be combined with options.tls (TLS runs over TCP only)");
}

// The error for a TCP address option given with a Unix socket path.
function pathCombinedWith(option: "hostname" | "port"): TypeError {
  return new TypeError(
    `options.path cannot be combined with options.${option} (a Unix socket has no ${option})`,
  );
}
