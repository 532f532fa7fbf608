/**
 * The Bun transport: Bun's own sockets (`Bun.listen`, `Bun.connect`) for
 * plain TCP and Unix socket paths. Over TCP they carry more than `node:net`
 * on Bun (the bench's echo workload shows it); over Unix sockets they tell of
 * a client's end before the listener accepts the next one, which Bun's
 * `node:net` does not during a storm of clients that connect and close. TLS
 * goes through `node.ts`, whose `node:tls` Bun implements.
 *
 * @module
 */

import { AcceptQueue } from "./accept_queue.ts";
import { ConnectionClosedError } from "../errors.ts";
import { connectFailure } from "./connect_failure.ts";
import { PushedConnection } from "./pushed_connection.ts";
import { WAITING_READ_AHEAD_BYTES } from "./read_ahead.ts";
import type {
  Address,
  Connection,
  Endpoint,
  Listener,
  ListenLimits,
  Transport,
} from "../transport.ts";
import { nodeTransport } from "./node.ts";
import { closeWaiting } from "./close_waiting.ts";
import { listenOnce, removeSocketFile, socketFileId } from "./listen_once.ts";

// The little of Bun's socket API used here, so that the module type-checks
// without Bun's types.
interface BunSocket {
  data: BunConnection | undefined;
  // Undefined for a TCP connection reset before it was opened, and for every Unix socket.
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

interface BunListenSocket {
  // Undefined for a Unix socket path.
  readonly port: number | undefined;
  // Fills `out` with the bound TCP address; `hostname` only echoes the name asked for.
  getsockname(out: { address?: string }): void;
  stop(closeActiveConnections?: boolean): void;
}

// Where Bun listens or connects: a TCP host and port, or a Unix socket path.
type BunEndpoint = { hostname: string; port: number } | { unix: string };

type BunSocketOptions = BunEndpoint & { allowHalfOpen: boolean; socket: BunSocketHandler };

interface BunApi {
  listen(options: BunSocketOptions): BunListenSocket;
  connect(options: BunSocketOptions): Promise<BunSocket>;
}

// The endpoint as Bun's options name it.
function bunEndpoint(endpoint: Endpoint): BunEndpoint {
  if ("path" in endpoint) return { unix: endpoint.path };
  return { hostname: endpoint.hostname, port: endpoint.port };
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
   * @param path The Unix socket path, for a Unix socket.
   * @param readAheadBytes Bytes read before the first read, at most (see ReadQueue).
   */
  constructor(socket: BunSocket, path: string | undefined, readAheadBytes?: number) {
    super(socket, readAheadBytes);
    this.#socket = socket;
    socket.data = this;
    if (path !== undefined) {
      this.remoteAddr = { transport: "unix", path };
      return;
    }
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
  readonly #listener: BunListenSocket;
  // The socket file's identity, for a Unix socket path: removed on close only if still the same.
  readonly #pathId: string | undefined;
  // Bun accepts every connection at once: they wait here, read a little
  // ahead, and leave the queue if they go while they wait.
  readonly #queue: AcceptQueue<BunConnection>;
  readonly #closeTimeout: number;
  #closing: Promise<void> | undefined;

  get waiting(): number {
    return this.#queue.length;
  }

  constructor(endpoint: Endpoint, limits: ListenLimits) {
    this.#queue = new AcceptQueue(limits, (connection) => connection.close());
    this.#closeTimeout = limits.closeTimeout;
    const path = "path" in endpoint ? endpoint.path : undefined;
    this.#listener = bun.listen({
      ...bunEndpoint(endpoint),
      // A client that ends its side may still read the answers.
      allowHalfOpen: true,
      socket: handlers((socket) => {
        // Read a little ahead while it waits: that is how it is seen to leave.
        const connection = new BunConnection(socket, path, WAITING_READ_AHEAD_BYTES);
        // A TCP socket without an address was reset before it opened: it is gone already.
        if (path === undefined && socket.remoteAddress === undefined) {
          connection.close();
          return;
        }
        this.#queue.offer(connection, () => connection.departed());
      }),
    });
    this.#pathId = path === undefined ? undefined : socketFileId(path);
    if (path !== undefined) {
      this.addr = { transport: "unix", path };
      return;
    }
    // The numeric address bound, as Deno and node:net report it ("localhost"
    // binds 127.0.0.1); Bun's own node:net reads it the same way.
    const bound: { address?: string } = {};
    this.#listener.getsockname(bound);
    this.addr = { transport: "tcp", hostname: bound.address!, port: this.#listener.port! };
  }

  accept(): Promise<Connection | null> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#listener.stop(false);
    // Bun removes the socket file on stop itself; make sure, but never
    // remove a file that another server has put there since.
    if (this.addr.transport === "unix") removeSocketFile(this.addr.path, this.#pathId);
    this.#closing = closeWaiting(this.#queue, this.#closeTimeout);
    return this.#closing;
  }
}

/** The transport over Bun's own sockets, TCP and Unix, with `node:tls` for TLS. */
export const bunTransport: Transport = {
  listen(endpoint, limits): Promise<Listener> {
    if (endpoint.tls !== undefined) return nodeTransport.listen(endpoint, limits);
    return listenOnce(
      endpoint,
      () => new BunListener(endpoint, limits),
      (error) => (error as { code?: string }).code === "EADDRINUSE",
    );
  },

  async connect(endpoint): Promise<Connection> {
    if (endpoint.tls !== undefined) return nodeTransport.connect(endpoint);
    const path = "path" in endpoint ? endpoint.path : undefined;
    let connection: BunConnection | undefined;
    try {
      await bun.connect({
        ...bunEndpoint(endpoint),
        allowHalfOpen: true,
        socket: handlers((socket) => connection = new BunConnection(socket, path)),
      });
    } catch (error) {
      throw connectFailure(endpoint, error);
    }
    return connection!;
  },
};
