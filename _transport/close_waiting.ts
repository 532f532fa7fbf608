/**
 * The part of a listener's close that every transport shares: the
 * connections still waiting in its queue are closed politely.
 *
 * @module
 */

import type { Connection } from "../transport.ts";
import type { AcceptQueue } from "./accept_queue.ts";
import { closePolitely } from "./close_politely.ts";

/**
 * Closes a listener's queue, so that a pending `accept()` gets `null` and no
 * connection is queued any more, and closes each connection that was still
 * waiting politely (see {@linkcode closePolitely}).
 *
 * @param queue The listener's queue.
 * @param closeTimeout How long each waiting peer may take to close its side.
 * @param alsoAwait Work of the listener's own that its close waits for too,
 *   such as its accept loop.
 * @returns A promise that resolves once the waiting connections are closed
 *   and `alsoAwait` has settled as well.
 *
 * @example Usage
 * ```ts
 * import { AcceptQueue } from "./accept_queue.ts";
 * import { closeWaiting } from "./close_waiting.ts";
 * import type { Connection } from "../transport.ts";
 * import assert from "node:assert/strict";
 *
 * const calls: string[] = [];
 * const connection = {
 *   remoteAddr: { transport: "unix", path: "/tmp/x.sock" },
 *   read: () => Promise.resolve(null),
 *   write: () => Promise.resolve(),
 *   closeWrite: () => (calls.push("closeWrite"), Promise.resolve()),
 *   watch: () => new Promise<void>(() => {}),
 *   close: () => void calls.push("close"),
 * } satisfies Connection;
 * const limits = { maxWaiting: 4, handshakeTimeout: 1, closeTimeout: 1, onRefused() {} };
 * const queue = new AcceptQueue<Connection>(limits, (item) => item.close());
 * queue.push(connection);
 * let loopEnded = false;
 * const acceptLoop = Promise.resolve().then(() => void (loopEnded = true));
 * await closeWaiting(queue, 1000, acceptLoop);
 * assert.deepEqual(calls, ["closeWrite", "close"]);
 * assert.equal(loopEnded, true);
 * assert.equal(queue.closed, true);
 * assert.equal(await queue.next(), null);
 * ```
 */
export async function closeWaiting<T extends Connection>(
  queue: AcceptQueue<T>,
  closeTimeout: number,
  alsoAwait?: Promise<unknown>,
): Promise<void> {
  const waiting = queue.close();
  await Promise.all([
    alsoAwait,
    ...waiting.map((connection) => closePolitely(connection, closeTimeout)),
  ]);
}
