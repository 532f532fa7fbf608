/**
 * The `node:net` transport, used on Bun (and usable on Node.js).
 *
 * @module
 */

import * as net from "node:net";
import { AddressInUseError } from "./errors.ts";
import type { Address, Connection, Endpoint, Listener, Transport } from "./transport.ts";
import { formatAddress } from "./transport.ts";

// Unread bytes a connection queues before it pauses the socket, so a reader
// that falls behind slows the peer down instead of growing memory.
const QUEUE_HIGH_WATER_BYTES = 256 * 1024;

function remoteAddress(socket: net.Socket, path: string | undefined): Address {
  if (path !== undefined) return { transport: "unix", path };
  return { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

class NodeConnection implements Connection {
  readonly remoteAddr: Address;
  readonly #socket: net.Socket;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #ended = false;
  #waiting: ((chunk: Uint8Array | null) => void) | undefined;

  constructor(socket: net.Socket, path?: string) {
    this.#socket = socket;
    this.remoteAddr = remoteAddress(socket, path);
    if (path === undefined) socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#push(chunk));
    socket.on("end", () => this.#end());
    socket.on("close", () => this.#end());
    // A reset is reported as "error" and then "close": the stream just ends.
    socket.on("error", () => this.#end());
    socket.resume();
  }

  #push(chunk: Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes >= QUEUE_HIGH_WATER_BYTES) this.#socket.pause();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(null);
  }

  read(): Promise<Uint8Array | null> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queuedBytes -= chunk.length;
      if (this.#queue.length === 0) this.#socket.resume();
      return Promise.resolve(chunk);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting = resolve);
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) {
        reject(new Error("write on a closed connection"));
        return;
      }
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  close(): void {
    this.#socket.destroy();
    this.#end();
  }
}

class NodeListener implements Listener {
  readonly addr: Address;
  readonly #server: net.Server;
  readonly #path: string | undefined;
  readonly #backlog: net.Socket[] = [];
  #waiting: ((connection: Connection | null) => void) | undefined;
  #closed = false;

  constructor(server: net.Server, path: string | undefined) {
    this.#server = server;
    this.#path = path;
    const bound = server.address();
    this.addr = path !== undefined ? { transport: "unix", path } : {
      transport: "tcp",
      hostname: (bound as net.AddressInfo).address,
      port: (bound as net.AddressInfo).port,
    };
    // node:net accepts every connection at once; the sockets stay paused in
    // this queue until the server asks for the next one.
    server.on("connection", (socket: net.Socket) => {
      const waiting = this.#waiting;
      if (waiting) {
        this.#waiting = undefined;
        waiting(new NodeConnection(socket, this.#path));
      } else {
        socket.on("error", () => {});
        this.#backlog.push(socket);
      }
    });
  }

  accept(): Promise<Connection | null> {
    if (this.#closed) return Promise.resolve(null);
    const socket = this.#backlog.shift();
    if (socket) return Promise.resolve(new NodeConnection(socket, this.#path));
    return new Promise((resolve) => this.#waiting = resolve);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const socket of this.#backlog.splice(0)) socket.destroy();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(null);
  }
}

/** The transport over `node:net`. */
export const nodeTransport: Transport = {
  listen(endpoint: Endpoint): Promise<Listener> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true });
    const path = "path" in endpoint ? endpoint.path : undefined;
    return new Promise((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        reject(
          error.code === "EADDRINUSE"
            ? new AddressInUseError(formatAddress(endpoint), { cause: error })
            : error,
        );
      });
      const onListening = () => resolve(new NodeListener(server, path));
      if ("path" in endpoint) server.listen({ path: endpoint.path }, onListening);
      else {server.listen(
          { host: endpoint.hostname, port: endpoint.port, exclusive: true },
          onListening,
        );}
    });
  },

  connect(endpoint: Endpoint): Promise<Connection> {
    const path = "path" in endpoint ? endpoint.path : undefined;
    const socket = "path" in endpoint
      ? net.connect({ path: endpoint.path })
      : net.connect({ host: endpoint.hostname, port: endpoint.port });
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new NodeConnection(socket, path));
      });
    });
  },
};
