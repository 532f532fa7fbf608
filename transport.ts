/**
 * The runtime seam: the few socket operations the server and the client
 * need, as interfaces. Each runtime implements them once, in the private
 * `_transport/` folder; `runtimeTransport()` (the `./runtime` export) picks
 * the one for the runtime the code runs on. Everything else is shared. The
 * seam names no implementation.
 *
 * **Unstable.** `Transport`, `Listener`, `ListenLimits`, `Connection` and
 * `runtimeTransport` are for tests and exotic runtimes (the `transport`
 * option of `serve()` and `connect()`), and may change in any release,
 * minor ones included. The address and TLS option types (`Address`,
 * `Endpoint`, `ListenEndpoint`, `ConnectEndpoint`, `TlsServerOptions`,
 * `TlsClientOptions`) are stable, and are exported from the package's main
 * module as well.
 *
 * @example Wrap the runtime's transport to watch what a client writes
 * ```ts
 * import { connect, serve } from "@oneline/socket-oneline";
 * import { runtimeTransport } from "@oneline/socket-oneline/runtime";
 * import type { Transport } from "@oneline/socket-oneline/transport";
 * import assert from "node:assert/strict";
 *
 * const inner = await runtimeTransport();
 * const written: string[] = [];
 * const watching: Transport = {
 *   listen: (endpoint, limits) => inner.listen(endpoint, limits),
 *   async connect(endpoint) {
 *     const connection = await inner.connect(endpoint);
 *     const write = connection.write.bind(connection);
 *     connection.write = (data) => {
 *       written.push(new TextDecoder().decode(data));
 *       return write(data);
 *     };
 *     return connection;
 *   },
 * };
 * await using server = await serve({ port: 0, logger: null, handler: () => "ack" });
 * await using client = await connect({ port: server.port, transport: watching });
 * assert.equal(await client.request("cmd01"), "ack");
 * assert.equal(written[0], "ping\n"); // the handshake
 * assert.ok(written.join("").includes("cmd01\n"));
 * ```
 *
 * @module
 */

/**
 * Where a socket is: a TCP host and port, or a Unix socket path.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./transport.ts";
 * import type { Address } from "./transport.ts";
 *
 * import assert from "node:assert/strict";
 *
 * const address: Address = { transport: "tcp", hostname: "127.0.0.1", port: 5001 };
 * assert.equal(formatAddress(address), "127.0.0.1:5001");
 * ```
 */
export type Address =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/**
 * Where to listen or connect: a TCP host and port, or a Unix socket path.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./transport.ts";
 * import type { Endpoint } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const tcp: Endpoint = { hostname: "127.0.0.1", port: 5001 };
 * const unix: Endpoint = { path: "/tmp/oneline.sock" };
 * assert.equal(formatAddress(tcp), "127.0.0.1:5001");
 * assert.equal(formatAddress(unix), "/tmp/oneline.sock");
 * ```
 */
export type Endpoint = { hostname: string; port: number } | { path: string };

/**
 * TLS for a server: its certificate chain and private key, both PEM.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { connect, serve } from "./mod.ts";
 * import type { TlsServerOptions } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * // From a checkout: the test certificates, for localhost and 127.0.0.1.
 * const tls: TlsServerOptions = {
 *   cert: readFileSync("testdata/server.pem", "utf8"),
 *   key: readFileSync("testdata/server.key", "utf8"),
 * };
 * await using server = await serve({ port: 0, tls, logger: null, handler: () => "ok" });
 * const caCerts = [readFileSync("testdata/ca.pem", "utf8")];
 * await using client = await connect({ port: server.port, tls: { caCerts } });
 * assert.equal(await client.request("hello"), "ok");
 * ```
 */
export interface TlsServerOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

/**
 * TLS for a client: the server's certificate is always verified (there is no
 * option to turn that off), and a certificate that does not verify fails the
 * connect.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { ConnectError, connect, serve } from "./mod.ts";
 * import type { TlsClientOptions } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * // From a checkout: the test certificates, for localhost and 127.0.0.1.
 * const cert = readFileSync("testdata/server.pem", "utf8");
 * const key = readFileSync("testdata/server.key", "utf8");
 * const handler = () => "ok";
 * await using server = await serve({ port: 0, tls: { cert, key }, logger: null, handler });
 * const trusting: TlsClientOptions = { caCerts: [readFileSync("testdata/ca.pem", "utf8")] };
 * await using client = await connect({ hostname: "localhost", port: server.port, tls: trusting });
 * assert.equal(await client.request("hello"), "ok");
 * // A CA that did not sign the server's certificate: the connect fails.
 * const other: TlsClientOptions = { caCerts: [readFileSync("testdata/other_ca.pem", "utf8")] };
 * await assert.rejects(connect({ port: server.port, tls: other }), ConnectError);
 * ```
 */
export interface TlsClientOptions {
  /**
   * CA certificates to trust, PEM, in addition to the runtime's root
   * certificates (such as a private CA that signed the server's certificate).
   *
   * @default {undefined} (the runtime's root certificates only)
   */
  caCerts?: string[];
  /**
   * The name (DNS name or IP address) the certificate must carry; the
   * hostname connected to by default.
   *
   * @default {undefined} (the hostname)
   */
  serverName?: string;
}

/**
 * Where and how to listen.
 *
 * @example
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import type { ListenEndpoint } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const endpoint: ListenEndpoint = { hostname: "127.0.0.1", port: 0 };
 * const limits = { maxWaiting: 16, handshakeTimeout: 10_000, closeTimeout: 1000, onRefused() {} };
 * const listener = await (await runtimeTransport()).listen(endpoint, limits);
 * assert.equal(listener.addr.transport, "tcp");
 * await listener.close();
 * ```
 */
export type ListenEndpoint = Endpoint & { tls?: TlsServerOptions };

/**
 * Where and how to connect.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./transport.ts";
 * import type { ConnectEndpoint } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const endpoint: ConnectEndpoint = { hostname: "localhost", port: 5001, tls: { caCerts: [] } };
 * assert.equal(formatAddress(endpoint), "localhost:5001");
 * ```
 */
export type ConnectEndpoint = Endpoint & { tls?: TlsClientOptions };

/**
 * One open byte stream.
 *
 * The contract every transport keeps, on every runtime and socket kind (TCP,
 * TLS, Unix), held by one suite (`transport_contract_test.ts`):
 *
 * - **End of stream is half a close.** A peer that ends its side (FIN) may
 *   still read: `read` resolves to `null`, and `write` goes on working until
 *   the connection is gone. Listeners never end a connection's side for it.
 * - **Gone is gone.** A reset, a failure or our own {@linkcode Connection.close}
 *   makes the connection gone: reads resolve to `null`, writes reject with
 *   `ConnectionClosedError` (the runtime's error as its `cause`), and
 *   {@linkcode Connection.watch} resolves — at once, whatever the peer left
 *   unread. A transport that learns of a reset only by reading reads ahead, a
 *   bounded amount, and past that bound probes a TCP connection with empty
 *   writes. Unix sockets (which carry no reset) and TLS (whose empty writes
 *   reach no socket) cannot be probed: a peer that vanished past the bound
 *   is seen as gone at the next read. And Deno's `node:tls` reports a reset
 *   as an end of stream, which a TLS server on Deno cannot tell from a
 *   half-close.
 *
 * @example Echo one chunk back
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import type { Connection } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * async function echoOnce(connection: Connection): Promise<void> {
 *   const chunk = await connection.read();
 *   if (chunk !== null) await connection.write(chunk);
 *   connection.close();
 * }
 *
 * const transport = await runtimeTransport();
 * const limits = { maxWaiting: 16, handshakeTimeout: 10_000, closeTimeout: 1000, onRefused() {} };
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
 * const client = await transport.connect({ hostname: "127.0.0.1", port });
 * const served = listener.accept().then((connection) => echoOnce(connection!));
 * await client.write(new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode((await client.read())!), "hi");
 * assert.equal(await client.read(), null); // the echo closed it
 * await served;
 * client.close();
 * await listener.close();
 * ```
 */
export interface Connection {
  /** The peer's address. */
  readonly remoteAddr: Address;
  /**
   * Reads the next bytes. Each call returns a new array that the transport
   * never touches again, so callers may keep views into it. One read at a
   * time: the next starts once the previous one has settled.
   *
   * @returns The bytes, or `null` once the stream has ended, been reset or been closed.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * Like {@linkcode Connection.read}, but the bytes are only valid until the
   * next read: no copy and no garbage per read. An optional fast path (the
   * Deno transport has it, as Deno reads into a buffer the caller gives); the
   * server uses it when present and `read` otherwise. The same one-read-at-a-
   * time rule holds across both.
   *
   * @returns The bytes, or `null` once the stream has ended, been reset or been closed.
   */
  readTransient?(): Promise<Uint8Array | null>;
  /**
   * Writes all of `data`. Resolves once the bytes are handed to the
   * operating system, so `data` may be reused afterwards and a peer that does
   * not read slows the writer down. Writes go out in call order: a write
   * called while another is pending waits for it (callers need not chain
   * them, though the server and the client do).
   *
   * @param data The bytes to send.
   * @throws {ConnectionClosedError} When the connection is closed or gone.
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Sends an end of stream after the bytes written so far, leaving reads
   * open until the peer closes. Closing while the peer's bytes are still
   * unread makes the kernel answer with a reset, which can make the peer drop
   * responses it has not read yet; this is the polite first half of a close.
   *
   * @returns A promise that resolves once the end is sent, or the connection is gone.
   */
  closeWrite(): Promise<void>;
  /**
   * Watches for the connection to go: resolves once the peer has reset it,
   * it failed, or it was closed, but not on the peer's end of stream (after
   * which the peer may still read). Every call returns the connection's one
   * promise, which never rejects. A transport that learns of a reset only by
   * reading (Deno) reads ahead from the call until the next read, a bounded
   * amount, and hands those bytes to the next reads: call it again after a
   * read to go on watching.
   *
   * @returns A promise that resolves once the connection is gone.
   */
  watch(): Promise<void>;
  /** Closes the connection; pending reads resolve to `null`. Idempotent. */
  close(): void;
}

/**
 * Bounds of a listener on the connections it has accepted and not yet handed
 * out.
 *
 * @example
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import type { ListenLimits } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const limits: ListenLimits = {
 *   maxWaiting: 1024,
 *   handshakeTimeout: 10_000,
 *   closeTimeout: 1000,
 *   onRefused() {},
 * };
 * const transport = await runtimeTransport();
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * assert.notEqual(listener.addr.transport === "tcp" && listener.addr.port, 0);
 * await listener.close();
 * ```
 */
export interface ListenLimits {
  /**
   * Most connections accepted and not yet handed out, TLS handshakes under
   * way included; the listener closes further ones at once, but only after
   * dropping those that left. Connections handed out never count, and
   * neither does one that left: a peer that reset, or ended its side without
   * sending anything (it can be owed no answer).
   */
  maxWaiting: number;
  /** Milliseconds a TLS client may take over its handshake before it is dropped. */
  handshakeTimeout: number;
  /**
   * Milliseconds a waiting connection closed by {@linkcode Listener.close}
   * may take to close its side after the listener ended its own, before it is
   * cut off.
   */
  closeTimeout: number;
  /** Told each time a connection is closed at once because `maxWaiting` wait already. */
  onRefused(): void;
}

/**
 * A listening socket that hands out connections one by one. It accepts
 * connections as they come and holds them, up to its `maxWaiting`, until
 * asked for; one that leaves while it waits is dropped.
 *
 * @example Serve connections one by one
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import type { Connection, Listener } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * async function oneByOne(listener: Listener, serve: (c: Connection) => Promise<void>) {
 *   for (let c = await listener.accept(); c !== null; c = await listener.accept()) await serve(c);
 * }
 *
 * const transport = await runtimeTransport();
 * const limits = { maxWaiting: 16, handshakeTimeout: 10_000, closeTimeout: 1000, onRefused() {} };
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
 * const heard: string[] = [];
 * const serving = oneByOne(listener, async (connection) => {
 *   heard.push(new TextDecoder().decode((await connection.read())!));
 *   connection.close();
 * });
 * const first = await transport.connect({ hostname: "127.0.0.1", port });
 * const second = await transport.connect({ hostname: "127.0.0.1", port });
 * await second.write(new TextEncoder().encode("second"));
 * await first.write(new TextEncoder().encode("first"));
 * assert.equal(await first.read(), null); // served, then closed
 * assert.equal(await second.read(), null);
 * await listener.close(); // accept() resolves to null: the loop ends
 * await serving;
 * assert.deepEqual(heard, ["first", "second"]); // in the order they connected
 * first.close();
 * second.close();
 * ```
 */
export interface Listener {
  /** The bound address (with the real port when port 0 was asked for). */
  readonly addr: Address;
  /**
   * Waits for the next connection, in the order they came.
   *
   * @returns The connection, or `null` once the listener is closed.
   * @throws {Error} When accepting failed for a reason that is not one
   *   connection's (such as running out of file descriptors), on every
   *   transport alike; the listener backs off and accepts on.
   */
  accept(): Promise<Connection | null>;
  /**
   * Stops listening; a pending `accept` resolves to `null`, and the
   * connections still waiting are closed politely: an end of stream, their
   * unread bytes read and dropped until they close (so that none is sent a
   * reset), for at most `closeTimeout`. Idempotent.
   *
   * @returns A promise that resolves once the address is free again and
   *   every waiting connection is closed.
   */
  close(): Promise<void>;
  /** How many accepted connections wait to be taken; absent when the transport cannot tell. */
  readonly waiting?: number;
}

/**
 * The socket operations of one runtime.
 *
 * @example Count connections by wrapping the runtime's transport
 * ```ts
 * import { runtimeTransport } from "./runtime.ts";
 * import { connect, serve } from "./mod.ts";
 * import type { Transport } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const base = await runtimeTransport();
 * let connects = 0;
 * const counting: Transport = {
 *   listen: (endpoint, limits) => base.listen(endpoint, limits),
 *   connect: (endpoint) => (connects++, base.connect(endpoint)),
 * };
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * await using client = await connect({ port: server.port, transport: counting });
 * assert.equal(await client.request("hello"), "ok");
 * assert.equal(connects, 1);
 * ```
 */
export interface Transport {
  /**
   * Starts listening.
   *
   * @param endpoint Where to listen. A Unix socket file that no server
   *   listens on any more is replaced; any other file at the path is left alone.
   * @param limits Bounds on waiting connections and handshakes.
   * @returns The listener, once it is bound. Closing it removes its Unix socket file.
   * @throws {AddressInUseError} When the address is taken.
   * @throws {ListenError} When listening fails for another reason.
   * @throws {TypeError} When TLS is asked for over a Unix socket path.
   */
  listen(endpoint: ListenEndpoint, limits: ListenLimits): Promise<Listener>;
  /**
   * Opens a connection.
   *
   * @param endpoint Where to connect.
   * @returns The connection, once it is established (for TLS: once the
   *   server's certificate is verified).
   * @throws {ConnectError} When it cannot connect, or the TLS handshake
   *   fails; the runtime's error is the `cause`.
   * @throws {TypeError} When TLS is asked for over a Unix socket path.
   */
  connect(endpoint: ConnectEndpoint): Promise<Connection>;
}

/**
 * Formats an address for messages and logs: `host:port` or the socket path.
 *
 * @param address The address, or an endpoint.
 * @returns The printable form.
 *
 * @example Usage
 * ```ts
 * import { formatAddress } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress({ hostname: "127.0.0.1", port: 5001 }), "127.0.0.1:5001");
 * assert.equal(formatAddress({ hostname: "::1", port: 5001 }), "[::1]:5001");
 * assert.equal(formatAddress({ path: "/tmp/oneline.sock" }), "/tmp/oneline.sock");
 * ```
 */
export function formatAddress(address: Address | Endpoint): string {
  if ("path" in address) return address.path;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}
