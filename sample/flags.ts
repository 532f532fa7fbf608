/**
 * Command-line flags shared by the sample scripts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { endpointFlags } from "../_cli/common.ts";

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
 * @throws {TypeError} On an unknown flag.
 * @throws {UsageError} On a port that is not an integer from 0 to 65535.
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
  // The command-line tool's check, so both take the same ports with the same message.
  const { hostname, port } = endpointFlags({ hostname: values.hostname, port: values.port }, 0) as {
    hostname: string;
    port: number;
  };
  return {
    hostname,
    port,
    verbose: values.verbose === true,
    rest: positionals,
  };
}
