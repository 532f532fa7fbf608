/**
 * The Deno transport: `Deno.listen` and `Deno.connect`.
 *
 * @module
 */

import { AddressInUseError } from "./errors.ts";
import type { Address, Connection, Endpoint, Listener, Transport } from "./transport.ts";
import { formatAddress } from "./transport.ts";

const READ_BUFFER_BYTES = 64 * 1024;

function toAddress(addr: Deno.Addr): Address {
  if ("path" in addr) return { transport: "unix", path: addr.path };
  if ("hostname" in addr) return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  throw new TypeError(`unsupported address transport ${addr.transport}`);
}

class DenoConnection implements Connection {
  readonly remoteAddr: Address;
  readonly #conn: Deno.Conn;
  // One read buffer per connection; each read hands out a copy of just the
  // bytes read, so callers may keep views while the buffer is reused.
  readonly #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.remoteAddr = toAddress(conn.remoteAddr);
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    let n: number | null;
    try {
      n = await this.#conn.read(this.#buffer);
    } catch {
      // Reset, or closed under us: either way the stream is over.
      n = null;
    }
    if (n === null) {
      this.close();
      return null;
    }
    return this.#buffer.slice(0, n);
  }

  async write(data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) {
      written += await this.#conn.write(data.subarray(written));
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

class DenoListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.Listener;
  #closed = false;

  constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.addr = toAddress(listener.addr);
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
  }
}

/** The transport over Deno's own sockets. */
export const denoTransport: Transport = {
  listen(endpoint: Endpoint): Promise<Listener> {
    try {
      const listener = "path" in endpoint
        ? Deno.listen({ transport: "unix", path: endpoint.path })
        : Deno.listen({ transport: "tcp", hostname: endpoint.hostname, port: endpoint.port });
      return Promise.resolve(new DenoListener(listener));
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        return Promise.reject(new AddressInUseError(formatAddress(endpoint), { cause: error }));
      }
      return Promise.reject(error);
    }
  },

  async connect(endpoint: Endpoint): Promise<Connection> {
    const conn = "path" in endpoint
      ? await Deno.connect({ transport: "unix", path: endpoint.path })
      : await Deno.connect({ transport: "tcp", hostname: endpoint.hostname, port: endpoint.port });
    return new DenoConnection(conn);
  },
};
