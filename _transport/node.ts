/**
 * The `node:net` transport (`node:tls` for TLS), used on Bun (and usable on
 * Node.js).
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { setImmediate } from "node:timers";
import { AcceptQueue } from "./accept_queue.ts";
import { ConnectionClosedError } from "../errors.ts";
import { listenOnce, removeSocketFile, socketFileId } from "./listen_once.ts";
import { connectFailure } from "./connect_failure.ts";
import { tlsOverUnixPath } from "../_util/option_checks.ts";
import { PushedConnection } from "./pushed_connection.ts";
import { WAITING_READ_AHEAD_BYTES } from "./read_ahead.ts";
import { closeWaiting } from "./close_waiting.ts";
import { EMPTY_WRITE } from "./departure_probe.ts";
import type { Address, Connection, Endpoint, Listener, ListenLimits } from "../transport.ts";
import type { ListenEndpoint, Transport } from "../transport.ts";

function remoteAddress(socket: net.Socket, path: string | undefined): Address {
  if (path !== undefined) return { transport: "unix", path };
  return { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

// Writes `data` to `socket`; rejects with ConnectionClosedError once it is gone.
function writeTo(socket: net.Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      reject(new ConnectionClosedError("write on a closed connection"));
      return;
    }
    socket.write(data, (error) => {
      if (error) reject(new ConnectionClosedError("the connection is closed", { cause: error }));
      else resolve();
    });
  });
}

class NodeConnection extends PushedConnection {
  readonly remoteAddr: Address;
  readonly #socket: net.Socket;

  /**
   * @param socket The socket, TLS or not.
   * @param path The Unix socket path, for a Unix socket. Only plain TCP
   *   sockets are probed: an empty write tells nothing of a Unix socket, and
   *   an empty TLS write reaches no socket (on Deno it fails a TLS socket
   *   whose peer only ended its side).
   * @param readAheadBytes Bytes read before the first read, at most.
   */
  constructor(socket: net.Socket, path?: string, readAheadBytes?: number) {
    super({
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      probe: path === undefined && !(socket instanceof tls.TLSSocket)
        ? () => writeTo(socket, EMPTY_WRITE)
        : undefined,
    }, readAheadBytes);
    this.#socket = socket;
    this.remoteAddr = remoteAddress(socket, path);
    if (path === undefined) socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.reads.push(chunk));
    socket.on("end", () => this.reads.end());
    // A reset is reported as "error" and then "close": the connection is gone.
    socket.on("close", () => this.reads.gone());
    socket.on("error", () => this.reads.gone());
    // A socket can be gone before it is handed over (node:tls on Bun destroys
    // a queued socket whose peer reset): its events have passed already.
    if (socket.destroyed) this.reads.gone();
    // Accepted paused (pauseOnConnect): reading starts once the events are on.
    socket.resume();
  }

  write(data: Uint8Array): Promise<void> {
    return writeTo(this.#socket, data);
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
    this.reads.gone();
  }
}

class NodeListener implements Listener {
  readonly addr: Address;
  readonly #server: net.Server;
  readonly #path: string | undefined;
  readonly #pathId: string | undefined;
  readonly #limits: ListenLimits;
  readonly #queue: AcceptQueue<NodeConnection>;
  // TLS connections still shaking hands (their TCP sockets), closed with the listener.
  readonly #handshaking = new Set<net.Socket>();
  #closing: Promise<void> | undefined;

  get waiting(): number {
    return this.#queue.length + this.#handshaking.size;
  }

  constructor(server: net.Server, path: string | undefined, limits: ListenLimits) {
    this.#server = server;
    this.#path = path;
    this.#pathId = path === undefined ? undefined : socketFileId(path);
    this.#limits = limits;
    this.#queue = new AcceptQueue(limits, (connection) => connection.close());
    const bound = server.address();
    this.addr = path !== undefined ? { transport: "unix", path } : {
      transport: "tcp",
      hostname: (bound as net.AddressInfo).address,
      port: (bound as net.AddressInfo).port,
    };
    // node:net accepts every connection at once; they wait in the queue until
    // the server asks for the next one, read a little ahead meanwhile so that
    // one that leaves (reset, or ended with nothing sent) is noticed and
    // dropped at once. node:tls shakes hands at once too, and queues only the
    // connections that passed; a failed or slow handshake drops that socket.
    // Waiting connections count against maxWaiting, handshakes included;
    // served ones do not.
    const secure = server instanceof tls.Server;
    server.on("connection", (socket: net.Socket) => {
      // A reset while it waits must not crash the process.
      socket.on("error", () => {});
      if (!secure) return this.#enqueue(socket);
      // A handshake under way counts as waiting: past maxWaiting, none starts.
      if (this.waiting >= limits.maxWaiting) {
        limits.onRefused();
        socket.destroy();
        return;
      }
      this.#handshaking.add(socket);
      socket.once("close", () => this.#handshaking.delete(socket));
    });
    // Failures to accept (such as running out of descriptors) reach the
    // server, as on every transport; node:net accepts on by itself.
    server.on("error", (error) => this.#queue.fail(error));
    if (secure) {
      server.on("tlsClientError", (_error: Error, socket: net.Socket) => socket.destroy());
      server.on("secureConnection", (socket: net.Socket) => {
        socket.on("error", () => {});
        this.#handshook(socket);
        this.#enqueue(socket);
      });
    }
  }

  // A TLS socket finished its handshake: its TCP socket, the one from the
  // same address and port, no longer shakes hands.
  #handshook(secure: net.Socket): void {
    for (const tcp of this.#handshaking) {
      if (tcp.remotePort === secure.remotePort && tcp.remoteAddress === secure.remoteAddress) {
        this.#handshaking.delete(tcp);
        return;
      }
    }
  }

  #enqueue(socket: net.Socket): void {
    const connection = new NodeConnection(socket, this.#path, WAITING_READ_AHEAD_BYTES);
    this.#queue.offer(connection, () => connection.departed());
  }

  accept(): Promise<Connection | null> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    // The listening socket is closed at once, freeing the address; the
    // server's callback would wait for the connections handed out too, which
    // are the server's to close (and one may be the caller's own session).
    this.#server.close();
    const tick = new Promise((resolve) => setImmediate(resolve));
    this.#closing = closeWaiting(this.#queue, this.#limits.closeTimeout, tick);
    for (const socket of this.#handshaking) socket.destroy();
    // Node.js and Bun remove the socket file on close themselves; make sure,
    // but never remove a file that another server has put there since.
    if (this.#path !== undefined) removeSocketFile(this.#path, this.#pathId);
    return this.#closing;
  }
}

function bind(endpoint: ListenEndpoint, limits: ListenLimits): Promise<Listener> {
  // allowHalfOpen: a client that ends its side may still read its answers.
  const server = endpoint.tls === undefined
    ? net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true })
    : tls.createServer({
      cert: endpoint.tls.cert,
      key: endpoint.tls.key,
      noDelay: true,
      allowHalfOpen: true,
      handshakeTimeout: limits.handshakeTimeout,
    });
  const path = "path" in endpoint ? endpoint.path : undefined;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const onListening = () => {
      server.off("error", reject);
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
      return connected(
        net.connect({ path: endpoint.path, allowHalfOpen: true }),
        endpoint,
        "connect",
      );
    }
    const { hostname: host, port, tls: options } = endpoint;
    if (options === undefined) {
      return connected(net.connect({ host, port, allowHalfOpen: true }), endpoint, "connect");
    }
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
      allowHalfOpen: true,
    } as tls.ConnectionOptions);
    return connected(socket, endpoint, "secureConnect");
  },
};
