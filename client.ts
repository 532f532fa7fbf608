/**
 * The oneline client: sends commands as lines and reads the answers, from a
 * oneline server or, in device mode, from any line-based instrument.
 *
 * @module
 */

import { checkSingleLine, toLine } from "./_framing/text.ts";
import type { Line } from "./framing.ts";
import {
  ConnectError,
  ConnectionClosedError,
  InvalidResponseError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import { optionsEndpoint } from "./_transport/default_endpoint.ts";
import { sleep } from "./_util/clock.ts";
import type { Clock } from "./_util/clock.ts";
import { CallLimit } from "./_util/call_limit.ts";
import { checkMilliseconds } from "./_util/option_checks.ts";
import { Channel, textOf } from "./_client/channel.ts";
import { checkConnectOptions, checkRecvOptions, clientSettings } from "./_client/options.ts";
import type { ConnectOptions, QueryOptions, RecvOptions } from "./_client/options.ts";
import type { Address, ConnectEndpoint, Connection, Transport } from "./transport.ts";

export type {
  ConnectOptions,
  QueryOptions,
  ReadTerminator,
  RecvOptions,
  Terminator,
} from "./_client/options.ts";

const DEFAULT_RETRY_INTERVAL_MS = 100;

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
  readonly #channel: Channel;

  /**
   * Use {@linkcode connect}, which checks the options and connects first.
   *
   * @ignore
   * @param connection The open connection.
   * @param channel Its writes and reads.
   */
  constructor(connection: Connection, channel: Channel) {
    this.remoteAddr = connection.remoteAddr;
    this.#channel = channel;
  }

  /**
   * Whether the connection is still open.
   *
   * @returns `false` once either side has closed it.
   */
  get connected(): boolean {
    return this.#channel.connected;
  }

  /**
   * The default limit of every call, in milliseconds.
   *
   * @returns The limit.
   */
  get timeout(): number {
    return this.#channel.timeout;
  }

  /**
   * Sets the default limit.
   *
   * @param ms Milliseconds, positive; `Infinity` waits forever.
   * @throws {TypeError | RangeError} When it is not a positive number.
   */
  set timeout(ms: number) {
    checkMilliseconds(ms, "timeout", true);
    this.#channel.timeout = ms;
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
    await this.#channel.send(command, options);
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
    const line = await this.#channel.recvLine(options);
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
    return textOf(await this.#channel.recvLine(options));
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
    return await this.#channel.readBlock(options);
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
    checkRecvOptions(options);
    checkSingleLine(command, "command");
    const lines = (await this.#channel.query(command, options.lines, options)).map(textOf);
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
    const lines = await this.#channel.query(command, undefined, options);
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
    return (await this.#channel.query(command, options.lines, options)).map(textOf);
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
    return await this.#channel.queryBlock(command, options);
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
    await this.#channel.clear(options);
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
    const lines = (await this.#channel.query("ping", undefined, options)).map(textOf);
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
    checkRecvOptions(options);
    await this.#channel.sayGoodbye("disconnect", options);
  }

  /**
   * Says `shutdown`, which stops the server, and waits for it to close the
   * connection.
   *
   * @param options How long to wait for the server to close.
   */
  async shutdown(options: RecvOptions = {}): Promise<void> {
    checkRecvOptions(options);
    await this.#channel.sayGoodbye("shutdown", options);
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
    this.#channel.leave();
  }

  /**
   * Closes the client, for `await using`, and waits (`closeTimeout` at most)
   * for the connection to close.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#channel.leave();
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
        // Its own options, known good: no check for every line.
        yield textOf(await this.#channel.recvLine({ timeout: Infinity }));
      } catch (error) {
        if (error instanceof ConnectionClosedError) return;
        throw error;
      }
    }
  }
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
  const endpoint: ConnectEndpoint = optionsEndpoint(options);
  const transport = options.transport ?? await runtimeTransport();
  const connection = await open(transport, endpoint, options, timeout, settings.clock);
  const client = new OnelineClient(connection, new Channel(connection, settings));
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
