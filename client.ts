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
  checkBoolean,
  checkEndpointOptions,
  checkKnownKeys,
  checkMilliseconds,
  checkPositiveInteger,
  describeValue,
} from "./_util/option_checks.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import { bounded } from "./_util/bounded.ts";
import type {
  Address,
  ConnectEndpoint,
  Connection,
  TlsClientOptions,
  Transport,
} from "./transport.ts";

/** What ends a line: LF, CR LF, or CR alone (for instruments that are not oneline servers). */
export type Terminator = "\n" | "\r\n" | "\r";

/**
 * Options of {@linkcode connect}.
 *
 * @example
 * ```ts
 * import { connect } from "./client.ts";
 * import type { ConnectOptions } from "./client.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ack" });
 * const options: ConnectOptions = { hostname: "127.0.0.1", port: server.port, timeout: 2000 };
 * const client = await connect(options);
 * assert.equal(client.timeout, 2000);
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
   * Connect to this Unix socket path instead of TCP (not with `hostname`,
   * `port` or `tls`: that is a `TypeError`).
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
   * handshake, and the default limit of every receive (settable later as
   * {@linkcode OnelineClient.timeout}). `Infinity` waits forever.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Keep trying to connect, for a server that is still starting: a connect
   * that fails is tried again every `interval` ms until `until` ms have
   * passed (each try bounded by `timeout`). The handshake is not retried.
   *
   * @default {undefined} (one try)
   */
  retry?: { until: number; interval?: number };
  /**
   * Confirm the server with a `ping` → `pong` round trip before resolving.
   * Turn it off to talk to a device that is not a oneline server.
   *
   * @default {true}
   */
  handshake?: boolean;
  /**
   * Say `disconnect` when the client closes ({@linkcode OnelineClient.close},
   * `await using`), so that a server of the original kind, which needs it,
   * can serve the next client.
   *
   * @default {true} with the handshake, `false` without
   */
  disconnectOnClose?: boolean;
  /**
   * What ends each response line: `"\n"` (a CR before it is dropped),
   * `"\r\n"` (a bare LF ends a line too) or `"\r"`.
   *
   * @default {"\n"}
   */
  readTerminator?: Terminator;
  /**
   * What the client appends to each command.
   *
   * @default {"\n"}
   */
  writeTerminator?: Terminator;
  /**
   * Longest response line kept, in bytes; longer ones are cut and flagged.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Response bytes kept unread before the client stops reading the socket
   * (the server then waits for it), so a server that floods a client that
   * does not read costs about this much memory.
   *
   * @default {1048576}
   */
  maxQueuedBytes?: number;
  /**
   * The socket layer; the runtime's own by default.
   *
   * @default {undefined} (the runtime's own, from `runtimeTransport()`)
   */
  transport?: Transport;
}

/**
 * Options of one receive, request or query.
 *
 * @example Wait at most half a second, or until the user cancels
 * ```ts
 * import { connect } from "./client.ts";
 * import { TimeoutError } from "./errors.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "21.5" });
 * await using client = await connect({ port: server.port });
 * const cancel = new AbortController();
 * const answer = await client.request("measure", { timeout: 500, signal: cancel.signal });
 * assert.equal(answer, "21.5");
 * // Nothing was asked, so nothing comes.
 * await assert.rejects(client.recv({ timeout: 100 }), TimeoutError);
 * const waiting = client.recv({ signal: cancel.signal });
 * cancel.abort(new Error("the user cancelled"));
 * await assert.rejects(waiting, /the user cancelled/);
 * ```
 */
export interface RecvOptions {
  /**
   * Milliseconds to wait; `Infinity` waits forever. For a request or a
   * query, the limit of the whole exchange.
   *
   * @default {undefined} (the client's `timeout`)
   */
  timeout?: number;
  /**
   * Gives up when aborted, rejecting with the signal's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode OnelineClient.query}.
 *
 * @example
 * ```ts
 * import { connect } from "./client.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const handler = (command: string) =>
 *   command === "status" ? ["busy", "temperature 21.5"] : ["line 1", "line 2", "line 3"];
 * await using server = await serve({ port: 0, logger: null, handler });
 * await using client = await connect({ port: server.port });
 * const lines = await client.query("status", { timeout: 1000 });
 * assert.deepEqual(lines, ["busy", "temperature 21.5"]);
 * const three = await client.query("dump", { lines: 3 });
 * assert.deepEqual(three, ["line 1", "line 2", "line 3"]);
 * ```
 */
export interface QueryOptions extends RecvOptions {
  /**
   * Read exactly this many lines instead of fencing the answer with `ping`:
   * for a command whose own answer may be `pong`, or a server without the
   * `ping` built-in.
   *
   * @default {undefined} (fenced: every line up to the `pong` of a `ping` sent after the command)
   */
  lines?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
const DEFAULT_RETRY_INTERVAL_MS = 100;
// How long a closing client waits for the server to close after `disconnect`.
const LEAVE_MS = 1000;
// What a queued line costs beyond its bytes and text, roughly (objects, array slot).
const LINE_OVERHEAD_BYTES = 64;
const TERMINATORS: readonly string[] = ["\n", "\r\n", "\r"];
const CR = 0x0d;
const LF = 0x0a;
const encoder = new TextEncoder();

interface Waiter {
  resolve(line: Line): void;
  reject(error: unknown): void;
}

interface ClientSettings {
  timeout: number;
  maxLineBytes: number;
  maxQueuedBytes: number;
  readTerminator: Terminator;
  writeTerminator: Terminator;
  disconnectOnClose: boolean;
}

// Every option of connect() and of its `tls` and `retry`, and of one receive,
// request or query, so that a misspelt one is refused; `satisfies` keeps each
// list in step with its type.
const CONNECT_OPTIONS = {
  hostname: true,
  port: true,
  path: true,
  tls: true,
  timeout: true,
  retry: true,
  handshake: true,
  disconnectOnClose: true,
  readTerminator: true,
  writeTerminator: true,
  maxLineBytes: true,
  maxQueuedBytes: true,
  transport: true,
} as const satisfies Record<keyof ConnectOptions, true>;
const TLS_OPTIONS = { caCerts: true, serverName: true } as const satisfies Record<
  keyof TlsClientOptions,
  true
>;
const RETRY_OPTIONS = { until: true, interval: true } as const satisfies Record<
  keyof NonNullable<ConnectOptions["retry"]>,
  true
>;
const QUERY_OPTIONS = { timeout: true, signal: true, lines: true } as const satisfies Record<
  keyof QueryOptions,
  true
>;

// The `tls` option of a client: an object with, optionally, `caCerts` (PEM strings) and
// `serverName` (a non-empty string).
function checkClientTlsOptions(tls: unknown): void {
  if (tls === undefined) return;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(`options.tls must be an object, got ${describeValue(tls)}`);
  }
  checkKnownKeys(tls, TLS_OPTIONS, "options.tls");
  const { caCerts, serverName } = tls as { caCerts?: unknown; serverName?: unknown };
  if (
    caCerts !== undefined &&
    (!Array.isArray(caCerts) || !caCerts.every((cert) => typeof cert === "string"))
  ) {
    throw new TypeError("options.tls.caCerts must be an array of PEM strings");
  }
  if (serverName !== undefined && (typeof serverName !== "string" || serverName === "")) {
    throw new TypeError(
      `options.tls.serverName must be a non-empty string, got ${describeValue(serverName)}`,
    );
  }
}

function checkTerminator(value: unknown, name: string): void {
  if (value !== undefined && !TERMINATORS.includes(value as string)) {
    throw new TypeError(`${name} must be "\\n", "\\r\\n" or "\\r", got ${describeValue(value)}`);
  }
}

function checkConnectOptions(options: ConnectOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`connect() options must be an object, got ${describeValue(options)}`);
  }
  checkKnownKeys(options, CONNECT_OPTIONS, "options");
  checkEndpointOptions(options, 1);
  checkClientTlsOptions(options.tls);
  checkMilliseconds(options.timeout, "options.timeout", true);
  checkBoolean(options.handshake, "options.handshake");
  checkBoolean(options.disconnectOnClose, "options.disconnectOnClose");
  checkPositiveInteger(options.maxLineBytes, "options.maxLineBytes");
  checkPositiveInteger(options.maxQueuedBytes, "options.maxQueuedBytes");
  checkTerminator(options.readTerminator, "options.readTerminator");
  checkTerminator(options.writeTerminator, "options.writeTerminator");
  if (options.retry !== undefined) {
    if (typeof options.retry !== "object" || options.retry === null) {
      throw new TypeError(
        `options.retry must be an object like { until: 5000 }, got ${describeValue(options.retry)}`,
      );
    }
    checkKnownKeys(options.retry, RETRY_OPTIONS, "options.retry");
    checkMilliseconds(options.retry.until, "options.retry.until", false);
    if (options.retry.until === undefined) throw new TypeError("options.retry.until is needed");
    checkMilliseconds(options.retry.interval, "options.retry.interval", false);
  }
}

// Checks the options of one receive, request or query.
function checkRecvOptions(options: QueryOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  checkKnownKeys(options, QUERY_OPTIONS, "options");
  checkMilliseconds(options.timeout, "options.timeout", true);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(
      `options.signal must be an AbortSignal, got ${describeValue(options.signal)}`,
    );
  }
  if (options.lines !== undefined) checkPositiveInteger(options.lines, "options.lines");
}

// How connect() makes a client: the constructor stays private to the class.
let construct: (connection: Connection, settings: ClientSettings) => OnelineClient;

/**
 * A connection to a oneline server, as returned by {@linkcode connect}.
 *
 * {@linkcode OnelineClient.request} and {@linkcode OnelineClient.query} pair
 * each command with exactly its answer: the command goes out with a `ping`
 * after it, and the answer is every line up to that `pong`. An answer that
 * comes late, after its call gave up, is dropped when the next request or
 * query catches up, so it can never be taken for the answer to another
 * command. `send` and `recv` are the raw lines, for callers that pair them
 * themselves; `clear()` resynchronises after them.
 *
 * @example Pipeline commands, then read the answers
 * ```ts
 * import { connect } from "./client.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const handler = (command: string) => command === "cmd01" ? "ack" : "nak - unknown cmd";
 * await using server = await serve({ port: 0, logger: null, handler });
 * await using client = await connect({ port: server.port });
 * await client.send("cmd01");
 * await client.send("junk");
 * assert.equal(await client.recv(), "ack");
 * assert.equal(await client.recv(), "nak - unknown cmd");
 * await client.clear(); // in step again: the next request gets its own answer
 * assert.equal(await client.request("cmd01"), "ack");
 * ```
 */
export class OnelineClient implements AsyncDisposable, AsyncIterable<string> {
  /** The server's address. */
  readonly remoteAddr: Address;
  readonly #connection: Connection;
  readonly #settings: ClientSettings;
  #timeout: number;
  readonly #splitter: LineSplitter;
  readonly #lines: Line[] = [];
  #queuedBytes = 0;
  readonly #waiters: Waiter[] = [];
  #closed = false;
  #closeReason = "the connection is closed";
  #writing: Promise<void> = Promise.resolve();
  #resumeReading: (() => void) | undefined;
  // `ping` fences sent by queries that gave up (a ping is its own fence):
  // their `pong`, and every line before it, belong to no caller and are
  // dropped by the next query.
  #fencesOwed = 0;
  // A call that read a known number of lines gave up: how many are still to
  // come is unknown, so the next query resynchronises with clear() first.
  #outOfStep = false;
  // Whether the client has said `disconnect` or `shutdown` already.
  #saidGoodbye = false;
  #leaving: Promise<void> | undefined;
  // The last request, query or clear: the next one starts after it.
  #turn: Promise<void> = Promise.resolve();
  // The read loop, which ends when the server closes (or the client does).
  readonly #reading: Promise<void>;

  /** Use {@linkcode connect}. */
  private constructor(connection: Connection, settings: ClientSettings) {
    this.#connection = connection;
    this.remoteAddr = connection.remoteAddr;
    this.#settings = settings;
    this.#timeout = settings.timeout;
    this.#splitter = new LineSplitter({ maxLineBytes: settings.maxLineBytes });
    this.#reading = this.#readLoop();
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
   * The default limit of every receive, request and query, in milliseconds.
   *
   * @returns The limit.
   */
  get timeout(): number {
    return this.#timeout;
  }

  /**
   * Sets the default limit.
   *
   * @param ms Milliseconds, positive; `Infinity` waits forever.
   * @throws {TypeError | RangeError} When it is not a positive number.
   */
  set timeout(ms: number) {
    checkMilliseconds(ms, "timeout", true);
    this.#timeout = ms;
  }

  /**
   * Sends one command; the write terminator is appended. Nothing pairs it
   * with its answer: read that with {@linkcode OnelineClient.recv}, or use
   * {@linkcode OnelineClient.request}.
   *
   * @param command The command, without its terminator.
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
    return this.#write(command + this.#settings.writeTerminator);
  }

  // Writes text, one write after another so that concurrent sends never interleave.
  #write(text: string): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError(this.#closeReason));
    const bytes = encoder.encode(text);
    const written = this.#writing.then(() => this.#connection.write(bytes));
    this.#writing = written.catch(() => {});
    return written.catch((error) => {
      throw new ConnectionClosedError("send failed: the connection is gone", { cause: error });
    });
  }

  /**
   * Receives the next response line, with its raw bytes and invalid flag.
   *
   * @param options How long to wait, and a signal to give up on.
   * @returns The line.
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  recvLine(options: RecvOptions = {}): Promise<Line> {
    try {
      checkRecvOptions(options);
      options.signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    const line = this.#lines.shift();
    if (line !== undefined) {
      this.#queuedBytes -= lineCost(line);
      if (this.#queuedBytes < this.#settings.maxQueuedBytes) this.#resumeReading?.();
      return Promise.resolve(line);
    }
    if (this.#closed) return Promise.reject(new ConnectionClosedError(this.#closeReason));
    const timeout = options.timeout ?? this.#timeout;
    let waiter!: Waiter;
    const arrival = new Promise<Line>((resolve, reject) => waiter = { resolve, reject });
    this.#waiters.push(waiter);
    return bounded(arrival, timeout, options.signal, () => {
      return new TimeoutError(`no response within ${timeout} ms`, timeout);
    }).catch((error) => {
      const index = this.#waiters.indexOf(waiter);
      if (index !== -1) this.#waiters.splice(index, 1);
      throw error;
    });
  }

  /**
   * Receives the next response line.
   *
   * @param options How long to wait, and a signal to give up on.
   * @returns The line's text.
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async recv(options: RecvOptions = {}): Promise<string> {
    return (await this.recvLine(options)).text;
  }

  /**
   * Sends a command and receives its answer: exactly one line (see
   * {@linkcode OnelineClient.query} for how the answer is told apart).
   *
   * @param command The command, without its terminator.
   * @param options How long the whole exchange may take, and a signal to give up on.
   * @returns The answer's text.
   * @throws {ProtocolError} When the command answered no line or several.
   * @throws {TimeoutError} When the answer is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async request(command: string, options: QueryOptions = {}): Promise<string> {
    const lines = await this.query(command, options);
    if (lines.length !== 1) {
      throw new ProtocolError(
        `${JSON.stringify(command)} was answered with ${lines.length} lines, not one: ` +
          `${JSON.stringify(lines)} (query() returns them all)`,
      );
    }
    return lines[0];
  }

  /**
   * Sends a command and receives every line of its answer. The command goes
   * out with a `ping` after it, in one write, and the answer is every line
   * before that `pong`: exact for any number of lines, in one round trip.
   * A query that gives up (timeout, abort) leaves its answer to be dropped
   * by the next query, which catches up first.
   *
   * The one ambiguity: a command whose own answer is the line `pong` ends
   * the answer early. For such a command, pass `lines` (the number of lines
   * it answers): the answer is then read without a fence. `query("ping")`
   * does that by itself.
   *
   * @param command The command, without its terminator.
   * @param options How long the whole exchange may take, a signal to give up
   *   on, and `lines` to read a known number of lines without a fence.
   * @returns The answer's lines, as text.
   * @throws {TimeoutError} When the answer is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async query(command: string, options: QueryOptions = {}): Promise<string[]> {
    checkRecvOptions(options);
    checkSingleLine(command, "command");
    return await this.#inTurn(() => this.#query(command, options), options);
  }

  async #query(command: string, options: QueryOptions): Promise<string[]> {
    const deadline = this.#deadline(options);
    const fenced = options.lines === undefined && command !== "ping";
    const count = options.lines ?? 1;
    await this.#catchUp(deadline, options.signal);
    const terminator = this.#settings.writeTerminator;
    await this.#write(command + terminator + (fenced ? "ping" + terminator : ""));
    const lines: string[] = [];
    try {
      while (fenced || lines.length < count) {
        const line = await this.recvLine({ ...deadline.left(), signal: options.signal });
        if (fenced && isPong(line)) return lines;
        lines.push(line.text);
      }
    } catch (error) {
      // The rest of the answer is dropped by the next query: up to its fence (a ping's own pong
      // is one), or up to a fence of the next query's own when no fence was sent.
      if (fenced || command === "ping") this.#fencesOwed++;
      else this.#outOfStep = true;
      throw error;
    }
    return lines;
  }

  /**
   * Resynchronises after raw sends and receives: sends `ping` and drops
   * every line until its `pong` (and those owed to queries that gave up).
   *
   * @param options How long it may take, and a signal to give up on.
   * @throws {TimeoutError} When the `pong` does not come in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async clear(options: RecvOptions = {}): Promise<void> {
    checkRecvOptions(options);
    this.#outOfStep = true;
    const deadline = this.#deadline(options);
    await this.#inTurn(() => this.#catchUp(deadline, options.signal), options);
  }

  // Runs one exchange after the others, so that concurrent queries never take each other's lines.
  // A receive that times out names the time it had left: the exchange's error names its limit.
  #inTurn<T>(exchange: () => Promise<T>, options: RecvOptions): Promise<T> {
    const limit = options.timeout ?? this.#timeout;
    const result = this.#turn.then(exchange).catch((error) => {
      if (!(error instanceof TimeoutError)) throw error;
      throw new TimeoutError(`no response within ${limit} ms`, limit, { cause: error });
    });
    this.#turn = result.then(() => {}, () => {});
    return result;
  }

  // Drops what earlier calls left unread: every line up to each owed fence.
  async #catchUp(deadline: Deadline, signal: AbortSignal | undefined): Promise<void> {
    if (this.#outOfStep) {
      this.#outOfStep = false;
      await this.#write("ping" + this.#settings.writeTerminator);
      this.#fencesOwed++;
    }
    while (this.#fencesOwed > 0) {
      const line = await this.recvLine({ ...deadline.left(), signal });
      if (isPong(line)) this.#fencesOwed--;
    }
  }

  #deadline(options: RecvOptions): Deadline {
    const timeout = options.timeout ?? this.#timeout;
    const end = performance.now() + timeout;
    return {
      left: () => ({
        timeout: timeout === Infinity ? Infinity : Math.max(1, end - performance.now()),
      }),
    };
  }

  /**
   * Checks that the server answers: `ping` must come back as `pong`.
   *
   * @param options How long to wait, and a signal to give up on.
   * @throws {ProtocolError} When the answer is not `pong`.
   * @throws {TimeoutError} When no answer comes in time.
   */
  async ping(options: RecvOptions = {}): Promise<void> {
    const [answer] = await this.query("ping", { ...options, lines: 1 });
    if (answer !== "pong") {
      throw new ProtocolError(`expected "pong" to "ping", got ${JSON.stringify(answer)}`);
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

  /**
   * Closes the client at once: pending receives reject, and nothing more
   * can be sent. The connection itself leaves politely in the background:
   * the client says `disconnect` (unless told not to, or it said it already),
   * ends its side, and closes once the server has, within a second at most.
   * Idempotent; use `await using` (or {@linkcode OnelineClient.disconnect})
   * to wait for the server.
   */
  close(): void {
    this.#leave();
  }

  /**
   * Closes the client, for `await using`, and waits (a second at most) for
   * the server to close the connection.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#leave();
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

  // Ends the client now and its connection politely, bounded by LEAVE_MS.
  #leave(): Promise<void> {
    if (this.#leaving !== undefined) return this.#leaving;
    const polite = this.#settings.disconnectOnClose && !this.#saidGoodbye && !this.#closed;
    const goodbye = polite ? this.#write("disconnect" + this.#settings.writeTerminator) : undefined;
    this.#end("the connection was closed by the client");
    // Unread lines are nobody's now; the socket is still read, and dropped, until the server closes.
    this.#lines.length = 0;
    this.#queuedBytes = 0;
    const connection = this.#connection;
    const forced = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LEAVE_MS);
      this.#reading.finally(() => clearTimeout(timer)).then(resolve);
    });
    this.#leaving = (async () => {
      await goodbye?.catch(() => {});
      await this.#writing;
      await connection.closeWrite();
      await forced;
      connection.close();
    })();
    return this.#leaving;
  }

  async #sayGoodbye(command: string, options: RecvOptions): Promise<void> {
    // Said as soon as it is on its way: a close() meanwhile must not say it again.
    this.#saidGoodbye = true;
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
      else if (!this.#closed) {
        this.#lines.push(line);
        this.#queuedBytes += lineCost(line);
      }
    };
    const crOnly = this.#settings.readTerminator === "\r";
    for (;;) {
      // A caller that does not read stops the client reading: the server then waits for it.
      if (this.#queuedBytes >= this.#settings.maxQueuedBytes) {
        await new Promise<void>((resolve) => this.#resumeReading = resolve);
        this.#resumeReading = undefined;
      }
      const chunk = await this.#connection.read();
      if (chunk === null) break;
      // With CR as the terminator, each CR ends a line: as an LF would.
      this.#splitter.split(crOnly ? chunk.map((b) => b === CR ? LF : b) : chunk, deliver);
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

interface Deadline {
  // The time left, as the options of one receive.
  left(): { timeout: number };
}

function isPong(line: Line): boolean {
  return line.text === "pong" && !line.invalid;
}

function lineCost(line: Line): number {
  return line.raw.length + 2 * line.text.length + LINE_OVERHEAD_BYTES;
}

// Opens the connection, trying again while it fails and `retry.until` allows.
async function open(
  transport: Transport,
  endpoint: ConnectEndpoint,
  options: ConnectOptions,
  timeout: number,
): Promise<Connection> {
  const address = formatAddress(endpoint);
  const retryUntil = performance.now() + (options.retry?.until ?? 0);
  const interval = options.retry?.interval ?? DEFAULT_RETRY_INTERVAL_MS;
  for (;;) {
    const connecting = transport.connect(endpoint);
    try {
      return await bounded(
        connecting,
        timeout,
        undefined,
        () => new ConnectError(address, `not connected within ${timeout} ms`),
      );
    } catch (error) {
      // Should the connection come up after all, nobody will use it.
      connecting.then((late) => late.close(), () => {});
      const failure = error instanceof ConnectError
        ? error
        : new ConnectError(address, String(error), { cause: error });
      if (performance.now() + interval > retryUntil) throw failure;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}

/**
 * Connects to a oneline server and, by default, confirms it with a `ping`.
 *
 * @param options Where to connect and how long to wait.
 * @returns The connected client.
 * @throws {TypeError} When an option has the wrong type, is not an option (a
 *   misspelt name), or `path` comes with `hostname`, `port` or `tls`.
 * @throws {RangeError} When a number is out of range.
 * @throws {ConnectError} When the connection cannot be opened.
 * @throws {ServerBusyError} When the server does not answer the handshake in
 *   time: it serves another client, or it is not a oneline server. The
 *   client then says `disconnect` and leaves, so that the server, when it
 *   gets to it, is left able to serve the next.
 * @throws {ProtocolError} When the handshake is answered with something other than `pong`.
 * @throws {ConnectionClosedError} When the server closes the connection
 *   during the handshake (the message says when it may expect TLS).
 *
 * @example Send a command and read its answer
 * ```ts
 * import { connect } from "./client.ts";
 * import { ConnectError } from "./errors.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const handler = (command: string) => command === "cmd01" ? "ack" : "nak - unknown cmd";
 * await using server = await serve({ port: 0, logger: null, handler });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * // Nobody listens on port 1.
 * await assert.rejects(connect({ port: 1, timeout: 1000 }), ConnectError);
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<OnelineClient> {
  checkConnectOptions(options);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const endpoint: ConnectEndpoint = options.path !== undefined
    ? { path: options.path, tls: options.tls }
    : { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 5001, tls: options.tls };
  const transport = options.transport ?? await runtimeTransport();
  const handshake = options.handshake ?? true;
  const client = construct(await open(transport, endpoint, options, timeout), {
    timeout,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    readTerminator: options.readTerminator ?? "\n",
    writeTerminator: options.writeTerminator ?? "\n",
    disconnectOnClose: options.disconnectOnClose ?? handshake,
  });
  if (!handshake) return client;
  try {
    await client.ping();
  } catch (error) {
    const address = formatAddress(endpoint);
    if (error instanceof TimeoutError) {
      // Leaves politely: a server that needs `disconnect` gets it when it reaches this connection.
      client.close();
      throw new ServerBusyError(address, timeout, { cause: error });
    }
    await client[Symbol.asyncDispose]();
    if (error instanceof ConnectionClosedError && options.tls === undefined) {
      throw new ConnectionClosedError(
        `${address} closed the connection before answering ping; if it expects TLS, ` +
          "connect with the tls option",
        { cause: error },
      );
    }
    throw error;
  }
  return client;
}
