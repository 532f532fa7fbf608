/**
 * The `node:net` transport (`node:tls` for TLS), used on Bun (and usable on
 * Node.js).
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { AcceptQueue } from "./accept_queue.ts";
import { ConnectionClosedError } from "../errors.ts";
import { listenOnce, removeSocketFile, socketFileId } from "./listen_once.ts";
import { connectFailure } from "./connect_failure.ts";
import { tlsOverUnixPath } from "../_util/option_checks.ts";
import { ReadQueue } from "./read_queue.ts";
import type { Address, Connection, Endpoint, Listener, ListenLimits } from "../transport.ts";
import type { ListenEndpoint, Transport } from "../transport.ts";

// Bytes read from a connection while it waits its turn, at most (give or take
// one chunk): reading is how a socket learns that its peer left.
const WAITING_READ_AHEAD_BYTES = 4 * 1024;

function remoteAddress(socket: net.Socket, path: string | undefined): Address {
  if (path !== undefined) return { transport: "unix", path };
  return { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

class NodeConnection implements Connection {
  readonly remoteAddr: Address;
  readonly #socket: net.Socket;
  readonly #reads: ReadQueue;

  constructor(socket: net.Socket, path?: string, readAheadBytes?: number) {
    this.#socket = socket;
    this.#reads = new ReadQueue(socket, readAheadBytes);
    this.remoteAddr = remoteAddress(socket, path);
    if (path === undefined) socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#reads.push(chunk));
    socket.on("end", () => this.#reads.end());
    // A reset is reported as "error" and then "close": the connection is gone.
    socket.on("close", () => this.#reads.gone());
    socket.on("error", () => this.#reads.gone());
    // A socket can be gone before it is handed over (node:tls on Bun destroys
    // a queued socket whose peer reset): its events have passed already.
    if (socket.destroyed) this.#reads.gone();
    // Accepted paused (pauseOnConnect): reading starts once the events are on.
    socket.resume();
  }

  read(): Promise<Uint8Array | null> {
    return this.#reads.read();
  }

  watch(): Promise<void> {
    return this.#reads.watch();
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) {
        reject(new ConnectionClosedError("write on a closed connection"));
        return;
      }
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  closeWrite(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableFinished) return Promise.resolve();
    return new Promise((resolve) => {
      // "close" too: a reset while ending never reports "finish".
      socket.once("close", () => resolve());
      socket.end(() => resolve());
    });
  }

  close(): void {
    this.#socket.destroy();
    this.#reads.gone();
  }
}

class NodeListener implements Listener {
  readonly addr: Address;
  readonly #server: net.Server;
  readonly #path: string | undefined;
  readonly #pathId: string | undefined;
  readonly #queue: AcceptQueue<NodeConnection>;
  // TLS connections still shaking hands (their TCP sockets), closed with the listener.
  readonly #handshaking = new Set<net.Socket>();
  readonly #closed = Promise.withResolvers<void>();

  get waiting(): number {
    return this.#queue.length + this.#handshaking.size;
  }

  constructor(server: net.Server, path: string | undefined, limits: ListenLimits) {
    this.#server = server;
    this.#path = path;
    this.#pathId = path === undefined ? undefined : socketFileId(path);
    this.#queue = new AcceptQueue(limits);
    const bound = server.address();
    this.addr = path !== undefined ? { transport: "unix", path } : {
      transport: "tcp",
      hostname: (bound as net.AddressInfo).address,
      port: (bound as net.AddressInfo).port,
    };
    // node:net accepts every connection at once; they wait in the queue until
    // the server asks for the next one, read a little ahead meanwhile so that
    // one that leaves (reset or closed) is noticed and dropped at once.
    // node:tls shakes hands at once too, and queues only the connections
    // that passed; a failed or slow handshake drops that socket.
    // Every connection counts against maxWaiting from its accept to its
    // close, whether shaking hands, waiting or served.
    const secure = server instanceof tls.Server;
    let open = 0;
    server.on("connection", (socket: net.Socket) => {
      // A reset while it waits must not crash the process.
      socket.on("error", () => {});
      if (open > limits.maxWaiting) {
        limits.onRefused();
        socket.destroy();
        return;
      }
      open++;
      socket.once("close", () => open--);
      if (!secure) return this.#enqueue(socket);
      this.#handshaking.add(socket);
      socket.once("close", () => this.#handshaking.delete(socket));
    });
    if (secure) {
      server.on("tlsClientError", (_error: Error, socket: net.Socket) => socket.destroy());
      server.on("secureConnection", (socket: net.Socket) => {
        socket.on("error", () => {});
        // The TCP socket under it: the same object on Bun, `_parent` on Node.js and Deno.
        this.#handshaking.delete((socket as { _parent?: net.Socket })._parent ?? socket);
        this.#enqueue(socket);
      });
    }
  }

  #enqueue(socket: net.Socket): void {
    const connection = new NodeConnection(socket, this.#path, WAITING_READ_AHEAD_BYTES);
    if (!this.#queue.push(connection)) connection.close();
    else connection.watch().then(() => this.#queue.remove(connection));
  }

  accept(): Promise<Connection | null> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#queue.closed) return this.#closed.promise;
    // Resolves once every connection it accepted is closed: the server closes those it took.
    this.#server.close(() => this.#closed.resolve());
    for (const connection of this.#queue.close()) connection.close();
    for (const socket of this.#handshaking) socket.destroy();
    // Node.js and Bun remove the socket file on close themselves; make sure,
    // but never remove a file that another server has put there since.
    if (this.#path !== undefined) removeSocketFile(this.#path, this.#pathId);
    return this.#closed.promise;
  }
}

function bind(endpoint: ListenEndpoint, limits: ListenLimits): Promise<Listener> {
  const server = endpoint.tls === undefined
    ? net.createServer({ pauseOnConnect: true, noDelay: true })
    : tls.createServer({
      cert: endpoint.tls.cert,
      key: endpoint.tls.key,
      noDelay: true,
      handshakeTimeout: limits.handshakeTimeout,
    });
  const path = "path" in endpoint ? endpoint.path : undefined;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const onListening = () => {
      server.off("error", reject);
      // Later errors (such as running out of file descriptors while
      // accepting) must not crash the process; the server accepts on.
      server.on("error", () => {});
      resolve(new NodeListener(server, path, limits));
    };
    if ("path" in endpoint) server.listen({ path: endpoint.path }, onListening);
    else {
      server.listen({ host: endpoint.hostname, port: endpoint.port, exclusive: true }, onListening);
    }
  });
}

// Settles once `socket` has connected (and, for TLS, verified the server).
function connected(
  socket: net.Socket,
  endpoint: Endpoint,
  event: "connect" | "secureConnect",
): Promise<Connection> {
  const path = "path" in endpoint ? endpoint.path : undefined;
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.destroy();
      // An error without a system call is TLS's own (such as a certificate that does not verify).
      const tlsFailure = event === "secureConnect" && !(error as NodeJS.ErrnoException).syscall;
      reject(connectFailure(endpoint, error, tlsFailure ? "TLS handshake failed" : undefined));
    };
    socket.once("error", onError);
    socket.once(event, () => {
      socket.off("error", onError);
      resolve(new NodeConnection(socket, path));
    });
  });
}

/** The transport over `node:net` and `node:tls`. */
export const nodeTransport: Transport = {
  listen(endpoint, limits): Promise<Listener> {
    if ("path" in endpoint && endpoint.tls !== undefined) return Promise.reject(tlsOverUnixPath());
    return listenOnce(
      endpoint,
      () => bind(endpoint, limits),
      (error) => (error as NodeJS.ErrnoException).code === "EADDRINUSE",
    );
  },

  connect(endpoint): Promise<Connection> {
    if ("path" in endpoint) {
      if (endpoint.tls !== undefined) return Promise.reject(tlsOverUnixPath());
      return connected(net.connect({ path: endpoint.path }), endpoint, "connect");
    }
    const { hostname: host, port, tls: options } = endpoint;
    if (options === undefined) return connected(net.connect({ host, port }), endpoint, "connect");
    const name = options.serverName ?? host;
    const socket = tls.connect({
      host,
      port,
      // Trusted in addition to the usual roots, as on Deno.
      ca: [...tls.rootCertificates, ...(options.caCerts ?? [])],
      // SNI carries a host name, never an IP address; the name verified is
      // the server name, or else the host.
      servername: net.isIP(name) ? undefined : name,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
      rejectUnauthorized: true,
    });
    return connected(socket, endpoint, "secureConnect");
  },
};
