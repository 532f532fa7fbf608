/**
 * The Deno transport: `Deno.listen` and `Deno.connect`, `Deno.listenTls` and
 * `Deno.startTls` for TLS.
 *
 * @module
 */

import { AcceptQueue } from "./accept_queue.ts";
import { AddressInUseError } from "./errors.ts";
import type {
  Address,
  ConnectEndpoint,
  Connection,
  ListenEndpoint,
  Listener,
  Transport,
} from "./transport.ts";
import { formatAddress } from "./transport.ts";

const READ_BUFFER_BYTES = 64 * 1024;
// Read buffers of ended connections, for the next ones: a fresh 64 KiB buffer
// per connection cost about a tenth of the server's CPU per
// connect-ping-disconnect cycle (allocation, zeroing and the GC work it
// drives). A few suffice, as one client is served at a time.
const spareReadBuffers: Uint8Array[] = [];
const MAX_SPARE_READ_BUFFERS = 4;

function toAddress(addr: Deno.Addr): Address {
  if ("path" in addr) return { transport: "unix", path: addr.path };
  if ("hostname" in addr) return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  throw new TypeError(`unsupported address transport ${addr.transport}`);
}

class DenoConnection implements Connection {
  readonly remoteAddr: Address;
  readonly #conn: Deno.Conn;
  // One read buffer per connection, from the spares when there is one; `read`
  // hands out a copy of just the bytes read, so callers may keep views while
  // the buffer is reused. Given back once a read has met the end, when no
  // read is in flight to fill it.
  #buffer: Uint8Array | undefined = spareReadBuffers.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.remoteAddr = toAddress(conn.remoteAddr);
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  async read(): Promise<Uint8Array | null> {
    return (await this.readTransient())?.slice() ?? null;
  }

  async readTransient(): Promise<Uint8Array | null> {
    const buffer = this.#buffer;
    if (this.#closed || buffer === undefined) return null;
    let n: number | null;
    try {
      n = await this.#conn.read(buffer);
    } catch {
      // Reset, closed under us, or (TLS) a failed handshake: the stream is over.
      n = null;
    }
    if (n === null) {
      this.close();
      // Given back once only, even if a caller broke the one-read-at-a-time rule.
      if (this.#buffer === buffer && spareReadBuffers.length < MAX_SPARE_READ_BUFFERS) {
        spareReadBuffers.push(buffer);
      }
      this.#buffer = undefined;
      return null;
    }
    return buffer.subarray(0, n);
  }

  async write(data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) {
      written += await this.#conn.write(data.subarray(written));
    }
  }

  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      // Already reset or closed: there is nothing left to end.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

// The identity of a file, to remove only the socket file this listener made.
function fileId(path: string): string | undefined {
  try {
    const info = Deno.lstatSync(path);
    return info.isSocket ? `${info.dev}:${info.ino}` : undefined;
  } catch {
    return undefined;
  }
}

class DenoListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.Listener;
  // The Unix socket file and its identity, removed again on close.
  readonly #socketFile: { path: string; id: string | undefined } | undefined;
  #closed = false;

  constructor(listener: Deno.Listener, path: string | undefined) {
    this.#listener = listener;
    this.addr = toAddress(listener.addr);
    if (path !== undefined) this.#socketFile = { path, id: fileId(path) };
  }

  async accept(): Promise<Connection | null> {
    if (this.#closed) return null;
    try {
      return new DenoConnection(await this.#listener.accept());
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    const file = this.#socketFile;
    if (file?.id !== undefined && fileId(file.path) === file.id) {
      try {
        Deno.removeSync(file.path);
      } catch {
        // Removed by someone else meanwhile.
      }
    }
  }
}

// How long a client may take over the TLS handshake before it is dropped (as
// node:tls does by default).
const HANDSHAKE_TIMEOUT_MS = 120_000;
const ACCEPT_RETRY_MS = 100;

/**
 * A TLS listener that, like node:tls, accepts every connection at once and
 * shakes hands with it apart from serving: the connections that pass wait in
 * a queue until asked for, and the ones that fail (a plain TCP client, a
 * client that does not trust the certificate) or stay silent past
 * {@linkcode HANDSHAKE_TIMEOUT_MS} are dropped without ever taking the
 * server's one slot. A client waiting its turn is thus connected and
 * verified, just as over plain TCP.
 */
class DenoTlsListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.TlsListener;
  // Shaken hands, waiting to be asked for.
  readonly #ready = new AcceptQueue<Connection>();
  // Still shaking hands.
  readonly #handshaking = new Set<Deno.TlsConn>();

  constructor(listener: Deno.TlsListener) {
    this.#listener = listener;
    this.addr = toAddress(listener.addr);
    this.#acceptLoop();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#ready.closed) {
      let conn: Deno.TlsConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#ready.closed) return;
        // Such as running out of file descriptors: report it, back off, go on.
        this.#ready.fail(error);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#ready.closed) closeQuietly(conn);
      else this.#shakeHands(conn);
    }
  }

  async #shakeHands(conn: Deno.TlsConn): Promise<void> {
    this.#handshaking.add(conn);
    const timer = setTimeout(() => closeQuietly(conn), HANDSHAKE_TIMEOUT_MS);
    try {
      await conn.handshake();
    } catch {
      closeQuietly(conn);
      return;
    } finally {
      clearTimeout(timer);
      this.#handshaking.delete(conn);
    }
    if (!this.#ready.push(new DenoConnection(conn))) closeQuietly(conn);
  }

  accept(): Promise<Connection | null> {
    return this.#ready.next();
  }

  close(): void {
    if (this.#ready.closed) return;
    this.#listener.close();
    for (const connection of this.#ready.close()) connection.close();
    for (const conn of this.#handshaking) closeQuietly(conn);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

// Whether `path` is a Unix socket file that no server listens on any more
// (left behind by a process that did not close its server).
async function isStaleSocket(path: string): Promise<boolean> {
  if (fileId(path) === undefined) return false;
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused;
  }
}

function listenOnce(endpoint: ListenEndpoint): Listener {
  if ("path" in endpoint) {
    return new DenoListener(Deno.listen({ transport: "unix", path: endpoint.path }), endpoint.path);
  }
  const { hostname, port } = endpoint;
  if (endpoint.tls === undefined) {
    return new DenoListener(Deno.listen({ transport: "tcp", hostname, port }), undefined);
  }
  const { cert, key } = endpoint.tls;
  return new DenoTlsListener(Deno.listenTls({ transport: "tcp", hostname, port, cert, key }));
}

async function handshakeOrClose(conn: Deno.TlsConn): Promise<void> {
  try {
    await conn.handshake();
  } catch (error) {
    closeQuietly(conn);
    throw new Error(`TLS handshake failed: ${(error as Error).message ?? error}`, {
      cause: error,
    });
  }
}

/** The transport over Deno's own sockets. */
export const denoTransport: Transport = {
  async listen(endpoint: ListenEndpoint): Promise<Listener> {
    const path = "path" in endpoint ? endpoint.path : undefined;
    if (path !== undefined && endpoint.tls !== undefined) {
      throw new TypeError("TLS is only supported over TCP, not over a Unix socket path");
    }
    try {
      return listenOnce(endpoint);
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      if (path === undefined || !await isStaleSocket(path)) {
        throw new AddressInUseError(formatAddress(endpoint), { cause: error });
      }
      // A socket file nobody listens on: take its place.
      Deno.removeSync(path);
      return listenOnce(endpoint);
    }
  },

  async connect(endpoint: ConnectEndpoint): Promise<Connection> {
    if ("path" in endpoint) {
      if (endpoint.tls !== undefined) {
        throw new TypeError("TLS is only supported over TCP, not over a Unix socket path");
      }
      return new DenoConnection(await Deno.connect({ transport: "unix", path: endpoint.path }));
    }
    const { hostname, port, tls } = endpoint;
    const tcp = await Deno.connect({ transport: "tcp", hostname, port });
    if (tls === undefined) return new DenoConnection(tcp);
    // Connect, then start TLS over the TCP connection: this keeps TCP_NODELAY
    // (which a TLS connection cannot set) and lets the name the certificate
    // is checked against differ from the host connected to.
    tcp.setNoDelay(true);
    let conn: Deno.TlsConn;
    try {
      conn = await Deno.startTls(tcp, {
        hostname: tls.serverName ?? hostname,
        caCerts: tls.caCerts ?? [],
      });
    } catch (error) {
      closeQuietly(tcp);
      throw error;
    }
    // Verify the server now, so that a certificate that does not verify
    // fails the connect instead of the first read.
    await handshakeOrClose(conn);
    return new DenoConnection(conn);
  },
};
