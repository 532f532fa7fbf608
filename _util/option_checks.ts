/**
 * Checks of the options the server and the client share, so that both fail
 * the same way on the same mistake.
 *
 * @module
 */

/**
 * Checks `hostname`, `port` and `path` of server or client options, and that
 * `tls` is not asked for over a Unix socket path.
 *
 * @param options The options.
 * @param lowestPort `0` where any free port may be asked for (servers), `1` otherwise.
 * @throws {TypeError} When a value has the wrong type, or `tls` comes with `path`.
 * @throws {RangeError} When the port is out of range.
 */
export function checkEndpointOptions(
  options: { hostname?: unknown; port?: unknown; path?: unknown; tls?: unknown },
  lowestPort: 0 | 1,
): void {
  if (options.hostname !== undefined && typeof options.hostname !== "string") {
    throw new TypeError(`options.hostname must be a string, got ${typeof options.hostname}`);
  }
  if (options.port !== undefined) {
    if (typeof options.port !== "number" || !Number.isInteger(options.port)) {
      throw new TypeError(`options.port must be an integer, got ${String(options.port)}`);
    }
    if (options.port < lowestPort || options.port > 65535) {
      throw new RangeError(`options.port must be from ${lowestPort} to 65535, got ${options.port}`);
    }
  }
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new TypeError(`options.path must be a non-empty string, got ${String(options.path)}`);
  }
  if (options.path !== undefined && options.tls !== undefined) throw tlsOverUnixPath();
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
    throw new TypeError(`${name} must be a number of milliseconds, got ${String(value)}`);
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
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < 1) throw new RangeError(`${name} must be at least 1, got ${value}`);
}

/**
 * The error for TLS asked for over a Unix socket path, which every check of
 * that rule throws.
 *
 * @returns The error, to throw.
 */
export function tlsOverUnixPath(): TypeError {
  return new TypeError("TLS works over TCP only, not over a Unix socket path (options.path)");
}
