/**
 * The transport of the runtime this code runs on (the package's `./runtime`
 * export, unstable as the seam is). Kept apart from the seam
 * (`transport.ts`), which names no implementation: this module alone knows
 * them all, and loads only the one it needs.
 *
 * @module
 */

import type { Transport } from "./transport.ts";

let cached: Promise<Transport> | undefined;

/**
 * The transport of the runtime this code runs on: Deno's own sockets on
 * Deno, Bun's own on Bun (with `node:tls` for TLS), `node:net` elsewhere.
 * Loaded once, on first use. The server and the client use it unless given
 * another; wrap it to observe or change what they do at the socket level.
 *
 * @returns The transport.
 *
 * @example Usage
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import assert from "node:assert/strict";
 *
 * const transport = await runtimeTransport();
 * const limits = { maxWaiting: 16, handshakeTimeout: 10_000, closeTimeout: 1000, onRefused() {} };
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * assert.equal(listener.addr.transport, "tcp");
 * await listener.close();
 * ```
 */
export function runtimeTransport(): Promise<Transport> {
  cached ??= "Deno" in globalThis
    ? import("./_transport/deno.ts").then((m) => m.denoTransport)
    : "Bun" in globalThis
    ? import("./_transport/bun.ts").then((m) => m.bunTransport)
    : import("./_transport/node.ts").then((m) => m.nodeTransport);
  return cached;
}
