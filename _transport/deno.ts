/**
 * The Deno transport: `Deno.listen` and `Deno.connect`, with `Deno.startTls`
 * for TLS clients; TLS servers run on `node:tls` (see `node.ts`).
 *
 * @module
 */

import { AcceptQueue } from "./accept_queue.ts";
import { ConnectionClosedError, ListenError } from "../errors.ts";
import { formatAddress } from "../transport.ts";
import { listenOnce, removeSocketFile, socketFileId } from "./listen_once.ts";
import type { Address, Connection, Endpoint, Listener, ListenLimits } from "../transport.ts";
import type { TlsServerOptions, Transport } from "../transport.ts";
import { nodeTransport } from "./node.ts";
import { connectFailure } from "./connect_failure.ts";
import { tlsOverUnixPath } from "../_util/option_checks.ts";
import { nextRetryMs } from "../_util/retry.ts";
import { closeWaiting } from "./close_waiting.ts";
import { sleep, systemClock } from "../_util/clock.ts";
import { DepartureProbe, EMPTY_WRITE } from "./departure_probe.ts";
import { SERVED_READ_AHEAD_BYTES, WAITING_READ_AHEAD_BYTES } from "./read_ahead.ts";

const READ_BUFFER_BYTES = 64 * 1024;
// Read buffers of ended connections, for the next ones: a fresh 64 KiB buffer
// per connection shows in the cost of short connections (allocation, zeroing
// and the GC work it drives). A few suffice, as one client is served at a time.
const spareReadBuffers: Uint8Array[] = [];
const MAX_SPARE_READ_BUFFERS = 4;

function toAddress(addr: Deno.Addr): Address {
  if ("path" in addr) return { transport: "unix", path: addr.path };
  if ("hostname" in addr) return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  throw new TypeError(`unsupported address transport ${addr.transport}`);
}

// A watched connection reads ahead into one buffer, small while it waits and
// grown up to SERVED_READ_AHEAD_BYTES once served; past that, reading ahead
// stops until the next read takes it, and a TCP connection is probed instead.

class DenoConnection implements Connection {
  readonly remoteAddr: Address;
  readonly #conn: Deno.Conn;
  // One read buffer per connection, taken on its first read (not while it
  // waits its turn), from the spares when there is one; `read` hands out a
  // copy of just the bytes read, so callers may keep views while the buffer
  // is reused. Given back once a read has met the end, when no read is in
  // flight to fill it.
  #buffer: Uint8Array | undefined;
  #ended = false;
  #closed = false;
  // The last write called, and how many have not finished.
  #lastWrite: Promise<void> | undefined;
  #writes = 0;
  // Deno learns of a reset only by reading: while watched, the connection
  // reads ahead into #ahead[0, #aheadLength), which the next read returns
  // first; #aheadEnded once that reading met the end of the stream.
  #ahead: Uint8Array | undefined;
  #aheadLength = 0;
  #aheadEnded = false;
  #readingAhead: Promise<void> | undefined;
  #watching = false;
  // Whether it was ever read (served), and whether the peer ever sent anything.
  #served = false;
  #received = false;
  readonly #gone = Promise.withResolvers<void>();
  readonly #departed = Promise.withResolvers<void>();
  // Probes a TCP connection whose read-ahead is full (Unix sockets cannot be probed).
  readonly #probe: DepartureProbe | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.remoteAddr = toAddress(conn.remoteAddr);
    if ("setNoDelay" in conn) {
      (conn as Deno.TcpConn).setNoDelay(true);
      // One empty write, straight to the socket (#writeAll would make no call for no bytes).
      const probe = () => this.#conn.write(EMPTY_WRITE).then(() => {});
      this.#probe = new DepartureProbe(probe, () => this.close());
    }
  }

  async read(): Promise<Uint8Array | null> {
    return (await this.readTransient())?.slice() ?? null;
  }

  readTransient(): Promise<Uint8Array | null> {
    this.#watching = false;
    this.#served = true;
    this.#probe?.stop();
    if (this.#aheadLength > 0 || this.#aheadEnded || this.#readingAhead !== undefined) {
      return this.#takeAhead();
    }
    if (this.#closed || this.#ended) return Promise.resolve(null);
    const buffer = this.#buffer ??= spareReadBuffers.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
    return this.#readInto(buffer).then((n) => {
      if (n !== null) {
        this.#received = true;
        return buffer.subarray(0, n);
      }
      this.#ended = true;
      // Given back once only, even if a caller broke the one-read-at-a-time rule.
      if (this.#buffer === buffer && spareReadBuffers.length < MAX_SPARE_READ_BUFFERS) {
        spareReadBuffers.push(buffer);
      }
      this.#buffer = undefined;
      return null;
    });
  }

  async #takeAhead(): Promise<Uint8Array | null> {
    while (this.#aheadLength === 0 && this.#readingAhead !== undefined) await this.#readingAhead;
    if (this.#aheadLength > 0) {
      const chunk = this.#ahead!.slice(0, this.#aheadLength);
      this.#aheadLength = 0;
      return chunk;
    }
    return this.#aheadEnded ? null : this.readTransient();
  }

  // Reads into `buffer`; `null` once the stream is over, by an end of stream,
  // a reset or a close.
  async #readInto(buffer: Uint8Array): Promise<number | null> {
    let n: number | null;
    try {
      n = await this.#conn.read(buffer);
    } catch {
      // Reset, closed under us, or (TLS) a failed handshake: the connection is gone.
      this.close();
      return null;
    }
    return n;
  }

  watch(): Promise<void> {
    this.#watching = true;
    this.#readAhead();
    return this.#gone.promise;
  }

  /** Resolves once the peer has left while it waits: gone, or ended with nothing sent. */
  departed(): Promise<void> {
    return this.#departed.promise;
  }

  #readAhead(): void {
    if (
      !this.#watching || this.#closed || this.#aheadEnded || this.#readingAhead !== undefined
    ) return;
    let ahead = this.#ahead ??= new Uint8Array(WAITING_READ_AHEAD_BYTES);
    const offset = this.#aheadLength;
    if (offset === ahead.length) {
      if (!this.#served || ahead.length >= SERVED_READ_AHEAD_BYTES) return this.#probe?.start();
      const grown = new Uint8Array(Math.min(ahead.length * 4, SERVED_READ_AHEAD_BYTES));
      grown.set(ahead);
      ahead = this.#ahead = grown;
    }
    this.#readingAhead = this.#readInto(ahead.subarray(offset)).then((n) => {
      this.#readingAhead = undefined;
      if (n === null) {
        this.#aheadEnded = true;
        if (!this.#received) this.#departed.resolve();
        return;
      }
      this.#received = true;
      // A read may have taken what was ahead meanwhile: these bytes move to the front.
      if (this.#aheadLength !== offset) ahead.copyWithin(this.#aheadLength, offset, offset + n);
      this.#aheadLength += n;
      this.#readAhead();
    });
  }

  write(data: Uint8Array): Promise<void> {
    // A write may take several system calls: one called meanwhile waits for
    // it, so that their bytes do not interleave.
    this.#writes++;
    const last = this.#lastWrite;
    const write = last === undefined ? this.#writeAll(data) : last.then(() => this.#writeAll(data));
    this.#lastWrite = this.#writes === 0 ? undefined : write;
    return write;
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    try {
      let written = 0;
      while (written < data.length) {
        written += await this.#conn.write(data.subarray(written));
      }
    } catch (error) {
      throw new ConnectionClosedError("the connection is closed", { cause: error });
    } finally {
      if (--this.#writes === 0) this.#lastWrite = undefined;
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
    this.#probe?.stop();
    this.#gone.resolve();
    this.#departed.resolve();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

// Accept errors that concern one connection only (it was reset or gone
// before it was taken): that one is skipped, and accepting goes on at once.
const CONNECTION_ERRORS = [
  Deno.errors.NotConnected,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.BrokenPipe,
];

/**
 * A listener that accepts connections as they come and holds them, up to
 * `maxWaiting`, until asked for (the kernel's backlog holds far fewer). Each
 * waiting connection is watched, so that one that leaves is dropped.
 */
class DenoListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.Listener;
  readonly #queue: AcceptQueue<DenoConnection>;
  // The Unix socket file and its identity, removed again on close.
  readonly #socketFile: { path: string; id: string | undefined } | undefined;
  // Ends once no accept is pending any more, when the address is free.
  readonly #accepting: Promise<void>;
  readonly #closeTimeout: number;
  #closing: Promise<void> | undefined;

  get waiting(): number {
    return this.#queue.length;
  }

  constructor(listener: Deno.Listener, path: string | undefined, limits: ListenLimits) {
    this.#listener = listener;
    this.#queue = new AcceptQueue(limits, (connection) => connection.close());
    this.#closeTimeout = limits.closeTimeout;
    this.addr = toAddress(listener.addr);
    if (path !== undefined) this.#socketFile = { path, id: socketFileId(path) };
    this.#accepting = this.#acceptLoop();
  }

  async #acceptLoop(): Promise<void> {
    let retryMs = 0;
    while (!this.#queue.closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
        retryMs = 0;
      } catch (error) {
        if (this.#queue.closed) return;
        if (CONNECTION_ERRORS.some((type) => error instanceof type)) continue;
        this.#queue.fail(error);
        retryMs = nextRetryMs(retryMs);
        await sleep(systemClock, retryMs);
        continue;
      }
      this.#enqueue(conn);
      // While the queue is full, accept no more: the reads that show which
      // waiting connections left must run first.
      await this.#queue.settled();
    }
  }

  // Queues a connection, unless the queue is full, and drops it from the
  // queue if it goes while it waits.
  #enqueue(conn: Deno.Conn): void {
    let connection: DenoConnection;
    try {
      connection = new DenoConnection(conn);
    } catch {
      // Gone before its address could be read.
      closeQuietly(conn);
      return;
    }
    this.#queue.offer(connection, () => {
      connection.watch();
      return connection.departed();
    });
  }

  accept(): Promise<Connection | null> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#listener.close();
    this.#closing = closeWaiting(this.#queue, this.#closeTimeout, this.#accepting);
    if (this.#socketFile) removeSocketFile(this.#socketFile.path, this.#socketFile.id);
    return this.#closing;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function bind(endpoint: Endpoint, limits: ListenLimits): Listener {
  const listener = "path" in endpoint
    ? Deno.listen({ transport: "unix", path: endpoint.path })
    : Deno.listen({ transport: "tcp", hostname: endpoint.hostname, port: endpoint.port });
  return new DenoListener(listener, "path" in endpoint ? endpoint.path : undefined, limits);
}

// Deno's node:tls takes any certificate and key and fails only at the first
// handshake; Deno.listenTls checks them at once, so a bad pair fails serve()
// as on the other runtimes. It binds a free loopback port for that moment only.
function checkCertificate({ cert, key }: TlsServerOptions): void {
  Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key }).close();
}

/** The transport over Deno's own sockets. */
export const denoTransport: Transport = {
  listen(endpoint, limits): Promise<Listener> {
    // A TLS server runs on node:tls, which Deno implements: Deno.listenTls
    // cannot drop a client that stalls its handshake (a close waits for the
    // handshake to end), so such clients would pile up.
    if (endpoint.tls !== undefined) {
      try {
        checkCertificate(endpoint.tls);
      } catch (error) {
        return Promise.reject(
          new ListenError(formatAddress(endpoint), String(error), { cause: error }),
        );
      }
      return nodeTransport.listen(endpoint, limits);
    }
    return listenOnce(
      endpoint,
      () => bind(endpoint, limits),
      (error) => error instanceof Deno.errors.AddrInUse,
    );
  },

  async connect(endpoint): Promise<Connection> {
    if ("path" in endpoint) {
      if (endpoint.tls !== undefined) throw tlsOverUnixPath();
      try {
        return new DenoConnection(await Deno.connect({ transport: "unix", path: endpoint.path }));
      } catch (error) {
        throw connectFailure(endpoint, error);
      }
    }
    const { hostname, port, tls } = endpoint;
    let tcp: Deno.TcpConn;
    try {
      tcp = await Deno.connect({ transport: "tcp", hostname, port });
    } catch (error) {
      throw connectFailure(endpoint, error);
    }
    if (tls === undefined) return new DenoConnection(tcp);
    // Connect, then start TLS over the TCP connection: this keeps TCP_NODELAY
    // (which a TLS connection cannot set) and lets the name the certificate
    // is checked against differ from the host connected to.
    tcp.setNoDelay(true);
    let conn: Deno.TlsConn | undefined;
    try {
      conn = await Deno.startTls(tcp, {
        hostname: tls.serverName ?? hostname,
        caCerts: tls.caCerts ?? [],
      });
      // Verify the server now, so that a certificate that does not verify
      // fails the connect instead of the first read.
      await conn.handshake();
    } catch (error) {
      closeQuietly(conn ?? tcp);
      throw connectFailure(endpoint, error, "TLS handshake failed");
    }
    return new DenoConnection(conn);
  },
};
