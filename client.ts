/**
 * The oneline client: sends commands as lines and reads the answers, from a
 * oneline server or, in device mode, from any line-based instrument.
 *
 * @module
 */

import { checkSingleLine, toLine } from "./_framing/text.ts";
import { AnswerReader } from "./_framing/answer_reader.ts";
import type { RawLine, ReadTerminator } from "./_framing/answer_reader.ts";
import type { Line } from "./framing.ts";
import {
  BlockFormatError,
  ConnectError,
  ConnectionClosedError,
  InvalidResponseError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import { sleep } from "./_util/clock.ts";
import type { Clock } from "./_util/clock.ts";
import { CallLimit, orAbort } from "./_util/call_limit.ts";
import { TurnQueue } from "./_util/turns.ts";
import type { Turn } from "./_util/turns.ts";
import { checkConnectOptions, checkRecvOptions, clientSettings } from "./_util/client_options.ts";
import { checkMilliseconds } from "./_util/option_checks.ts";
import type { ClientSettings } from "./_util/client_options.ts";
import type {
  Address,
  ConnectEndpoint,
  Connection,
  TlsClientOptions,
  Transport,
} from "./transport.ts";

/** What ends a command the client writes: LF, CR LF, or CR alone (for instruments). */
export type Terminator = "\n" | "\r\n" | "\r";

export type { ReadTerminator };

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
   * `false` is **device mode**, for an instrument that is not a oneline
   * server: the client then never sends anything it was not asked to (no
   * `ping`, no `disconnect`), `request()` reads one line and `query()`
   * `lines` lines (one by default), one call at a time, and after a call
   * that gave up the next one first drops what the device still sends, until
   * it has been quiet for `quietTime`.
   *
   * @default {true}
   */
  handshake?: boolean;
  /**
   * Device mode: how long the device must have sent nothing before the
   * client takes what comes next for the next answer, after a call that gave
   * up and in `clear()`. Make it longer than the device's slowest answer.
   *
   * @default {100}
   */
  quietTime?: number;
  /**
   * Milliseconds that `close()` and `await using` allow the connection to
   * close politely (the `disconnect`, the end of stream, the server's close,
   * a write still under way) before the client destroys the socket.
   *
   * @default {1000}
   */
  closeTimeout?: number;
  /**
   * Say `disconnect` when the client closes ({@linkcode OnelineClient.close},
   * `await using`), so that a server of the original kind, which needs it,
   * can serve the next client.
   *
   * @default {true} with the handshake, `false` without
   */
  disconnectOnClose?: boolean;
  /**
   * What ends each answer line: `"\n"` (a CR right before it is dropped),
   * `"\r\n"` (only the pair), `"\r"`, or `"any"` of CR, LF and CR LF (the
   * pair ends one line).
   *
   * @default {"\n"}
   */
  readTerminator?: ReadTerminator;
  /**
   * What the client appends to each command.
   *
   * @default {"\n"}
   */
  writeTerminator?: Terminator;
  /**
   * Longest answer line, in bytes. A longer one is never handed out as text:
   * `request()`, `query()` and `recv()` reject with an
   * `InvalidResponseError` that holds its first `maxLineBytes` bytes
   * (`recvLine()` gives them, flagged `too_long`).
   *
   * @default {1048576}
   */
  maxLineBytes?: number;
  /**
   * Longest definite-length block `queryBlock()` and `readBlock()` take, in
   * bytes of data; a longer one is a `BlockFormatError`.
   *
   * @default {67108864}
   */
  maxBlockBytes?: number;
  /**
   * Bytes received and not yet read kept before the client stops reading the
   * socket (the server then waits for it), so a server that floods a client
   * that does not read costs about this much memory. A call that waits for
   * more of its answer (a long line, a block) reads on.
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
   * Milliseconds the call may take, counted from the moment it is made: its
   * wait for the calls before it, its write and its reads. `Infinity` waits
   * forever.
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
   * for a command whose own answer may be `pong`. In device mode, the number
   * of lines the command answers.
   *
   * @default {undefined} (fenced up to the `pong` of a `ping` sent after the command; one line in device mode)
   */
  lines?: number;
}

const DEFAULT_RETRY_INTERVAL_MS = 100;
const PONG = new TextEncoder().encode("pong");
const encoder = new TextEncoder();

// Where a call is, for the message of its timeout.
type Stage = "turn" | "write" | "read" | "quiet";

// One command and how its answer is read.
interface Exchange<T> {
  // The command, with its fence when it has one, as one write; undefined for clear().
  bytes: Uint8Array | undefined;
  // Whether the answer ends at a fence of its own (oneline mode), so that it can be read to
  // its end whether or not its caller is still there: such exchanges overlap on the wire.
  fenced: boolean;
  // Reads the answer; an unfenced one stops when `signal` aborts.
  read(signal?: AbortSignal): Promise<T>;
}

// clear(): no command, only the resynchronisation.
const CLEAR: Exchange<void> = { bytes: undefined, fenced: false, read: () => Promise.resolve() };

// How connect() makes a client: the constructor stays private to the class.
let construct: (connection: Connection, settings: ClientSettings) => OnelineClient;

/**
 * A connection to a oneline server or, in device mode, to an instrument, as
 * returned by {@linkcode connect}.
 *
 * With a oneline server, {@linkcode OnelineClient.request} and
 * {@linkcode OnelineClient.query} pair each command with exactly its
 * answer: the command goes out with a `ping` after it, and the answer is
 * every line up to that `pong`. Concurrent calls overlap on the wire, and
 * each answer is read to its own fence, also when its call gave up, so a
 * late answer is never taken for another command's. `send` and `recv` are
 * the raw lines, for callers that pair them themselves; `clear()`
 * resynchronises after them.
 *
 * In device mode (`handshake: false`) nothing is sent that the caller did
 * not ask for; calls take turns, and after one that gave up, the next first
 * drops what the device still sends until it has been quiet for `quietTime`.
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
 * const answers = await Promise.all([client.request("cmd01"), client.request("junk")]);
 * assert.deepEqual(answers, ["ack", "nak - unknown cmd"]);
 * ```
 */
export class OnelineClient implements AsyncDisposable, AsyncIterable<string> {
  /** The server's address. */
  readonly remoteAddr: Address;
  readonly #connection: Connection;
  readonly #settings: ClientSettings;
  #timeout: number;
  readonly #reader: AnswerReader;
  // Writes, and reads, each take their turn in the order the calls were made.
  readonly #writes = new TurnQueue();
  readonly #reads = new TurnQueue();
  // Whether what comes next is the next call's answer: "out of step" from an unfenced
  // exchange's write until its answer is read whole, and so after one that gave up, until a
  // call resynchronises (a ping and its pong; in device mode, a quiet moment).
  #sync: "in step" | "out of step" = "in step";
  // Why the connection is closed; undefined while it is open.
  #closeReason: string | undefined;
  // Aborted when the client closes: every call still waiting ends.
  readonly #closing = new AbortController();
  // The read waiting for more bytes: only the one whose turn it is reads.
  #arrival: { resolve(): void; reject(error: unknown): void } | undefined;
  #resumeReading: (() => void) | undefined;
  // The write of `disconnect` or `shutdown`, once the client has said it.
  #goodbye: Promise<void> | undefined;
  #leaving: Promise<void> | undefined;
  // The read loop, which ends when the server closes (or the client does).
  readonly #reading: Promise<void>;

  /** Use {@linkcode connect}. */
  private constructor(connection: Connection, settings: ClientSettings) {
    this.#connection = connection;
    this.remoteAddr = connection.remoteAddr;
    this.#settings = settings;
    this.#timeout = settings.timeout;
    this.#reader = new AnswerReader(settings.readTerminator, settings.maxLineBytes);
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
    return this.#closeReason === undefined;
  }

  /**
   * The default limit of every call, in milliseconds.
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
   * @param options How long it may take to go out (a peer that does not read
   *   holds it), and a signal to give up on.
   * @returns A promise that resolves once the command is written.
   * @throws {TypeError} When the command contains CR or LF.
   * @throws {TimeoutError} When it is not written in time.
   * @throws {ConnectionClosedError} When the connection is closed.
   */
  async send(command: string, options: RecvOptions = {}): Promise<void> {
    checkSingleLine(command, "command");
    checkRecvOptions(options);
    const limit = this.#limit(options);
    try {
      await this.#write(this.#encode(command), limit, this.#writes.take());
    } finally {
      limit.dispose();
    }
  }

  /**
   * Receives the next answer line, with its raw bytes and invalid flag: a
   * line that is not UTF-8 or is over `maxLineBytes` comes flagged, with its
   * bytes (for a line over the cap, its first `maxLineBytes`).
   *
   * @param options How long to wait, and a signal to give up on.
   * @returns The line.
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async recvLine(options: RecvOptions = {}): Promise<Line> {
    checkRecvOptions(options);
    const line = await this.#readAlone(options, (signal) => this.#line(signal));
    return toLine(line.raw, line.tooLong);
  }

  /**
   * Receives the next answer line.
   *
   * @param options How long to wait, and a signal to give up on.
   * @returns The line's text.
   * @throws {InvalidResponseError} When the line is not UTF-8 or is over
   *   `maxLineBytes` (the error holds its bytes; the line is taken).
   * @throws {TimeoutError} When no line arrives in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async recv(options: RecvOptions = {}): Promise<string> {
    checkRecvOptions(options);
    return textOf(await this.#readAlone(options, (signal) => this.#line(signal)));
  }

  /**
   * Receives the next answer as an IEEE 488.2 definite-length block
   * (`#<n><length><data>`, then the read terminator), for callers that send
   * with {@linkcode OnelineClient.send}; see {@linkcode OnelineClient.queryBlock}.
   *
   * @param options How long to wait, and a signal to give up on.
   * @returns The block's data.
   * @throws {BlockFormatError} When the answer is not such a block.
   * @throws {TimeoutError} When the block is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async readBlock(options: RecvOptions = {}): Promise<Uint8Array> {
    checkRecvOptions(options);
    return await this.#readAlone(options, (signal) => this.#block(signal));
  }

  /**
   * Sends a command and receives its answer: exactly one line (see
   * {@linkcode OnelineClient.query} for how the answer is told apart).
   *
   * @param command The command, without its terminator.
   * @param options How long the call may take, and a signal to give up on.
   * @returns The answer's text.
   * @throws {ProtocolError} When the command answered no line or several.
   * @throws {InvalidResponseError} When the line is not UTF-8 or is over `maxLineBytes`.
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
   * Sends a command and receives its answer, one line, as bytes: they are
   * not decoded, so they need not be UTF-8.
   *
   * @param command The command, without its terminator.
   * @param options How long the call may take, and a signal to give up on.
   * @returns The line's bytes, without its terminator.
   * @throws {ProtocolError} When the command answered no line or several.
   * @throws {InvalidResponseError} When the line is over `maxLineBytes`.
   * @throws {TimeoutError} When the answer is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   *
   * @example Bytes that are not UTF-8
   * ```ts
   * import { connect } from "./client.ts";
   * import { serve } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using server = await serve({ port: 0, logger: null, handler: (command) => command });
   * await using client = await connect({ port: server.port });
   * assert.deepEqual(await client.requestBytes("ok"), new TextEncoder().encode("ok"));
   * ```
   */
  async requestBytes(command: string, options: RecvOptions = {}): Promise<Uint8Array> {
    checkRecvOptions(options);
    checkSingleLine(command, "command");
    const lines = await this.#exchange(this.#linesExchange(command, undefined), options);
    if (lines.length !== 1) {
      throw new ProtocolError(
        `${JSON.stringify(command)} was answered with ${lines.length} lines, not one`,
      );
    }
    if (lines[0].tooLong) throw new InvalidResponseError(lines[0].raw, "too_long");
    return lines[0].raw;
  }

  /**
   * Sends a command and receives every line of its answer. The command goes
   * out with a `ping` after it, in one write, and the answer is every line
   * before that `pong`: exact for any number of lines, in one round trip.
   * Concurrent queries overlap on the wire; each answer is read to its fence
   * even when its call gives up, so a late answer is never taken for the
   * next one's. An answer line is never changed: one that is not UTF-8 or is
   * over `maxLineBytes` is an {@linkcode InvalidResponseError} holding its
   * bytes, thrown once the whole answer is read.
   *
   * The one ambiguity: a command whose own answer is the line `pong` ends
   * the answer early. For such a command, pass `lines` (the number of lines
   * it answers): the answer is then read without a fence, and the call has
   * the connection to itself. `query("ping")` ends at its own `pong`.
   *
   * In device mode the command goes out alone and the answer is `lines`
   * lines, one by default.
   *
   * @param command The command, without its terminator.
   * @param options How long the call may take, a signal to give up on, and
   *   `lines` to read a known number of lines without a fence.
   * @returns The answer's lines, as text.
   * @throws {InvalidResponseError} When a line is not UTF-8 or is over `maxLineBytes`.
   * @throws {TimeoutError} When the answer is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async query(command: string, options: QueryOptions = {}): Promise<string[]> {
    checkRecvOptions(options);
    checkSingleLine(command, "command");
    const lines = await this.#exchange(this.#linesExchange(command, options.lines), options);
    return lines.map(textOf);
  }

  /**
   * Sends a command and receives its answer as an IEEE 488.2 definite-length
   * block: `#`, a digit n, n digits of length, the data (any bytes, LF and
   * CR included), then the read terminator. With a oneline server the
   * command is fenced, as in {@linkcode OnelineClient.query}, and nothing but
   * the block may come before the `pong`.
   *
   * @param command The command, without its terminator.
   * @param options How long the call may take, and a signal to give up on.
   * @returns The block's data.
   * @throws {BlockFormatError} When the answer is not a definite-length block
   *   (an indefinite `#0` block included), or is over `maxBlockBytes`.
   * @throws {ProtocolError} When lines follow the block before its fence.
   * @throws {TimeoutError} When the block is not complete in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   *
   * @example Binary data with LF and CR in it
   * ```ts
   * import { connect } from "./client.ts";
   * import { definiteLengthBlock } from "./framing.ts";
   * import { runtimeTransport } from "./runtime.ts";
   * import assert from "node:assert/strict";
   *
   * // An instrument that answers "CURV?" with four bytes as a block.
   * const data = new Uint8Array([1, 0x0a, 0x0d, 255]);
   * const transport = await runtimeTransport();
   * const limits = { maxWaiting: 1, handshakeTimeout: 1000, closeTimeout: 1000, onRefused() {} };
   * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
   * const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
   * const instrument = listener.accept().then(async (connection) => {
   *   await connection!.read(); // "CURV?\n"
   *   await connection!.write(new Uint8Array([...definiteLengthBlock(data), 0x0a]));
   *   return connection!;
   * });
   * await using meter = await connect({ port, handshake: false });
   * assert.deepEqual(await meter.queryBlock("CURV?"), data);
   * (await instrument).close();
   * await listener.close();
   * ```
   */
  async queryBlock(command: string, options: RecvOptions = {}): Promise<Uint8Array> {
    checkRecvOptions(options);
    checkSingleLine(command, "command");
    if (this.#settings.device) {
      return await this.#exchange({
        bytes: this.#encode(command),
        fenced: false,
        read: (signal) => this.#block(signal),
      }, options);
    }
    return await this.#exchange({
      bytes: this.#encode(command, "ping"),
      fenced: true,
      read: (signal) => this.#fencedBlock(signal),
    }, options);
  }

  /**
   * Resynchronises after raw sends and receives, or after a call that gave
   * up: with a oneline server it sends `ping` and drops every line until its
   * `pong`; in device mode it drops what the device sends until it has sent
   * nothing for `quietTime`.
   *
   * @param options How long it may take, and a signal to give up on.
   * @throws {TimeoutError} When the `pong` does not come in time, or the
   *   device does not stay quiet for `quietTime` in time.
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async clear(options: RecvOptions = {}): Promise<void> {
    checkRecvOptions(options);
    await this.#exchange(CLEAR, options);
  }

  /**
   * Checks that the server answers: `ping` must come back as `pong`, alone.
   *
   * @param options How long to wait, and a signal to give up on.
   * @throws {ProtocolError} When the answer is not `pong` alone (with a
   *   oneline server, lines before the `pong`, which are then dropped).
   * @throws {TimeoutError} When no answer comes in time.
   */
  async ping(options: RecvOptions = {}): Promise<void> {
    checkRecvOptions(options);
    const lines = await this.query("ping", { timeout: options.timeout, signal: options.signal });
    if (lines.length !== 1 || lines[0] !== "pong") {
      const got = lines.length === 1 ? lines[0] : lines;
      throw new ProtocolError(`expected "pong" to "ping", got ${JSON.stringify(got)}`);
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
   * Closes the client at once: pending calls reject, and nothing more can be
   * sent. The connection itself leaves politely in the background: the
   * client says `disconnect` (unless told not to, or it said it already),
   * ends its side, and closes once the server has, within `closeTimeout`
   * (then it destroys the socket, also when a write is still under way).
   * Idempotent; use `await using` (or {@linkcode OnelineClient.disconnect})
   * to wait for the server.
   */
  close(): void {
    this.#leave();
  }

  /**
   * Closes the client, for `await using`, and waits (`closeTimeout` at most)
   * for the connection to close.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#leave();
  }

  /**
   * Iterates over answer lines as they arrive, until the connection closes.
   *
   * @returns The iterator.
   * @throws {InvalidResponseError} At a line that is not UTF-8 or is over `maxLineBytes`.
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

  #encode(...lines: string[]): Uint8Array {
    const terminator = this.#settings.writeTerminator;
    return encoder.encode(lines.join(terminator) + terminator);
  }

  // The limit of one call, from now: its timeout, its signal, and the client closing.
  #limit(options: RecvOptions): CallLimit<Stage> {
    const timeout = options.timeout ?? this.#timeout;
    const quiet = this.#settings.quietTime;
    const signals = [options.signal, this.#closing.signal];
    return new CallLimit<Stage>(timeout, signals, (stage) => {
      const message = stage === "turn"
        ? `no response within ${timeout} ms: the calls before it held the connection all that time`
        : stage === "write"
        ? `not sent within ${timeout} ms: the peer does not read what the client writes`
        : stage === "quiet"
        ? `the device did not stay quiet for ${quiet} ms (quietTime) within ${timeout} ms: it ` +
          "still sends what an earlier call left"
        : `no response within ${timeout} ms`;
      return new TimeoutError(message, timeout);
    }, this.#settings.clock);
  }

  // Writes at its turn, which ends once the bytes are all out (or the write failed), whether
  // or not the caller gives up at its limit meanwhile.
  async #write(bytes: Uint8Array, limit: CallLimit<Stage>, turn: Turn): Promise<void> {
    try {
      await limit.wait(turn.ready, "turn");
      limit.signal.throwIfAborted();
    } catch (error) {
      turn.release();
      throw error;
    }
    const written = this.#transportWrite(bytes);
    written.then(turn.release, turn.release);
    await limit.wait(written, "write");
  }

  #transportWrite(bytes: Uint8Array): Promise<void> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(this.#closeReason));
    }
    return this.#connection.write(bytes).catch((error) => {
      throw new ConnectionClosedError("send failed: the connection is gone", { cause: error });
    });
  }

  // A raw read, at its read turn and within its limit. Lines and blocks are taken whole, so a
  // read that gives up takes nothing.
  async #readAlone<T>(options: RecvOptions, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const limit = this.#limit(options);
    const turn = this.#reads.take();
    try {
      await limit.wait(turn.ready, "read");
      return await read(limit.signal);
    } finally {
      turn.release();
      limit.dispose();
    }
  }

  // The exchange of one command line and its answer lines.
  #linesExchange(command: string, count: number | undefined): Exchange<RawLine[]> {
    if (this.#settings.device || count !== undefined) {
      return {
        bytes: this.#encode(command),
        fenced: false,
        read: (signal) => this.#lines(count ?? 1, signal),
      };
    }
    // A ping is its own fence.
    if (command === "ping") {
      return {
        bytes: this.#encode(command),
        fenced: true,
        read: async (signal) => [...await this.#throughPong(signal), { raw: PONG, tooLong: false }],
      };
    }
    return {
      bytes: this.#encode(command, "ping"),
      fenced: true,
      read: (signal) => this.#throughPong(signal),
    };
  }

  // Runs one exchange: its limit counts from now, over its wait for its turn, its write and
  // its reads.
  async #exchange<T>(exchange: Exchange<T>, options: RecvOptions): Promise<T> {
    const limit = this.#limit(options);
    const writeTurn = this.#writes.take();
    const readTurn = this.#reads.take();
    try {
      try {
        await limit.wait(writeTurn.ready, "turn");
        limit.signal.throwIfAborted();
      } catch (error) {
        writeTurn.release();
        readTurn.release();
        throw error;
      }
      return exchange.fenced && this.#sync === "in step"
        ? await this.#overlapping(exchange, limit, writeTurn, readTurn)
        : await this.#alone(exchange, limit, writeTurn, readTurn);
    } finally {
      limit.dispose();
    }
  }

  // A fenced exchange is written as soon as the writes before it are, and its answer, read
  // once those before it are, is read to its fence even if its caller gives up.
  async #overlapping<T>(
    exchange: Exchange<T>,
    limit: CallLimit<Stage>,
    writeTurn: Turn,
    readTurn: Turn,
  ): Promise<T> {
    const written = this.#transportWrite(exchange.bytes!);
    written.then(writeTurn.release, writeTurn.release);
    const answer = readTurn.ready.then(() => written).then(() => exchange.read());
    answer.then(readTurn.release, readTurn.release);
    await limit.wait(written, "write");
    return await limit.wait(answer, "read");
  }

  // An unfenced exchange (and any, while the client is out of step) has the connection to
  // itself: it starts once every answer before it is read, resynchronises first if it must, and
  // nothing is written after it until its answer is read or it gave up.
  async #alone<T>(
    exchange: Exchange<T>,
    limit: CallLimit<Stage>,
    writeTurn: Turn,
    readTurn: Turn,
  ): Promise<T> {
    let written: Promise<void> = Promise.resolve();
    try {
      await limit.wait(readTurn.ready, "turn");
      if (this.#sync === "out of step" || exchange.bytes === undefined) {
        this.#sync = "out of step";
        await this.#resync(limit);
        this.#sync = "in step";
      }
      if (exchange.bytes !== undefined) {
        limit.signal.throwIfAborted();
        this.#sync = "out of step";
        written = this.#transportWrite(exchange.bytes);
        await limit.wait(written, "write");
      }
      limit.stage = "read";
      const answer = await exchange.read(limit.signal);
      this.#sync = "in step";
      return answer;
    } finally {
      readTurn.release();
      // Not before its bytes are all out: the next write must not run into them.
      written.then(writeTurn.release, writeTurn.release);
    }
  }

  // Brings the client back in step: a ping and its pong, or in device mode a quiet moment.
  async #resync(limit: CallLimit<Stage>): Promise<void> {
    if (this.#settings.device) {
      limit.stage = "quiet";
      return await this.#drain(limit.signal);
    }
    await limit.wait(this.#transportWrite(this.#encode("ping")), "write");
    limit.stage = "read";
    await this.#throughPong(limit.signal);
  }

  // Drops every byte received until none has come for quietTime.
  async #drain(signal: AbortSignal): Promise<void> {
    for (;;) {
      this.#reader.discard();
      const quiet = new AbortController();
      const { clock, quietTime } = this.#settings;
      const timer = clock.setTimeout(() => quiet.abort(), quietTime);
      try {
        await this.#more(AbortSignal.any([signal, quiet.signal]));
      } catch (error) {
        if (error === quiet.signal.reason) return;
        throw error;
      } finally {
        clock.clearTimeout(timer);
      }
    }
  }

  async #sayGoodbye(command: string, options: RecvOptions): Promise<void> {
    checkRecvOptions(options);
    // Written after the calls before it, also when the client closes meanwhile: it then does
    // not say disconnect again.
    const writeTurn = this.#writes.take();
    const bytes = this.#encode(command);
    const goodbye = writeTurn.ready.then(() => this.#connection.write(bytes));
    goodbye.then(writeTurn.release, writeTurn.release);
    this.#goodbye = goodbye;
    const limit = this.#limit(options);
    const turn = this.#reads.take();
    try {
      await limit.wait(goodbye, "write").catch((error) => {
        if (!limit.signal.aborted) throw new ConnectionClosedError(String(error), { cause: error });
        throw error;
      });
      await limit.wait(turn.ready, "read");
      // Whatever the server still says before it closes is dropped.
      for (;;) await this.#line(limit.signal);
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      turn.release();
      limit.dispose();
      this.close();
    }
  }

  // Takes a line or a block once it has all come; the connection's end is a ConnectionClosedError.
  async #take<T>(take: () => T | undefined, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const taken = take();
      if (taken !== undefined) {
        if (this.#reader.buffered < this.#settings.maxQueuedBytes) this.#resumeReading?.();
        return taken;
      }
      await this.#more(signal);
    }
  }

  #line(signal?: AbortSignal): Promise<RawLine> {
    return this.#take(() => this.#reader.takeLine(), signal);
  }

  #block(signal?: AbortSignal): Promise<Uint8Array> {
    return this.#take(() => this.#reader.takeBlock(this.#settings.maxBlockBytes), signal);
  }

  async #lines(count: number, signal?: AbortSignal): Promise<RawLine[]> {
    const lines: RawLine[] = [];
    while (lines.length < count) lines.push(await this.#line(signal));
    return lines;
  }

  // Every line up to the next pong, which is dropped.
  async #throughPong(signal?: AbortSignal): Promise<RawLine[]> {
    const lines: RawLine[] = [];
    for (let line = await this.#line(signal); !isPong(line); line = await this.#line(signal)) {
      lines.push(line);
    }
    return lines;
  }

  // A block and its fence: a block that is not one is an error once the fence has come.
  async #fencedBlock(signal?: AbortSignal): Promise<Uint8Array> {
    const block = await this.#block(signal).catch((error) => {
      if (error instanceof BlockFormatError) return error;
      throw error;
    });
    const after = await this.#throughPong(signal);
    if (block instanceof BlockFormatError) throw block;
    if (after.length > 0) {
      const texts = after.map((line) => toLine(line.raw, line.tooLong).text);
      throw new ProtocolError(`the block was followed by more lines: ${JSON.stringify(texts)}`);
    }
    return block;
  }

  // Waits until more bytes have come; rejects once none will, or when `signal` aborts.
  #more(signal?: AbortSignal): Promise<void> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(this.#closeReason));
    }
    let arrival!: { resolve(): void; reject(error: unknown): void };
    const arrived = new Promise<void>((resolve, reject) => arrival = { resolve, reject });
    this.#arrival = arrival;
    this.#resumeReading?.();
    const waited = signal === undefined ? arrived : orAbort(arrived, signal);
    return waited.finally(() => {
      if (this.#arrival === arrival) this.#arrival = undefined;
    });
  }

  // Ends the client now and its connection politely, within closeTimeout.
  #leave(): Promise<void> {
    if (this.#leaving !== undefined) return this.#leaving;
    const connection = this.#connection;
    if (this.#settings.disconnectOnClose && this.#goodbye === undefined && this.connected) {
      // After what is on its way already; the transport keeps writes in order.
      this.#goodbye = connection.write(this.#encode("disconnect"));
    }
    this.#end("the connection was closed by the client", true);
    const goodbye = this.#goodbye;
    const politely = (async () => {
      await goodbye?.catch(() => {});
      await connection.closeWrite();
      await this.#reading;
    })();
    this.#leaving = (async () => {
      const done = new AbortController();
      const late = sleep(this.#settings.clock, this.#settings.closeTimeout, done.signal);
      await Promise.race([politely, late]);
      done.abort();
      connection.close();
    })();
    return this.#leaving;
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      // A caller that does not read stops the client reading: the server then waits for it.
      while (
        this.#reader.buffered >= this.#settings.maxQueuedBytes && this.#arrival === undefined &&
        this.connected
      ) {
        await new Promise<void>((resolve) => this.#resumeReading = resolve);
        this.#resumeReading = undefined;
      }
      const chunk = await this.#connection.read();
      if (chunk === null) break;
      // After the client closed, what still comes is nobody's: it is read and dropped.
      if (!this.connected) continue;
      this.#reader.push(chunk);
      this.#arrival?.resolve();
    }
    // Everything the server sent is read: nothing more can come, so the socket goes now.
    this.#connection.close();
    this.#end("the server closed the connection", false);
  }

  #end(reason: string, byClient: boolean): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#resumeReading?.();
    this.#arrival?.reject(new ConnectionClosedError(reason));
    if (byClient) {
      // Unread answers are nobody's now, and every call still waiting ends.
      this.#reader.discard();
      this.#closing.abort(new ConnectionClosedError(reason));
    }
  }
}

function isPong(line: RawLine): boolean {
  return !line.tooLong && line.raw.length === PONG.length &&
    line.raw.every((b, i) => b === PONG[i]);
}

// The text of an answer line, which must be exact.
function textOf(line: RawLine): string {
  const decoded = toLine(line.raw, line.tooLong);
  if (decoded.reason !== undefined) throw new InvalidResponseError(line.raw, decoded.reason);
  return decoded.text;
}

// Opens the connection, trying again while it fails and `retry.until` allows.
async function open(
  transport: Transport,
  endpoint: ConnectEndpoint,
  options: ConnectOptions,
  timeout: number,
  clock: Clock,
): Promise<Connection> {
  const address = formatAddress(endpoint);
  const retryUntil = clock.now() + (options.retry?.until ?? 0);
  const interval = options.retry?.interval ?? DEFAULT_RETRY_INTERVAL_MS;
  for (;;) {
    const connecting = transport.connect(endpoint);
    const limit = new CallLimit(
      timeout,
      [],
      () => new ConnectError(address, `not connected within ${timeout} ms`),
      clock,
    );
    try {
      return await limit.wait(connecting, "connect");
    } catch (error) {
      // Should the connection come up after all, nobody will use it.
      connecting.then((late) => late.close(), () => {});
      const failure = error instanceof ConnectError
        ? error
        : new ConnectError(address, String(error), { cause: error });
      if (clock.now() + interval > retryUntil) throw failure;
      await sleep(clock, interval);
    } finally {
      limit.dispose();
    }
  }
}

/**
 * Connects to a oneline server and, by default, confirms it with a `ping`;
 * with `handshake: false`, to any line-based instrument (device mode).
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
 * @throws {ProtocolError} When the handshake is answered with something other than `pong`
 *   (the message says to connect with `handshake: false` to a device).
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
 *
 * @example An instrument: device mode
 * ```ts
 * import { connect } from "./client.ts";
 * import { runtimeTransport } from "./runtime.ts";
 * import assert from "node:assert/strict";
 *
 * // A meter that answers "*IDN?" with one CR LF line, and never answers ping.
 * const transport = await runtimeTransport();
 * const limits = { maxWaiting: 1, handshakeTimeout: 1000, closeTimeout: 1000, onRefused() {} };
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
 * const meter = listener.accept().then(async (connection) => {
 *   assert.equal(new TextDecoder().decode((await connection!.read())!), "*IDN?\r\n");
 *   await connection!.write(new TextEncoder().encode("ACME,METER,1\r\n"));
 *   return connection!;
 * });
 * await using client = await connect({
 *   port,
 *   handshake: false,
 *   readTerminator: "\r\n",
 *   writeTerminator: "\r\n",
 * });
 * assert.equal(await client.request("*IDN?"), "ACME,METER,1");
 * (await meter).close();
 * await listener.close();
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<OnelineClient> {
  checkConnectOptions(options);
  const settings = clientSettings(options);
  const timeout = settings.timeout;
  const endpoint: ConnectEndpoint = options.path !== undefined
    ? { path: options.path, tls: options.tls }
    : { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 5001, tls: options.tls };
  const transport = options.transport ?? await runtimeTransport();
  const client = construct(
    await open(transport, endpoint, options, timeout, settings.clock),
    settings,
  );
  if (settings.device) return client;
  const address = formatAddress(endpoint);
  try {
    // One line: a peer that is not a oneline server may never say pong.
    const [answer] = await client.query("ping", { lines: 1 });
    if (answer !== "pong") {
      throw new ProtocolError(
        `expected "pong" to "ping", got ${JSON.stringify(answer)}: if ${address} is an ` +
          "instrument, not a oneline server, connect with handshake: false",
      );
    }
  } catch (error) {
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
