/**
 * The oneline server: one client at a time, one line per command, zero or
 * more response lines per command.
 *
 * @module
 */

import { checkMaxLineBytes, checkSingleLine, decodeLine, LineSplitter } from "./framing.ts";
import type { InvalidReason } from "./framing.ts";
import { UnsolicitedResponseError } from "./errors.ts";
import { ResponseBuffer } from "./response_buffer.ts";
import { formatAddress, runtimeTransport } from "./transport.ts";
import type {
  Address,
  Connection,
  ListenEndpoint,
  Listener,
  TlsServerOptions,
  Transport,
} from "./transport.ts";

/** Where the server writes what it has to say: `console` fits. */
export interface Logger {
  /** Receives start-up, connection and (when verbose) traffic messages. */
  info(message: string): void;
  /** Receives handler failures; `info` is used when absent. */
  error?(message: string, error?: unknown): void;
}

/** What a handler may answer: one line, several lines, or nothing. */
export type HandlerResult = string | readonly string[] | undefined | null | void;

/**
 * Handles one command that is not a built-in.
 *
 * @param command The command's text, without its LF.
 * @param context The command's flags, raw bytes, peer and a way to send responses.
 * @returns The response line(s), if any, or a promise of them.
 */
export type Handler = (
  command: string,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/** What a handler knows about the command it handles. */
export interface HandlerContext {
  /** True when the line did not decode as UTF-8 or was over the line cap. */
  readonly invalid: boolean;
  /** Why the line is invalid; `undefined` when it is valid. */
  readonly reason: InvalidReason | undefined;
  /** The line's bytes, without LF (cut at the cap when too long). */
  readonly raw: Uint8Array;
  /** The client's address. */
  readonly remoteAddr: Address;
  /** Aborted when the client's connection ends. */
  readonly signal: AbortSignal;
  /**
   * Sends one response line now, before the handler's return value. Only
   * while the handler runs: afterwards it throws, since the protocol forbids
   * unsolicited responses.
   *
   * @param line The response, without LF.
   * @throws {TypeError} When the line contains CR or LF.
   * @throws {UnsolicitedResponseError} When the handler has already finished.
   */
  send(line: string): void;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** Handles every command that is not a built-in. */
  handler: Handler;
  /**
   * The address to bind. The default keeps the server local: name another
   * address (such as `0.0.0.0`) to expose it.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The TCP port; `0` takes any free port, reported in
   * {@linkcode OnelineServer.addr}.
   *
   * @default {5001}
   */
  port?: number;
  /**
   * Listen on this Unix socket path instead of TCP (`hostname` and `port`
   * are then ignored).
   */
  path?: string;
  /** Serve TLS with this certificate and key instead of plain TCP. */
  tls?: TlsServerOptions;
  /**
   * Where messages go; `null` for none.
   *
   * @default {console}
   */
  logger?: Logger | null;
  /**
   * Log every connection, command and response, not just failures.
   *
   * @default {false}
   */
  verbose?: boolean;
  /**
   * Longest command kept, in bytes; longer ones reach the handler cut and
   * flagged invalid with reason `"too_long"`.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Keep a CR before the LF instead of dropping it.
   *
   * @default {false}
   */
  keepCR?: boolean;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /**
   * The socket layer; the runtime's own by default. For tests and exotic
   * runtimes.
   */
  transport?: Transport;
}

// Write out buffered responses once they reach this size, even mid-batch.
const FLUSH_BYTES = 64 * 1024;
const ACCEPT_RETRY_MS = 100;
const encoder = new TextEncoder();
const PONG = encoder.encode("pong\n");

type Builtin = "ping" | "disconnect" | "shutdown";
const BUILTINS: readonly [Builtin, Uint8Array][] = [
  ["ping", encoder.encode("ping")],
  ["disconnect", encoder.encode("disconnect")],
  ["shutdown", encoder.encode("shutdown")],
];

// The built-in a line names, compared on bytes so commands are not decoded.
function builtinOf(line: Uint8Array): Builtin | undefined {
  for (const [name, bytes] of BUILTINS) {
    if (line.length !== bytes.length) continue;
    let i = 0;
    while (i < bytes.length && line[i] === bytes[i]) i++;
    if (i === bytes.length) return name;
  }
  return undefined;
}

// How a connection ended, and so what the accept loop does next.
type ConnectionEnd = "closed" | "disconnect" | "shutdown" | "stopped";

class Context implements HandlerContext {
  readonly invalid: boolean;
  readonly reason: InvalidReason | undefined;
  readonly raw: Uint8Array;
  readonly remoteAddr: Address;
  readonly signal: AbortSignal;
  #responses: ResponseBuffer | undefined;
  #onSend: ((line: string) => void) | undefined;

  constructor(
    raw: Uint8Array,
    reason: InvalidReason | undefined,
    remoteAddr: Address,
    signal: AbortSignal,
    responses: ResponseBuffer,
    onSend: ((line: string) => void) | undefined,
  ) {
    this.raw = raw;
    this.reason = reason;
    this.invalid = reason !== undefined;
    this.remoteAddr = remoteAddr;
    this.signal = signal;
    this.#responses = responses;
    this.#onSend = onSend;
  }

  send(line: string): void {
    checkSingleLine(line, "response");
    if (this.#responses === undefined) throw new UnsolicitedResponseError(line);
    this.#onSend?.(line);
    this.#responses.appendLine(line);
  }

  end(): void {
    this.#responses = undefined;
  }
}

/** A running server, as returned by {@linkcode serve}. */
export class OnelineServer implements AsyncDisposable {
  /** The bound address; with port 0, the port actually taken. */
  readonly addr: Address;
  /** Resolves once the server has stopped, by `shutdown` or {@linkcode close}. */
  readonly finished: Promise<void>;
  readonly #listener: Listener;
  readonly #handler: Handler;
  readonly #logger: Logger | null;
  readonly #verbose: boolean;
  readonly #maxLineBytes: number;
  readonly #keepCR: boolean;
  #connection: Connection | undefined;
  #stopping = false;
  readonly #stopped: Promise<"stopped">;
  #resolveStopped!: (value: "stopped") => void;

  /** Use {@linkcode serve}, which validates the options and binds first. */
  private constructor(listener: Listener, options: ServeOptions) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#handler = options.handler;
    this.#logger = options.logger === undefined ? console : options.logger;
    this.#verbose = options.verbose ?? false;
    this.#maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.#keepCR = options.keepCR ?? false;
    this.#stopped = new Promise((resolve) => this.#resolveStopped = resolve);
    this.finished = this.#acceptLoop();
  }

  /** @internal Binds and starts; see {@linkcode serve}. */
  static async start(options: ServeOptions): Promise<OnelineServer> {
    checkServeOptions(options);
    options.signal?.throwIfAborted();
    const transport = options.transport ?? await runtimeTransport();
    const endpoint: ListenEndpoint = options.path !== undefined
      ? { path: options.path, tls: options.tls }
      : { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 5001, tls: options.tls };
    const server = new OnelineServer(await transport.listen(endpoint), options);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => server.close();
      signal.addEventListener("abort", onAbort, { once: true });
      server.finished.then(() => signal.removeEventListener("abort", onAbort));
    }
    server.#log(`listening on ${formatAddress(server.addr)}`);
    return server;
  }

  /**
   * The bound TCP port.
   *
   * @returns The port, or `undefined` for a Unix socket.
   */
  get port(): number | undefined {
    return this.addr.transport === "tcp" ? this.addr.port : undefined;
  }

  /**
   * Whether the server is still listening.
   *
   * @returns `false` once it has been shut down or closed.
   */
  get running(): boolean {
    return !this.#stopping;
  }

  /**
   * Stops the server: closes the current connection and the listener. A
   * handler still running is abandoned (its `signal` is aborted). Safe to
   * call more than once.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  close(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#resolveStopped("stopped");
      this.#listener.close();
      this.#connection?.close();
    }
    return this.finished;
  }

  /**
   * Closes the server, for `await using`.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #log(message: string): void {
    this.#logger?.info(message);
  }

  #logError(message: string, error: unknown): void {
    if (!this.#logger) return;
    if (this.#logger.error) this.#logger.error(message, error);
    else this.#logger.info(`${message}: ${error}`);
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopping) {
      let connection: Connection | null;
      try {
        connection = await this.#listener.accept();
      } catch (error) {
        // Such as running out of file descriptors: back off, then go on.
        this.#logError("accept failed", error);
        await Promise.race([this.#stopped, delay(ACCEPT_RETRY_MS)]);
        continue;
      }
      if (connection === null) break;
      const end = await this.#serve(connection);
      if (end === "shutdown") {
        this.#log("shutdown requested");
        this.close();
      }
    }
    this.#listener.close();
    this.#log("stopped");
  }

  async #serve(connection: Connection): Promise<ConnectionEnd> {
    this.#connection = connection;
    const peer = formatAddress(connection.remoteAddr);
    if (this.#verbose) this.#log(`${peer} connected`);
    const aborter = new AbortController();
    let end: ConnectionEnd;
    try {
      end = await this.#exchange(connection, aborter.signal);
    } catch (error) {
      // A write to a client that reset or vanished.
      if (this.#verbose) this.#log(`${peer} failed: ${error}`);
      end = "closed";
    } finally {
      this.#connection = undefined;
      connection.close();
      aborter.abort();
    }
    if (this.#verbose) this.#log(`${peer} ${end === "closed" ? "closed" : end}`);
    return end;
  }

  // Reads commands and answers them until the connection ends.
  async #exchange(connection: Connection, signal: AbortSignal): Promise<ConnectionEnd> {
    const splitter = new LineSplitter({ maxLineBytes: this.#maxLineBytes, keepCR: this.#keepCR });
    const responses = new ResponseBuffer();
    const lines: Uint8Array[] = [];
    const tooLong: boolean[] = [];
    const collect = (line: Uint8Array, isTooLong: boolean) => {
      lines.push(line);
      tooLong.push(isTooLong);
    };
    const flush = async () => {
      if (responses.length > 0) await connection.write(responses.take());
    };
    const peer = formatAddress(connection.remoteAddr);
    const onSend = this.#verbose ? (line: string) => this.#log(`${peer} > ${line}`) : undefined;

    for (;;) {
      const chunk = await Promise.race([connection.read(), this.#stopped]);
      if (chunk === "stopped") return "stopped";
      if (chunk === null) return "closed";
      lines.length = 0;
      tooLong.length = 0;
      splitter.split(chunk, collect);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const builtin = tooLong[i] ? undefined : builtinOf(line);
        if (this.#verbose) this.#log(`${peer} < ${decodeLine(line).text}`);
        if (builtin === "ping") {
          responses.appendBytes(PONG);
          onSend?.("pong");
        } else if (builtin !== undefined) {
          await flush();
          return builtin;
        } else {
          const handled = this.#handle(line, tooLong[i], connection, signal, responses, onSend);
          if (handled !== undefined) {
            // An async handler: send what earlier commands answered while it runs.
            await flush();
            if (await Promise.race([handled, this.#stopped]) === "stopped") return "stopped";
          }
        }
        if (responses.length >= FLUSH_BYTES) await flush();
      }
      await flush();
    }
  }

  // Runs the handler for one line. Returns a promise only when the handler is
  // async, so synchronous handlers cost no promise per line.
  #handle(
    line: Uint8Array,
    tooLong: boolean,
    connection: Connection,
    signal: AbortSignal,
    responses: ResponseBuffer,
    onSend: ((line: string) => void) | undefined,
  ): Promise<void> | undefined {
    const { text, invalid } = decodeLine(line);
    const reason = tooLong ? "too_long" : invalid ? "decode" : undefined;
    const context = new Context(line, reason, connection.remoteAddr, signal, responses, onSend);
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.#handler(text, context);
    } catch (error) {
      context.end();
      this.#logError(`handler failed on ${JSON.stringify(text)}`, error);
      return undefined;
    }
    if (!isPromiseLike(result)) {
      this.#answer(text, result, context, responses);
      return undefined;
    }
    return Promise.resolve(result).then(
      (value) => this.#answer(text, value, context, responses),
      (error) => {
        context.end();
        this.#logError(`handler failed on ${JSON.stringify(text)}`, error);
      },
    );
  }

  // Appends a handler's return value to the responses and closes its context.
  #answer(
    command: string,
    result: HandlerResult,
    context: Context,
    responses: ResponseBuffer,
  ): void {
    context.end();
    if (result === undefined || result === null) return;
    const answer: readonly string[] = typeof result === "string" ? [result] : result;
    try {
      if (!Array.isArray(answer)) {
        throw new TypeError(`handler must return a string, an array of strings or nothing`);
      }
      for (const line of answer) checkSingleLine(line, "response");
    } catch (error) {
      this.#logError(`handler answered ${JSON.stringify(command)} wrongly; nothing sent`, error);
      return;
    }
    for (const line of answer) {
      if (this.#verbose) this.#log(`${formatAddress(context.remoteAddr)} > ${line}`);
      responses.appendLine(line);
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<HandlerResult> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkServeOptions(options: ServeOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("serve() needs an options object with a handler");
  }
  if (typeof options.handler !== "function") {
    throw new TypeError(`options.handler must be a function, got ${typeof options.handler}`);
  }
  if (options.hostname !== undefined && typeof options.hostname !== "string") {
    throw new TypeError(`options.hostname must be a string, got ${typeof options.hostname}`);
  }
  if (options.port !== undefined) {
    if (!Number.isInteger(options.port)) {
      throw new TypeError(`options.port must be an integer, got ${String(options.port)}`);
    }
    if (options.port < 0 || options.port > 65535) {
      throw new RangeError(`options.port must be from 0 to 65535, got ${options.port}`);
    }
  }
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new TypeError(`options.path must be a non-empty string, got ${String(options.path)}`);
  }
  if (options.tls !== undefined) {
    if (typeof options.tls?.cert !== "string" || typeof options.tls?.key !== "string") {
      throw new TypeError("options.tls needs cert and key, both PEM strings");
    }
  }
  if (options.maxLineBytes !== undefined) checkMaxLineBytes(options.maxLineBytes);
  if (options.logger != null && typeof options.logger.info !== "function") {
    throw new TypeError("options.logger must have an info method");
  }
}

/**
 * Starts a oneline server and resolves once it is listening.
 *
 * The server answers the built-ins itself (`ping` → `pong`; `disconnect`
 * closes the connection; `shutdown` closes it and stops the server) and hands
 * every other line to `handler`. It serves one client at a time: the next
 * connection is accepted only when the current one ends.
 *
 * @param options The handler, where to listen, and how to behave.
 * @returns The running server.
 * @throws {TypeError} When an option has the wrong type (such as no handler).
 * @throws {RangeError} When the port or line cap is out of range.
 * @throws {AddressInUseError} When the address is already taken.
 *
 * @example A server that acknowledges `cmd01`
 * ```ts
 * import { serve } from "./server.ts";
 *
 * await using server = await serve({
 *   port: 0,
 *   handler: (command, context) => {
 *     if (context.invalid) return "nak - invalid cmd";
 *     return command === "cmd01" ? "ack" : "nak - unknown cmd";
 *   },
 * });
 * console.log(`listening on port ${server.port}`);
 * ```
 */
export function serve(options: ServeOptions): Promise<OnelineServer> {
  return OnelineServer.start(options);
}
