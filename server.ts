/**
 * The oneline server: one client at a time, one line per command, zero or
 * more response lines per command.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "./framing.ts";
import type { Handler, HandlerResult } from "./handler.ts";
import {
  checkEndpointOptions,
  checkMilliseconds,
  checkPositiveInteger,
} from "./_util/option_checks.ts";
import { TimeoutError } from "./errors.ts";
import { openFileLimit } from "./_util/open_file_limit.ts";
import { nextRetryMs } from "./_util/retry.ts";
import { bounded } from "./_util/bounded.ts";
import { Session } from "./_server/session.ts";
import type { SessionSettings } from "./_server/session.ts";
import { BUILTINS } from "./_server/builtins.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import type {
  Address,
  Connection,
  ListenEndpoint,
  Listener,
  TlsServerOptions,
  Transport,
} from "./transport.ts";

export type { Handler, HandlerContext, HandlerResult } from "./handler.ts";

/**
 * Where the server writes what it has to say: `console` fits.
 *
 * @example Send messages to stderr
 * ```ts
 * import { serve } from "./server.ts";
 * import type { Logger } from "./server.ts";
 *
 * const logger: Logger = { info: (message) => console.error(`[oneline] ${message}`) };
 * const server = await serve({ port: 0, logger, handler: () => undefined });
 * await server.close();
 * ```
 */
export interface Logger {
  /** Receives start-up, connection and (when verbose) traffic messages. */
  info(message: string): void;
  /** Receives handler failures; `info` is used when absent. */
  error?(message: string, error?: unknown): void;
}

/**
 * Options of {@linkcode serve}.
 *
 * @example A server others can reach, which no client can shut down
 * ```ts
 * import { serve } from "./server.ts";
 * import type { ServeOptions } from "./server.ts";
 *
 * const options: ServeOptions = {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: (command) => command === "cmd01" ? "ack" : "nak - unknown cmd",
 *   builtins: { shutdown: false },
 *   idleTimeout: 60_000,
 *   logger: null,
 * };
 * const server = await serve(options);
 * await server.close();
 * ```
 */
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
   * are then ignored). A socket file left behind by a server that is gone is
   * replaced; a path where a server still listens, or that holds any other
   * file, fails with `AddressInUseError`. The socket file is removed when the
   * server stops.
   *
   * @default {undefined} (TCP on `hostname` and `port`)
   */
  path?: string;
  /**
   * Serve TLS with this certificate and key instead of plain TCP (not with
   * `path`). Handshakes run apart from serving: a client that fails one, or
   * speaks plain TCP, is just disconnected, and one that takes longer than
   * `handshakeTimeout` is dropped; neither ever takes the one client slot.
   *
   * @default {undefined} (plain TCP)
   */
  tls?: TlsServerOptions;
  /**
   * Most clients that may wait for their turn, TLS handshakes under way
   * included. The server accepts connections as they come and holds them in
   * order; one that arrives while this many wait is closed at once (logged
   * once per stretch of refusals), and one that leaves while it waits is
   * dropped from the queue. Each holds a descriptor: where the process's
   * open-file limit is lower, the server waits for fewer (and logs it).
   *
   * @default {1024}
   */
  maxWaiting?: number;
  /**
   * Milliseconds a TLS client may take over its handshake before it is
   * dropped.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
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
  /**
   * Responses buffered before the server writes them out and waits for the
   * client to take them. A client that stops reading therefore stops the
   * server reading its commands once this much (plus what the operating
   * system buffers) is pending; nothing is lost.
   *
   * @default {1048576}
   */
  maxPendingBytes?: number;
  /**
   * Milliseconds a client may go without making progress before the server
   * disconnects it, so that a waiting client gets its turn. Progress is a
   * complete command received (bytes without an LF do not count) or response
   * bytes the client takes; the time a handler runs does not count (see
   * `handlerTimeout`). A client that trickles a line byte by byte, or that
   * stops reading what it is owed, is thus disconnected. Off when not given.
   *
   * @default {undefined} (no idle timeout)
   */
  idleTimeout?: number;
  /**
   * Milliseconds an async handler may take. When it runs out, the error is
   * logged, what the handler sent so far is written, and the connection is
   * closed (the client sees the server close it), freeing the slot for the
   * next client. Off when not given.
   *
   * @default {undefined} (no handler timeout)
   */
  handlerTimeout?: number;
  /**
   * What to do with a line over `maxLineBytes`: `"handler"` hands its first
   * `maxLineBytes` bytes to the handler flagged `too_long`; `"close"` answers
   * `error - line too long (over N bytes)` and closes the connection as soon
   * as the cap is passed, without waiting for the LF.
   *
   * @default {"handler"}
   */
  lineTooLong?: "handler" | "close";
  /**
   * Turn the `disconnect` or `shutdown` built-in off (`false`): the line then
   * goes to the handler like any other. Turn `shutdown` off on a server that
   * others can reach, so that no client can stop it.
   *
   * @default {{ disconnect: true, shutdown: true }}
   */
  builtins?: { disconnect?: boolean; shutdown?: boolean };
  /**
   * Answers a command whose handler failed: threw, rejected, returned
   * something that is not a line or lines, or ran out of `handlerTimeout`
   * (then with a {@linkcode TimeoutError}). The failure is logged either way;
   * what this returns is sent as the command's answer (nothing when it
   * returns nothing, throws or answers wrongly). Without it a failed command
   * answers nothing.
   *
   * @default {undefined} (a failed command answers nothing)
   */
  onError?: (error: unknown, command: string) => HandlerResult;
  /**
   * Decides, when a connection's turn comes, by the client's address,
   * whether to serve it (`true`) or close it at once (`false`). A check that
   * throws, or that does not settle within `acceptConnectionTimeout`,
   * refuses the connection.
   *
   * @default {undefined} (every connection is served)
   */
  acceptConnection?: (remoteAddr: Address) => boolean | Promise<boolean>;
  /**
   * Milliseconds `acceptConnection` may take before the connection is
   * refused; the next client waits at most this long for a slow check.
   *
   * @default {5000}
   */
  acceptConnectionTimeout?: number;
  /**
   * Closes the server when aborted.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * The socket layer; the runtime's own by default. For tests and exotic
   * runtimes.
   *
   * @default {undefined} (the runtime's own, from `runtimeTransport()`)
   */
  transport?: Transport;
}

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
const DEFAULT_MAX_WAITING = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_ACCEPT_CONNECTION_TIMEOUT_MS = 5000;

// Resolves after `ms`, or at once when `signal` aborts; never leaves a timer.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

// Any thrown value as text: a Symbol or an object without a prototype has no
// string form a template literal could use.
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function sessionSettings(options: ServeOptions): SessionSettings {
  const logger = options.logger === undefined ? console : options.logger;
  const turnedOff = (options.builtins ?? {}) as Record<string, boolean | undefined>;
  return {
    handler: options.handler,
    // A logger that throws must not stop the server, nor its client's answers.
    log(message) {
      try {
        logger?.info(message);
      } catch {
        // Nothing is logged, then.
      }
    },
    logError(message, error) {
      try {
        if (logger?.error) logger.error(message, error);
        else logger?.info(`${message}: ${describe(error)}`);
      } catch {
        // Nothing is logged, then.
      }
    },
    verbose: options.verbose ?? false,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    keepCR: options.keepCR ?? false,
    builtins: BUILTINS.filter((builtin) => turnedOff[builtin.name] !== false),
    idleTimeout: options.idleTimeout,
    handlerTimeout: options.handlerTimeout,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    lineTooLong: options.lineTooLong ?? "handler",
    onError: options.onError,
  };
}

// How serve() makes a server: the constructor stays private to the class.
let construct: (
  listener: Listener,
  options: ServeOptions,
  settings: SessionSettings,
  refusals: { count: number },
) => OnelineServer;

/**
 * A running server, as returned by {@linkcode serve}.
 *
 * @example Start, inspect and stop
 * ```ts
 * import { serve } from "./server.ts";
 *
 * const server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * console.log(server.port, server.running); // e.g. 41234 true
 * await server.close();
 * console.log(server.running); // false
 * ```
 */
export class OnelineServer implements AsyncDisposable {
  /** The bound address; with port 0, the port actually taken. */
  readonly addr: Address;
  /** Resolves once the server has stopped, by `shutdown` or {@linkcode close}. */
  readonly finished: Promise<void>;
  readonly #listener: Listener;
  readonly #settings: SessionSettings;
  readonly #acceptConnection: ServeOptions["acceptConnection"];
  readonly #acceptConnectionTimeout: number;
  readonly #stopper = new AbortController();
  // Connections refused since the last one served, because maxWaiting waited.
  readonly #refusals: { count: number };
  #session: Session | undefined;
  // Sessions the server has ended whose connections are still closing politely.
  readonly #closing = new Set<Session>();

  /** Use {@linkcode serve}, which validates the options and binds first. */
  private constructor(
    listener: Listener,
    options: ServeOptions,
    settings: SessionSettings,
    refusals: { count: number },
  ) {
    this.#listener = listener;
    this.#refusals = refusals;
    this.addr = listener.addr;
    this.#settings = settings;
    this.#acceptConnection = options.acceptConnection;
    this.#acceptConnectionTimeout = options.acceptConnectionTimeout ??
      DEFAULT_ACCEPT_CONNECTION_TIMEOUT_MS;
    this.finished = this.#acceptLoop();
  }

  static {
    construct = (...args) => new OnelineServer(...args);
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
    return !this.#stopper.signal.aborted;
  }

  /**
   * Stops the server: closes the current connection and the listener. A
   * handler still running is abandoned (its `signal` is aborted). Safe to
   * call more than once.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  close(): Promise<void> {
    if (!this.#stopper.signal.aborted) {
      this.#stopper.abort();
      this.#listener.close();
      this.#session?.stop("stopped");
      for (const session of this.#closing) session.stop("stopped");
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

  async #acceptLoop(): Promise<void> {
    let retryMs = 0;
    while (this.running) {
      let connection: Connection | null;
      try {
        connection = await this.#listener.accept();
        retryMs = 0;
      } catch (error) {
        // Such as running out of file descriptors: logged once, then back off, doubling.
        if (retryMs === 0) this.#settings.logError("accept failed; backing off", error);
        retryMs = nextRetryMs(retryMs);
        await sleep(retryMs, this.#stopper.signal);
        continue;
      }
      if (connection === null) break;
      try {
        await this.#serve(connection);
      } catch (error) {
        // Nothing a client does may stop the server: whatever escaped ends that connection only.
        this.#settings.logError("a connection failed", error);
        this.#session = undefined;
        try {
          connection.close();
        } catch {
          // Its transport failed to close it; nothing more can be done with it.
        }
      }
    }
    await this.#listener.close();
    this.#settings.log("stopped");
  }

  async #serve(connection: Connection): Promise<void> {
    const { log, verbose } = this.#settings;
    if (this.#refusals.count > 0) {
      log(`refused ${this.#refusals.count} client(s) while the queue was full`);
      this.#refusals.count = 0;
    }
    if (!await this.#admit(connection) || !this.running) {
      connection.close();
      return;
    }
    const session = new Session(connection, this.#settings);
    this.#session = session;
    if (verbose) log(`${session.peer} connected`);
    const end = await session.run();
    this.#session = undefined;
    if (verbose) log(`${session.peer} ${end === "closed" ? "closed" : `ended: ${end}`}`);
    // Serving the next client does not wait for this one's polite close.
    this.#closing.add(session);
    session.closed.then(() => this.#closing.delete(session));
    if (end === "shutdown") {
      log("shutdown requested");
      // Closing at once could reset the connection before the client has read every answer.
      await session.closed;
      this.close();
    }
  }

  async #admit(connection: Connection): Promise<boolean> {
    if (this.#acceptConnection === undefined) return true;
    const peer = formatAddress(connection.remoteAddr);
    const ms = this.#acceptConnectionTimeout;
    const stopper = this.#stopper.signal;
    let admitted: unknown;
    try {
      // A server that stops does not wait for the check.
      admitted = await bounded(
        Promise.resolve(this.#acceptConnection(connection.remoteAddr)),
        ms,
        stopper,
        () => new TimeoutError(`the check took over ${ms} ms`, ms),
      );
    } catch (error) {
      if (!stopper.aborted) {
        this.#settings.logError(`connection check failed for ${peer}; refused`, error);
      }
      return false;
    }
    if (typeof admitted !== "boolean") {
      this.#settings.logError(
        `connection check for ${peer} returned ${describe(admitted)}, not a boolean; refused`,
        new TypeError("acceptConnection must return true or false"),
      );
      return false;
    }
    if (!admitted) this.#settings.log(`refused connection from ${peer}`);
    return admitted;
  }
}

function checkServeOptions(options: ServeOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("serve() needs an options object with a handler");
  }
  if (typeof options.handler !== "function") {
    throw new TypeError(`options.handler must be a function, got ${typeof options.handler}`);
  }
  checkEndpointOptions(options, 0);
  if (options.tls !== undefined) {
    if (typeof options.tls?.cert !== "string" || typeof options.tls?.key !== "string") {
      throw new TypeError("options.tls needs cert and key, both PEM strings");
    }
  }
  checkPositiveInteger(options.maxLineBytes, "options.maxLineBytes");
  checkMilliseconds(options.idleTimeout, "options.idleTimeout", false);
  checkMilliseconds(options.handlerTimeout, "options.handlerTimeout", false);
  checkMilliseconds(options.handshakeTimeout, "options.handshakeTimeout", false);
  checkMilliseconds(options.acceptConnectionTimeout, "options.acceptConnectionTimeout", false);
  checkPositiveInteger(options.maxWaiting, "options.maxWaiting");
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError("options.onError must be a function");
  }
  checkPositiveInteger(options.maxPendingBytes, "options.maxPendingBytes");
  if (options.lineTooLong !== undefined && !["handler", "close"].includes(options.lineTooLong)) {
    throw new TypeError(
      `options.lineTooLong must be "handler" or "close", got ${options.lineTooLong}`,
    );
  }
  const optional = BUILTINS.filter((builtin) => builtin.optional).map((builtin) => builtin.name);
  for (const [name, value] of Object.entries(options.builtins ?? {})) {
    if (!optional.includes(name)) {
      throw new TypeError(
        `options.builtins.${name}: only ${optional.join(" and ")} can be turned off`,
      );
    }
    if (typeof value !== "boolean") {
      throw new TypeError(`options.builtins.${name} must be a boolean, got ${typeof value}`);
    }
  }
  if (options.acceptConnection !== undefined && typeof options.acceptConnection !== "function") {
    throw new TypeError("options.acceptConnection must be a function");
  }
  if (options.logger != null && typeof options.logger.info !== "function") {
    throw new TypeError("options.logger must have an info method");
  }
}

// Descriptors kept free for everything else the process opens.
const SPARE_DESCRIPTORS = 64;

// Every waiting client holds a descriptor: a queue the open-file limit cannot
// hold would run the process out of descriptors (where Bun's own accept loop
// then spins), so it is cut to fit, and that is said.
function waitingWithinFileLimit(maxWaiting: number, settings: SessionSettings): number {
  const limit = openFileLimit();
  if (limit === undefined || maxWaiting <= limit - SPARE_DESCRIPTORS) return maxWaiting;
  const fits = Math.max(1, limit - SPARE_DESCRIPTORS);
  settings.log(
    `maxWaiting ${maxWaiting} is more than the open-file limit (${limit}) allows: ${fits} wait at most`,
  );
  return fits;
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
export async function serve(options: ServeOptions): Promise<OnelineServer> {
  checkServeOptions(options);
  options.signal?.throwIfAborted();
  const transport = options.transport ?? await runtimeTransport();
  const endpoint: ListenEndpoint = options.path !== undefined
    ? { path: options.path, tls: options.tls }
    : { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 5001, tls: options.tls };
  const settings = sessionSettings(options);
  const maxWaiting = waitingWithinFileLimit(options.maxWaiting ?? DEFAULT_MAX_WAITING, settings);
  const refusals = { count: 0 };
  const listener = await transport.listen(endpoint, {
    maxWaiting,
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    onRefused() {
      // Once per stretch of refusals; the count is logged when it ends.
      if (refusals.count++ === 0) settings.log(`${maxWaiting} clients wait: refusing more`);
    },
  });
  if (options.signal?.aborted) {
    // Aborted while it was binding: it never serves.
    await listener.close();
    options.signal.throwIfAborted();
  }
  const server = construct(listener, options, settings, refusals);
  const signal = options.signal;
  if (signal) {
    const onAbort = () => server.close();
    signal.addEventListener("abort", onAbort, { once: true });
    server.finished.then(() => signal.removeEventListener("abort", onAbort));
  }
  settings.log(`listening on ${formatAddress(server.addr)}`);
  return server;
}
