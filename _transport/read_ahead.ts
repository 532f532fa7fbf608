/**
 * How far the transports read ahead of their reader: reading is how a
 * connection learns that its peer reset, so a connection nobody reads (one
 * that waits its turn, or whose handler runs) is still read, a bounded amount.
 *
 * @module
 */

/**
 * Bytes read from a connection while it waits its turn, at most (give or
 * take one chunk): one small buffer per waiting connection.
 */
export const WAITING_READ_AHEAD_BYTES = 4 * 1024;

/**
 * Bytes read from the served connection ahead of the server, at most (give
 * or take one chunk), such as while its handler runs: enough for any
 * pipeline a client sends in one go, while one client at a time is served.
 * Past it, the connection is not read until the server reads again, and a
 * TCP connection is probed instead (see `departure_probe.ts`).
 */
export const SERVED_READ_AHEAD_BYTES = 4 * 1024 * 1024;
