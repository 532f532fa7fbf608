/**
 * Binding a listener, for every transport: a Unix socket file left behind by
 * a server that is gone is replaced (one server at a time), and every failure
 * becomes a typed error that names the address. Also the identity of the socket file, so that a
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
    if (!("path" in endpoint)) throw new AddressInUseError(address, { cause: error });
    return await replaceStaleSocket(endpoint.path, bind, address, error);
  }
}

// How old a lock file must be before it counts as left by a process that died.
const STALE_LOCK_MS = 10_000;

// Takes the place of a socket file nobody listens on. The probe, removal and
// bind run under a lock file (PATH.lock, made exclusively), so that of two
// servers starting on one stale path, one binds and the other finds it in
// use, instead of both binding and one removing the other's socket file.
async function replaceStaleSocket<T>(
  path: string,
  bind: () => T | Promise<T>,
  address: string,
  inUse: unknown,
): Promise<T> {
  const lock = `${path}.lock`;
  let fd: number;
  try {
    fd = fs.openSync(lock, "wx");
  } catch (error) {
    if (!isStaleLock(lock)) throw new AddressInUseError(address, { cause: error });
    fs.rmSync(lock, { force: true });
    fd = fs.openSync(lock, "wx");
  }
  try {
    if (!await isStaleSocket(path)) throw new AddressInUseError(address, { cause: inUse });
    fs.unlinkSync(path);
    try {
      return await bind();
    } catch (error) {
      throw new ListenError(address, String(error), { cause: error });
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}

function isStaleLock(lock: string): boolean {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS;
  } catch {
    return true;
  }
}
