/**
 * The oneline client: sends commands as lines and reads the response lines.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from "./framing.ts";
import { checkSingleLine, toLine } from "./_framing/text.ts";
import type { Line } from "./framing.ts";
import {
  ConnectError,
  ConnectionClosedError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import {
  checkEndpointOptions,
  checkMilliseconds,
  checkPositiveInteger,
} from "./_util/option_checks.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import type {
  Address,
  ConnectEndpoint,
  Connection,
  TlsClientOptions,
  Transport,
} from "./transport.ts";

/**
 * Options of {@linkcode connect}.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./client.ts";
 * import type { ConnectOptions } from "./client.ts";
 *
 * const options: ConnectOptions = { hostname: "127.0.0.1", port: 5001, timeout: 2000 };
 * const client = await connect(options);
 * client.close();
 * ```
 */
export interface ConnectOptions {
  /**
   * The server's host.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The server's TCP port.
   *
   * @default {5001}
   */
  port?: number;
  /**
   * Connect to this Unix socket path instead of TCP.
   *
   * @default {undefined} (TCP to `hostname` and `port`)
   */
  path?: string;
  /**
   * Connect with TLS (not with `path`), verifying the server's certificate;
   * one that does not verify fails the connect with a `ConnectError`.
   *
   * @default {undefined} (plain TCP)
   */
  tls?: TlsClientOptions;
  /**
   * Milliseconds allowed to connect and to get `pong` back from the
   * handshake, and the default limit of {@linkcode OnelineClient.recv}.
   * `Infinity` waits forever.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Confirm the server with a `ping` → `pong` round trip before resolving.
   *
   * @default {true}
   */
  handshake?: boolean;
  /**
   * Longest response line kept, in bytes; longer ones are cut and flagged.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * The socket layer; the runtime's own by default.
   *
   * @default {undefined} (the runtime's own, from `runtimeTransport()`)
   */
  transport?: Transport;
}

/**
 * Options of one receive.
 *
 * @example Wait at most half a second
 * ```ts ignore
 * import { connect } from "./client.ts";
 *
 * const client = await connect({ port: 5001 });
 * await client.send("slow command");
 * const answer = await client.recv({ timeout: 500 });
 * ```
 */
export interface RecvOptions {
  /**
   * Milliseconds to wait for the line; `Infinity` waits forever. Defaults to
   * the client's `timeout`.
   *
   * @default {undefined} (the client's `timeout`)
   */
  timeout?: number;
}

// Response lines queued unread before the client stops reading the socket,
// so a caller that never calls recv() does not grow memory without bound.
const MAX_QUEUED_LINES = 4096;
const encoder = new TextEncoder();

interface Waiter {
  resolve(line: Line): void;
  reject(error: Error): void;
}

// The `tls` option of a client: an object with, optionally, `caCerts` (PEM strings) and
// `serverName` (a non-empty string).
function checkClientTlsOptions(tls: unknown): void {
  if (tls === undefined) return;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(`options.tls must be an object, got ${tls === null ? "null" : typeof tls}`);
  }
  const { caCerts, serverName } = tls as { caCerts?: unknown; serverName?: unknown };
  if (
    caCerts !== undefined &&
    (!Array.isArray(caCerts) || !caCerts.every((cert) => typeof cert === "string"))
  ) {
    throw new TypeError("options.tls.caCerts must be an array of PEM strings");
  }
  if (serverName !== undefined && (typeof serverName !== "string" || serverName === "")) {
    throw new TypeError(
      `options.tls.serverName must be a non-empty string, got ${String(serverName)}`,
    );
  }
}

function checkConnectOptions(options: ConnectOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("connect() options must be an object");
  }
  checkEndpointOptions(options, 1);
  checkClientTlsOptions(options.tls);
  checkMilliseconds(options.timeout, "options.timeout", true);
  checkPositiveInteger(options.maxLineBytes, "options.maxLineBytes");
}

// Runs `promise` against a timer; the timer is always cleared.
async function withTimeout<T>(
  promise: Promise<T>,
  timeout: number,
  onTimeout: () => Error,
): Promise<T> {
  if (timeout === Infinity) return await promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeout);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

// How connect() makes a client: the constructor stays private to the class.
let construct: (connection: Connection, timeout: number, maxLineBytes: number) => OnelineClient;

/**
 * A connection to a oneline server, as returned by {@linkcode connect}.
 *
 * @example Pipeline commands, then read the answers
 * ```ts ignore
 * import { connect } from "./client.ts";
 *
 * await using client = await connect({ port: 5001 });
 * await client.send("cmd01");
 * await client.send("junk");
 * console.log(await client.recv(), await client.recv()); // "ack" "nak - unknown cmd"
 * ```
 */
export class OnelineClient implements AsyncDisposable, AsyncIterable<string> {
  /** The server's address. */
  readonly remoteAddr: Address;
  readonly #connection: Connection;
  readonly #timeout: number;
  readonly #splitter: LineSplitter;
  readonly #lines: Line[] = [];
  readonly #waiters: Waiter[] = [];
  #closed = false;
  #closeReason = "the connection is closed";
  #writing: Promise<void> = Promise.resolve();
  #resumeReading: (() => void) | undefined;

  /** Use {@linkcode connect}. */
  private constructor(connection: Connection, timeout: number, maxLineBytes: number) {
    this.#connection = connection;
    this.remoteAddr = connection.remoteAddr;
    this.#timeout = timeout;
    this.#splitter = new LineSplitter({ maxLineBytes });
    this.#readLoop();
  }

  static {
    construct = (...args) => new OnelineClient(...args);
  }

  /**
   * Whether the connection is still open.
   *
   * @returns `false` once either side has closed it.
   */
  get connected(): boolean {
    return !this.#closed;
  }

  /**
   * Sends one command; the LF is appended.
   *
   * @param command The command, without LF.
   * @returns A promise that resolves once the command is written.
   * @throws {TypeError} When the command contains CR or LF.
   * @throws {ConnectionClosedError} When the connection is closed.
   */
  send(command: string): Promise<void> {
    try {
      checkSingleLine(command, "command");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new ConnectionClosedError(this.#closeReason));
    const bytes = encoder.encode(command + "\n");
    // Writes go one after another so that concurrent sends never interleave.
    const written = this.#writing.then(() => this.#connection.write(bytes));
    this.#writing = written.catch(() => {});
    return written.catch((error) => {
      throw new ConnectionClosedError("send failed: the connection is gone", { cause: error });
    });
  }

  /**
   * Receives the next response line, with its raw bytes and invalid flag.
   *
   * @param options How long to wait.
   * @returns The line.
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  recvLine(options: RecvOptions = {}): Promise<Line> {
    try {
      checkMilliseconds(options.timeout, "timeout", true);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = options.timeout ?? this.#timeout;
    const line = this.#lines.shift();
    if (line !== undefined) {
      this.#resumeReading?.();
      return Promise.resolve(line);
    }
    if (this.#closed) return Promise.reject(new ConnectionClosedError(this.#closeReason));
    let waiter!: Waiter;
    const arrival = new Promise<Line>((resolve, reject) => waiter = { resolve, reject });
    this.#waiters.push(waiter);
    return withTimeout(arrival, timeout, () => {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      return new TimeoutError(`no response within ${timeout} ms`, timeout);
    });
  }

  /**
   * Receives the next response line.
   *
   * @param options How long to wait.
   * @returns The line's text.
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async recv(options: RecvOptions = {}): Promise<string> {
    return (await this.recvLine(options)).text;
  }

  /**
   * Sends a command and receives one response line.
   *
   * @param command The command, without LF.
   * @param options How long to wait for the response.
   * @returns The response's text.
   */
  async request(command: string, options: RecvOptions = {}): Promise<string> {
    // A bad timeout fails before anything is sent.
    checkMilliseconds(options.timeout, "timeout", true);
    await this.send(command);
    return await this.recv(options);
  }

  /**
   * Checks that the server answers: `ping` must come back as `pong`.
   *
   * @param options How long to wait.
   * @throws {ProtocolError} When the answer is not `pong`.
   */
  async ping(options: RecvOptions = {}): Promise<void> {
    const answer = await this.request("ping", options);
    if (answer !== "pong") {
      throw new ProtocolError(`expected "pong", got ${JSON.stringify(answer)}`);
    }
  }

  /**
   * Says `disconnect` and waits for the server to close the connection, so
   * the next client can be served at once.
   *
   * @param options How long to wait for the server to close.
   */
  async disconnect(options: RecvOptions = {}): Promise<void> {
    await this.#sayGoodbye("disconnect", options);
  }

  /**
   * Says `shutdown`, which stops the server, and waits for it to close the
   * connection.
   *
   * @param options How long to wait for the server to close.
   */
  async shutdown(options: RecvOptions = {}): Promise<void> {
    await this.#sayGoodbye("shutdown", options);
  }

  /** Closes the connection at once; pending receives reject. Idempotent. */
  close(): void {
    this.#connection.close();
    this.#end("the connection was closed by the client");
  }

  /**
   * Closes the connection, for `await using`.
   *
   * @returns A resolved promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Iterates over response lines as they arrive, until the connection closes.
   *
   * @returns The iterator.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      try {
        yield await this.recv({ timeout: Infinity });
      } catch (error) {
        if (error instanceof ConnectionClosedError) return;
        throw error;
      }
    }
  }

  async #sayGoodbye(command: string, options: RecvOptions): Promise<void> {
    await this.send(command);
    // Whatever the server still says before it closes is dropped.
    try {
      for (;;) await this.recvLine(options);
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      this.close();
    }
  }

  async #readLoop(): Promise<void> {
    const deliver = (raw: Uint8Array, tooLong: boolean) => {
      const line = toLine(raw, tooLong);
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(line);
      else this.#lines.push(line);
    };
    for (;;) {
      if (this.#lines.length >= MAX_QUEUED_LINES) {
        await new Promise<void>((resolve) => this.#resumeReading = resolve);
        this.#resumeReading = undefined;
        if (this.#closed) return;
      }
      const chunk = await this.#connection.read();
      if (chunk === null) break;
      this.#splitter.split(chunk, deliver);
    }
    // Everything the server sent is read: nothing more can come, so the socket goes now.
    this.#connection.close();
    this.#end("the server closed the connection");
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#resumeReading?.();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new ConnectionClosedError(reason));
    }
  }
}

/**
 * Connects to a oneline server and, by default, confirms it with a `ping`.
 *
 * @param options Where to connect and how long to wait.
 * @returns The connected client.
 * @throws {ConnectError} When the connection cannot be opened.
 * @throws {ServerBusyError} When the server does not answer the handshake in time (it serves another client).
 * @throws {ProtocolError} When the handshake is answered with something other than `pong`.
 *
 * @example Send a command and read its answer
 * ```ts ignore
 * import { connect } from "./client.ts";
 *
 * await using client = await connect({ port: 5001 });
 * console.log(await client.request("cmd01")); // "ack"
 * await client.disconnect();
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<OnelineClient> {
  checkConnectOptions(options);
  const timeout = options.timeout ?? 5000;
  const endpoint: ConnectEndpoint = options.path !== undefined
    ? { path: options.path, tls: options.tls }
    : { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 5001, tls: options.tls };
  const address = formatAddress(endpoint);
  const transport = options.transport ?? await runtimeTransport();
  const connecting = transport.connect(endpoint);
  let connection: Connection;
  try {
    connection = await withTimeout(
      connecting,
      timeout,
      () => new ConnectError(address, `not connected within ${timeout} ms`),
    );
  } catch (error) {
    // Should the connection come up after all, nobody will use it.
    connecting.then((late) => late.close(), () => {});
    if (error instanceof ConnectError) throw error;
    throw new ConnectError(address, (error as Error).message ?? String(error), { cause: error });
  }
  const client = construct(
    connection,
    timeout,
    options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
  );
  if (options.handshake ?? true) {
    try {
      await client.ping();
    } catch (error) {
      client.close();
      if (error instanceof TimeoutError) throw new ServerBusyError(address, timeout);
      throw error;
    }
  }
  return client;
}
