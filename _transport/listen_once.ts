/**
 * Binding a listener, for every transport: a Unix socket file left behind by
 * a server that is gone is replaced, and every failure becomes a typed error
 * that names the address. Also the identity of the socket file, so that a
 * listener removes only the file it made.
 *
 * @module
 */

import * as fs from "node:fs";
import * as net from "node:net";
import { AddressInUseError, ListenError } from "../errors.ts";
import { formatAddress } from "../transport.ts";
import type { Endpoint } from "../transport.ts";

/**
 * The identity of a Unix socket file, to remove only the file a listener made.
 *
 * @param path The path.
 * @returns `dev:ino` of the socket file, or `undefined` when the path holds no socket.
 */
export function socketFileId(path: string): string | undefined {
  try {
    const stats = fs.lstatSync(path);
    return stats.isSocket() ? `${stats.dev}:${stats.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the socket file at `path` if it is still the one with identity `id`
 * (never a file that another server has put there since).
 *
 * @param path The path.
 * @param id Its identity when the listener made it.
 */
export function removeSocketFile(path: string, id: string | undefined): void {
  if (id === undefined || socketFileId(path) !== id) return;
  try {
    fs.unlinkSync(path);
  } catch {
    // Removed by someone else meanwhile.
  }
}

// Whether `path` is a Unix socket file that no server listens on any more
// (left behind by a process that did not close its server).
function isStaleSocket(path: string): Promise<boolean> {
  if (socketFileId(path) === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => {
      probe.destroy();
      resolve(error.code === "ECONNREFUSED");
    });
  });
}

/**
 * Binds with `bind`, replacing a stale Unix socket file once, and turns a
 * failure into `AddressInUseError` or `ListenError`.
 *
 * @param endpoint Where to listen.
 * @param bind Binds once; throws or rejects the runtime's error.
 * @param isAddressInUse Whether the runtime's error means the address is taken.
 * @returns What `bind` returns.
 */
export async function listenOnce<T>(
  endpoint: Endpoint,
  bind: () => T | Promise<T>,
  isAddressInUse: (error: unknown) => boolean,
): Promise<T> {
  try {
    return await bind();
  } catch (error) {
    const address = formatAddress(endpoint);
    if (!isAddressInUse(error)) throw new ListenError(address, String(error), { cause: error });
    if (!("path" in endpoint) || !await isStaleSocket(endpoint.path)) {
      throw new AddressInUseError(address, { cause: error });
    }
    // A socket file nobody listens on: take its place.
    fs.unlinkSync(endpoint.path);
    try {
      return await bind();
    } catch (again) {
      throw new ListenError(address, String(again), { cause: again });
    }
  }
}
