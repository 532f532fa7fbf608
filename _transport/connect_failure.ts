/**
 * How a transport reports a connect that failed: one typed error, whatever
 * the runtime threw.
 *
 * @module
 */

import { ConnectError } from "../errors.ts";
import { formatAddress } from "../transport.ts";
import type { Endpoint } from "../transport.ts";

/**
 * A failed connect as a `ConnectError` naming the address, with the
 * runtime's error as `cause`.
 *
 * @param endpoint Where the connect went.
 * @param error What the runtime threw.
 * @param stage The step that failed, such as `"TLS handshake failed"`, when not the connect itself.
 * @returns The error, to throw.
 *
 * @example
 * ```ts
 * import { connectFailure } from "./connect_failure.ts";
 * import assert from "node:assert/strict";
 *
 * const error = connectFailure({ hostname: "127.0.0.1", port: 1 }, new Error("refused"));
 * assert.equal(error.message, "cannot connect to 127.0.0.1:1: refused");
 * ```
 */
export function connectFailure(endpoint: Endpoint, error: unknown, stage?: string): ConnectError {
  if (error instanceof ConnectError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectError(formatAddress(endpoint), stage ? `${stage}: ${reason}` : reason, {
    cause: error,
  });
}
