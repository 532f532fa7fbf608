/**
 * Where a server listens and a client connects when told nothing else, for
 * `serve()`, `connect()` and the CLI alike.
 *
 * @module
 */

import type { Endpoint } from "../transport.ts";

/**
 * The host a server listens on and a client connects to by default: this machine only.
 *
 * @example
 * ```ts
 * import { DEFAULT_HOSTNAME } from "./default_endpoint.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_HOSTNAME, "127.0.0.1");
 * ```
 */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/**
 * The TCP port a server listens on and a client connects to by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_PORT } from "./default_endpoint.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_PORT, 5001);
 * ```
 */
export const DEFAULT_PORT = 5001;

/**
 * The endpoint that the `hostname`, `port`, `path` and `tls` options name:
 * the Unix socket at `path` when given, else TCP, with the defaults for what
 * is left out.
 *
 * @param options The options.
 * @returns The endpoint, with its TLS options.
 *
 * @example Usage
 * ```ts
 * import { optionsEndpoint } from "./default_endpoint.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(optionsEndpoint({}), { hostname: "127.0.0.1", port: 5001, tls: undefined });
 * assert.deepEqual(optionsEndpoint({ path: "/tmp/s" }), { path: "/tmp/s", tls: undefined });
 * ```
 */
export function optionsEndpoint<Tls>(
  options: { hostname?: string; port?: number; path?: string; tls?: Tls },
): Endpoint & { tls?: Tls } {
  return options.path !== undefined ? { path: options.path, tls: options.tls } : {
    hostname: options.hostname ?? DEFAULT_HOSTNAME,
    port: options.port ?? DEFAULT_PORT,
    tls: options.tls,
  };
}
