/**
 * The polite close of a connection, shared by the server's sessions and the
 * listeners' waiting connections.
 *
 * @module
 */

import type { Connection } from "../transport.ts";
import { systemClock } from "../_util/clock.ts";
import type { Clock } from "../_util/clock.ts";

/**
 * Closes `connection` politely: an end of stream first, then the peer's last
 * bytes read and dropped until it closes, for at most `ms`, then the close.
 * Closing with the peer's bytes unread would make the kernel send a reset,
 * which can make the peer drop answers it has not read yet.
 *
 * @param connection The connection.
 * @param ms How long the peer may take to close its side.
 * @param clock Times `ms`.
 * @returns A promise that resolves once the connection is closed.
 *
 * @example
 * ```ts
 * import { closePolitely } from "./close_politely.ts";
 * import type { Connection } from "../transport.ts";
 * import assert from "node:assert/strict";
 *
 * const calls: string[] = [];
 * const chunks = [new Uint8Array([1]), null];
 * const connection = {
 *   remoteAddr: { transport: "unix", path: "/tmp/x.sock" },
 *   read: () => (calls.push("read"), Promise.resolve(chunks.shift() ?? null)),
 *   write: () => Promise.resolve(),
 *   closeWrite: () => (calls.push("closeWrite"), Promise.resolve()),
 *   watch: () => new Promise<void>(() => {}),
 *   close: () => void calls.push("close"),
 * } satisfies Connection;
 * await closePolitely(connection, 1000);
 * assert.deepEqual(calls, ["closeWrite", "read", "read", "close"]);
 * ```
 */
export async function closePolitely(
  connection: Connection,
  ms: number,
  clock: Clock = systemClock,
): Promise<void> {
  await connection.closeWrite();
  const timer = clock.setTimeout(() => connection.close(), ms);
  try {
    while (await (connection.readTransient?.() ?? connection.read()) !== null) {
      // Dropped: nothing after the end is served.
    }
  } finally {
    clock.clearTimeout(timer);
    connection.close();
  }
}
