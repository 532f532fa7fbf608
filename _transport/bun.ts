/**
 * The Bun transport: Bun's own sockets (`Bun.listen`, `Bun.connect`) for
 * plain TCP, the hot path, where they carry more than `node:net` on Bun (the
 * bench's echo workload shows it); TLS and Unix socket paths go through
 * `node.ts`, whose `node:net` and `node:tls` Bun implements.
 *
 * @module
 */

import { AcceptQueue } from "./accept_queue.ts";
import { AddressInUseError, ConnectionClosedError, ListenError } from "../errors.ts";
import { connectFailure } from "./connect_failure.ts";
import { PushedConnection } from "./pushed_connection.ts";
import { WAITING_READ_AHEAD_BYTES } from "./read_ahead.ts";
import type {
  Address,
  ConnectEndpoint,
  Connection,
  ListenEndpoint,
  Listener,
  ListenLimits,
  Transport,
} from "../transport.ts";
import { formatAddress } from "../transport.ts";
import { nodeTransport } from "./node.ts";
import { closePolitely } from "./close_politely.ts";

// The little of Bun's socket API used here, so that the module type-checks
// without Bun's types.
interface BunSocket {
  data: BunConnection | undefined;
  // Undefined for a connection reset before it was opened.
  readonly remoteAddress: string | undefined;
  readonly remotePort?: number;
  write(data: Uint8Array): number;
  shutdown(): void;
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): boolean;
}

interface BunSocketHandler {
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket): void;
  error(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunTcpListener {
  readonly port: number;
  // Fills `out` with the bound address; `hostname` only echoes the name asked for.
  getsockname(out: { address?: string }): void;
  stop(closeActiveConnections?: boolean): void;
}

interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunSocketHandler;
  }): BunTcpListener;
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunSocketHandler;
  }): Promise<BunSocket>;
}

const bun = (globalThis as unknown as { Bun: BunApi }).Bun;

class BunConnection extends PushedConnection {
  readonly remoteAddr: Address;
  readonly #socket: BunSocket;
  // Reads end when the peer ends its side; the socket may still take
  // writes, as a client that ends its side may still read the answers.
  #closed = false;
  // Writes the socket has not taken yet, in call order: the first one's
  // rest goes out on "drain", and the others wait for it.
  readonly #writes: { data: Uint8Array; done: PromiseWithResolvers<void> }[] = [];

  /**
   * @param socket The socket.
   * @param readAheadBytes Bytes read before the first read, at most (see ReadQueue).
   */
  constructor(socket: BunSocket, readAheadBytes?: number) {
    super(socket, readAheadBytes);
    this.#socket = socket;
    socket.data = this;
    socket.setNoDelay(true);
    this.remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "unknown",
      port: socket.remotePort ?? 0,
    };
  }

  /** The socket delivered bytes. */
  push(chunk: Uint8Array): void {
    this.reads.push(chunk);
  }

  /** The peer sent its end of stream. */
  peerEnded(): void {
    this.reads.end();
  }

  /** The socket is closed, by either side, or failed. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.reads.gone();
    for (const write of this.#writes.splice(0)) {
      write.done.reject(new ConnectionClosedError("the connection is closed"));
    }
  }

  /** The socket takes bytes again: the waiting writes go on, in order. */
  drain(): void {
    while (this.#writes.length > 0) {
      const first = this.#writes[0];
      const rest = this.#send(first.data);
      if (rest === null) return this.closed();
      if (rest !== undefined) {
        first.data = rest;
        return;
      }
      this.#writes.shift();
      first.done.resolve();
    }
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ConnectionClosedError("write on a closed connection"));
    }
    let rest: Uint8Array | undefined | null = data;
    if (this.#writes.length === 0) {
      rest = this.#send(data);
      if (rest === undefined) return Promise.resolve();
      if (rest === null) {
        this.closed();
        return Promise.reject(new ConnectionClosedError("the connection is closed"));
      }
    }
    const done = Promise.withResolvers<void>();
    this.#writes.push({ data: rest, done });
    return done.promise;
  }

  // Writes what the socket takes now: `undefined` when it took everything,
  // the rest when it took part, `null` when it is closed.
  #send(data: Uint8Array): Uint8Array | undefined | null {
    const written = this.#socket.write(data);
    if (written < 0) return null;
    return written < data.length ? data.subarray(written) : undefined;
  }

  closeWrite(): Promise<void> {
    if (!this.#closed) this.#socket.shutdown();
    return Promise.resolve();
  }

  close(): void {
    if (!this.#closed) this.#socket.end();
    this.closed();
  }
}

// The same handlers serve listeners and clients: each socket carries its
// connection in `data`.
function handlers(onOpen: (socket: BunSocket) => void): BunSocketHandler {
  return {
    open: onOpen,
    data: (socket, chunk) => socket.data?.push(chunk),
    drain: (socket) => socket.data?.drain(),
    end: (socket) => socket.data?.peerEnded(),
    close: (socket) => socket.data?.closed(),
    error: (socket) => socket.data?.closed(),
  };
}

class BunListener implements Listener {
  readonly addr: Address;
  readonly #listener: BunTcpListener;
  // Bun accepts every connection at once: they wait here, read a little
  // ahead, and leave the queue if they go while they wait.
  readonly #queue: AcceptQueue<BunConnection>;
  readonly #closeTimeout: number;
  #closing: Promise<void> | undefined;

  get waiting(): number {
    return this.#queue.length;
  }

  constructor(endpoint: { hostname: string; port: number }, limits: ListenLimits) {
    this.#queue = new AcceptQueue(limits, (connection) => connection.close());
    this.#closeTimeout = limits.closeTimeout;
    this.#listener = bun.listen({
      hostname: endpoint.hostname,
      port: endpoint.port,
      // A client that ends its side may still read the answers.
      allowHalfOpen: true,
      socket: handlers((socket) => {
        // Read a little ahead while it waits: that is how it is seen to leave.
        const connection = new BunConnection(socket, WAITING_READ_AHEAD_BYTES);
        // Without an address it was reset before it opened: it is gone already.
        if (socket.remoteAddress === undefined || !this.#queue.push(connection)) {
          connection.close();
          return;
        }
        connection.departed().then(() => this.#queue.drop(connection));
      }),
    });
    // The numeric address bound, as Deno and node:net report it ("localhost"
    // binds 127.0.0.1); Bun's own node:net reads it the same way.
    const bound: { address?: string } = {};
    this.#listener.getsockname(bound);
    this.addr = { transport: "tcp", hostname: bound.address!, port: this.#listener.port };
  }

  accept(): Promise<Connection | null> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#listener.stop(false);
    const waiting = this.#queue.close();
    this.#closing = Promise.all(
      waiting.map((connection) => closePolitely(connection, this.#closeTimeout)),
    ).then(() => {});
    return this.#closing;
  }
}

/** The transport over Bun's own TCP sockets, with `node:*` for TLS and Unix paths. */
export const bunTransport: Transport = {
  listen(endpoint: ListenEndpoint, limits: ListenLimits): Promise<Listener> {
    if ("path" in endpoint || endpoint.tls !== undefined) {
      return nodeTransport.listen(endpoint, limits);
    }
    try {
      return Promise.resolve(new BunListener(endpoint, limits));
    } catch (error) {
      const address = formatAddress(endpoint);
      return Promise.reject(
        (error as { code?: string }).code === "EADDRINUSE"
          ? new AddressInUseError(address, { cause: error })
          : new ListenError(address, String(error), { cause: error }),
      );
    }
  },

  async connect(endpoint: ConnectEndpoint): Promise<Connection> {
    if ("path" in endpoint || endpoint.tls !== undefined) return nodeTransport.connect(endpoint);
    let connection: BunConnection | undefined;
    try {
      await bun.connect({
        hostname: endpoint.hostname,
        port: endpoint.port,
        allowHalfOpen: true,
        socket: handlers((socket) => connection = new BunConnection(socket)),
      });
    } catch (error) {
      throw connectFailure(endpoint, error);
    }
    return connection!;
  },
};
