/**
 * Command-line flags shared by the sample scripts.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** What the sample scripts accept on the command line. */
export interface EndpointFlags {
  hostname: string;
  port: number;
  verbose: boolean;
  /** Arguments that are not flags. */
  rest: string[];
}

/**
 * Parses `--hostname`, `--port` (default 5001) and, when allowed,
 * `--verbose`.
 *
 * @param args The arguments after the script name.
 * @param allow Which optional flags the script takes.
 * @returns The flags.
 * @throws {TypeError} On an unknown flag, or a port that is not a whole number
 *   (its range is checked by `serve()` and `connect()`, which throw a `RangeError`).
 */
export function parseEndpointFlags(
  args: string[],
  allow: { verbose?: boolean } = {},
): EndpointFlags {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "5001" },
      ...(allow.verbose ? { verbose: { type: "boolean", default: false } } : {}),
    },
  });
  if (!/^\d+$/.test(values.port)) {
    throw new TypeError(`--port must be a whole number, got ${JSON.stringify(values.port)}`);
  }
  return {
    hostname: values.hostname,
    port: Number(values.port),
    verbose: values.verbose === true,
    rest: positionals,
  };
}
