/**
 * The oneline server: one client at a time, one line per command, zero or
 * more response lines per command.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "./framing.ts";
import type { ReadTerminator, WriteTerminator } from "./framing.ts";
import { checkKeepCR, checkReadTerminator, checkWriteTerminator } from "./_framing/terminators.ts";
import type { Handler, HandlerResult } from "./handler.ts";
import {
  checkBoolean,
  checkEndpointOptions,
  checkKnownKeys,
  checkMilliseconds,
  checkPositiveInteger,
  describeValue,
} from "./_util/option_checks.ts";
import { TimeoutError } from "./errors.ts";
import { openFileLimit } from "./_util/open_file_limit.ts";
import { nextRetryMs } from "./_util/retry.ts";
import { CallLimit } from "./_util/call_limit.ts";
import { sleep, systemClock } from "./_util/clock.ts";
import { Session } from "./_server/session.ts";
import type { SessionEnd, SessionObserver, SessionSettings } from "./_server/session.ts";
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

export type { Handler, HandlerContext, HandlerResult, ResponseLine } from "./handler.ts";
export type { SessionEnd as DisconnectReason } from "./_server/session.ts";

/**
 * A client whose turn it is or was, as {@linkcode OnelineServer.current} and
 * the {@linkcode ServerHooks} see it.
 *
 * @example Who holds the slot
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./server.ts";
 * import type { ClientInfo } from "./server.ts";
 *
 * const seen: ClientInfo[] = [];
 * await using server = await serve({
 *   port: 0,
 *   logger: null,
 *   handler: () => "ok",
 *   on: { connect: (client) => void seen.push(client) },
 * });
 * assert.equal(server.current, undefined);
 * assert.equal(seen.length, 0);
 * ```
 */
export interface ClientInfo {
  /** 1 for the first client served, then 2, 3, … */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: Address;
  /** When its turn began, in milliseconds since the epoch. */
  readonly since: number;
}

/**
 * Functions the server calls as clients come and go, for operators: to log,
 * count or show who holds the slot. They run synchronously on the serving
 * path, so keep them short; one that throws is logged and otherwise ignored.
 *
 * @example Log each client's turn
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./server.ts";
 * import type { ServerHooks } from "./server.ts";
 *
 * const events: string[] = [];
 * const on: ServerHooks = {
 *   connect: (client) => void events.push(`connect ${client.id}`),
 *   command: (command) => void events.push(command),
 *   disconnect: (client, reason) => void events.push(`${reason} ${client.id}`),
 * };
 * const server = await serve({ port: 0, logger: null, handler: () => "ok", on });
 * await server.close();
 * assert.deepEqual(events, []);
 * ```
 */
export interface ServerHooks {
  /** A client's turn begins (after `acceptConnection` let it in). */
  connect?(client: ClientInfo): void;
  /** A client's turn ended, and why. */
  disconnect?(client: ClientInfo, reason: SessionEnd): void;
  /**
   * A command arrived, built-ins included, before it is answered. `builtin`
   * says whether the server answers it itself (`ping`, and `disconnect` and
   * `shutdown` while on) rather than the handler: a line whose text reads
   * `ping` but whose bytes do not decode is the handler's. Setting the hook
   * makes the server decode every line, `ping` too.
   */
  command?(command: string, client: ClientInfo, builtin: boolean): void;
  /**
   * A command failed (its handler threw, rejected, answered wrongly or timed
   * out; `client` is its client), or a connection or accept failed.
   */
  error?(error: unknown, client: ClientInfo | undefined): void;
}

/**
 * Counts since the server started, from {@linkcode OnelineServer.stats}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./server.ts";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * assert.deepEqual(server.stats, { connections: 0, commands: 0, errors: 0, refused: 0 });
 * ```
 */
export interface ServerStats {
  /** Clients served (each had a turn). */
  connections: number;
  /** Commands received, built-ins included. */
  commands: number;
  /** Failed commands, and connections or accepts that failed. */
  errors: number;
  /** Connections refused: by `acceptConnection`, or because `maxWaiting` clients waited. */
  refused: number;
}

/**
 * Where the server writes what it has to say: `console` fits.
 *
 * @example Collect the messages (send them to stderr with `console.error` instead)
 * ```ts
 * import { serve } from "./server.ts";
 * import type { Logger } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const messages: string[] = [];
 * const logger: Logger = { info: (message) => messages.push(`[oneline] ${message}`) };
 * const server = await serve({ port: 0, logger, handler: () => undefined });
 * await server.close();
 * assert.ok(messages.some((message) => message.includes(`${server.port}`)));
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
 * import { connect } from "./client.ts";
 * import { serve } from "./server.ts";
 * import type { ServeOptions } from "./server.ts";
 * import assert from "node:assert/strict";
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
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * // With the built-in off, "shutdown" goes to the handler like any command.
 * assert.equal(await client.request("shutdown"), "nak - unknown cmd");
 * assert.equal(server.running, true);
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
   * Listen on this Unix socket path instead of TCP (not with `hostname`,
   * `port` or `tls`: that is a `TypeError`). A socket file left behind by a server that is gone is
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
   * Keep a CR before the LF instead of dropping it (only with
   * `readTerminator` `"\n"`).
   *
   * @default {false}
   */
  keepCR?: boolean;
  /**
   * What ends a command: LF (`"\n"`; a CR right before it is dropped unless
   * `keepCR`), CR alone (`"\r"`), or `"any"` of CR, LF and CRLF, for clients
   * that end lines differently. Under `"any"` a CRLF ends one command even
   * when its CR and LF arrive apart, and a NUL right after a CR is dropped
   * (telnet sends a lone CR as CR NUL).
   *
   * @default {"\n"}
   */
  readTerminator?: ReadTerminator;
  /**
   * What ends each response line: LF, CRLF or CR. The built-ins' answers
   * and the server's own (`error - line too long …`) end with it too.
   *
   * @default {"\n"}
   */
  writeTerminator?: WriteTerminator;
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
   * Milliseconds a client that the server disconnects (by `disconnect`,
   * `shutdown`, a timeout or a line too long) may take to read its last
   * answers and close its end. The server sends its end of stream at once and
   * serves the next client meanwhile; past this time the connection is cut.
   *
   * @default {1000}
   */
  closeTimeout?: number;
  /**
   * Functions called as clients come and go, commands arrive and errors
   * happen.
   *
   * @default {undefined} (none)
   */
  on?: ServerHooks;
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
const DEFAULT_CLOSE_TIMEOUT_MS = 1000;

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
    readTerminator: options.readTerminator ?? "\n",
    writeTerminator: options.writeTerminator ?? "\n",
    builtins: BUILTINS.filter((builtin) => turnedOff[builtin.name] !== false),
    idleTimeout: options.idleTimeout,
    handlerTimeout: options.handlerTimeout,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    lineTooLong: options.lineTooLong ?? "handler",
    onError: options.onError,
    closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS,
    clock: systemClock,
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
 * import assert from "node:assert/strict";
 *
 * const server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * assert.ok((server.port ?? 0) > 0); // port 0 asks for any free port; a Unix socket has none
 * assert.equal(server.running, true);
 * await server.close();
 * assert.equal(server.running, false);
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
  // The client whose turn it is, and its session.
  #turn: { client: ClientInfo; session: Session } | undefined;
  readonly #hooks: ServerHooks;
  // shutdown() was called: no more clients, the current one finishes its command.
  #draining = false;
  // Counts of ServerStats; commands of the current client are added when its turn ends.
  #served = 0;
  #commands = 0;
  #errors = 0;
  #refused = 0;
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
    this.#hooks = options.on ?? {};
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
    return !this.#stopper.signal.aborted && !this.#draining;
  }

  /**
   * The client whose turn it is.
   *
   * @returns The client, or `undefined` while no client is served.
   */
  get current(): ClientInfo | undefined {
    return this.#turn?.client;
  }

  /**
   * How many clients wait for their turn (TLS handshakes under way included).
   * A client that leaves while it waits stops counting at once.
   *
   * @returns The count; 0 when the transport cannot tell.
   */
  get waiting(): number {
    return this.#listener.waiting ?? 0;
  }

  /**
   * Counts since the server started.
   *
   * @returns A snapshot of the counts.
   */
  get stats(): ServerStats {
    return {
      connections: this.#served,
      commands: this.#commands + (this.#turn?.session.commands ?? 0),
      errors: this.#errors,
      refused: this.#refused + this.#refusals.count,
    };
  }

  /**
   * Stops the server gracefully: stops listening (clients still waiting are
   * closed), lets the current client's command under way finish and its
   * answers go out, then closes that connection politely. Commands the
   * client sent after it are not served. A handler that never settles keeps
   * it waiting, unless `handlerTimeout` is set: call {@linkcode close} to cut
   * it off. Safe to call more than once.
   *
   * A handler may call it, and await it: while a handler runs, the promise
   * does not wait for that command (which may be the caller), only for the
   * listener and the waiting clients to be closed; the command's answer
   * then goes out and the server stops, as {@linkcode finished} tells.
   *
   * @returns A promise that resolves once the server has stopped (while a
   *   handler runs: once nothing but its command is left).
   */
  shutdown(): Promise<void> {
    if (this.running) {
      this.#draining = true;
      this.#listener.close();
      this.#turn?.session.finish();
    }
    // Closing the listener again returns the same promise.
    return this.#turn?.session.handling ? this.#listener.close() : this.finished;
  }

  /**
   * Stops the server at once: closes the current connection and the
   * listener. A handler still running is abandoned (its `signal` is
   * aborted). Safe to call more than once, also during {@linkcode shutdown}.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  close(): Promise<void> {
    if (!this.#stopper.signal.aborted) {
      this.#stopper.abort();
      this.#listener.close();
      this.#turn?.session.stop("stopped");
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
        this.#failed(error, undefined);
        retryMs = nextRetryMs(retryMs);
        await sleep(this.#settings.clock, retryMs, this.#stopper.signal);
        continue;
      }
      if (connection === null) break;
      try {
        await this.#serve(connection);
      } catch (error) {
        // Nothing a client does may stop the server: whatever escaped ends that connection only.
        this.#settings.logError("a connection failed", error);
        this.#failed(error, this.#turn?.client);
        this.#turn = undefined;
        try {
          connection.close();
        } catch {
          // Its transport failed to close it; nothing more can be done with it.
        }
      }
    }
    await this.#listener.close();
    // Stopped means every connection closed, those still closing politely too.
    await Promise.all([...this.#closing].map((session) => session.closed));
    this.#settings.log("stopped");
  }

  // Calls a hook; one that throws is logged, and changes nothing else.
  #call<K extends keyof ServerHooks>(
    name: K,
    ...args: Parameters<NonNullable<ServerHooks[K]>>
  ): void {
    const hook = this.#hooks[name] as ((...args: unknown[]) => void) | undefined;
    if (hook === undefined) return;
    try {
      hook(...args);
    } catch (error) {
      this.#settings.logError(`the ${name} hook failed`, error);
    }
  }

  #failed(error: unknown, client: ClientInfo | undefined): void {
    this.#errors++;
    this.#call("error", error, client);
  }

  // What a session tells the server about its client.
  #observe(client: ClientInfo): SessionObserver {
    const observer: SessionObserver = { failed: (error) => this.#failed(error, client) };
    if (this.#hooks.command !== undefined) {
      observer.command = (command, builtin) => this.#call("command", command, client, builtin);
    }
    return observer;
  }

  async #serve(connection: Connection): Promise<void> {
    const { log, verbose } = this.#settings;
    if (this.#refusals.count > 0) {
      log(`refused ${this.#refusals.count} client(s) while the queue was full`);
      this.#refused += this.#refusals.count;
      this.#refusals.count = 0;
    }
    const admitted = await this.#admit(connection);
    if (!admitted) this.#refused++;
    if (!admitted || !this.running) {
      connection.close();
      return;
    }
    const client: ClientInfo = {
      id: ++this.#served,
      remoteAddr: connection.remoteAddr,
      since: Date.now(),
    };
    const session = new Session(connection, this.#settings, this.#observe(client));
    this.#turn = { client, session };
    if (verbose) log(`${session.peer} connected`);
    this.#call("connect", client);
    const end = await session.run();
    this.#turn = undefined;
    this.#commands += session.commands;
    this.#call("disconnect", client, end);
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
    // A server that stops does not wait for the check.
    const limit = new CallLimit(
      ms,
      [stopper],
      () => new TimeoutError(`the check took over ${ms} ms`, ms),
      this.#settings.clock,
    );
    try {
      admitted = await limit.wait(
        Promise.resolve(this.#acceptConnection(connection.remoteAddr)),
        "check",
      );
    } catch (error) {
      if (!stopper.aborted) {
        this.#settings.logError(`connection check failed for ${peer}; refused`, error);
      }
      return false;
    } finally {
      limit.dispose();
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

// Every option of serve() and of its `tls`, so that a misspelt one is refused;
// `satisfies` keeps each list in step with its type.
const SERVE_OPTIONS = {
  handler: true,
  hostname: true,
  port: true,
  path: true,
  tls: true,
  maxWaiting: true,
  handshakeTimeout: true,
  logger: true,
  verbose: true,
  maxLineBytes: true,
  keepCR: true,
  readTerminator: true,
  writeTerminator: true,
  maxPendingBytes: true,
  idleTimeout: true,
  handlerTimeout: true,
  lineTooLong: true,
  builtins: true,
  onError: true,
  acceptConnection: true,
  acceptConnectionTimeout: true,
  closeTimeout: true,
  on: true,
  signal: true,
  transport: true,
} as const satisfies Record<keyof ServeOptions, true>;
const HOOKS = {
  connect: true,
  disconnect: true,
  command: true,
  error: true,
} as const satisfies Record<
  keyof ServerHooks,
  true
>;
const TLS_OPTIONS = { cert: true, key: true } as const satisfies Record<
  keyof TlsServerOptions,
  true
>;

function checkServeOptions(options: ServeOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("serve() needs an options object with a handler");
  }
  checkKnownKeys(options, SERVE_OPTIONS, "options");
  if (typeof options.handler !== "function") {
    throw new TypeError(
      `options.handler must be a function, got ${describeValue(options.handler)}`,
    );
  }
  checkEndpointOptions(options, 0);
  if (options.tls !== undefined) {
    // A misspelt key is named before the key it was meant to be is missed.
    if (typeof options.tls === "object" && options.tls !== null) {
      checkKnownKeys(options.tls, TLS_OPTIONS, "options.tls");
    }
    if (typeof options.tls?.cert !== "string" || typeof options.tls?.key !== "string") {
      throw new TypeError("options.tls needs cert and key, both PEM strings");
    }
  }
  checkBoolean(options.verbose, "options.verbose");
  checkBoolean(options.keepCR, "options.keepCR");
  checkReadTerminator(options.readTerminator, "options.readTerminator");
  checkWriteTerminator(options.writeTerminator, "options.writeTerminator");
  checkKeepCR(options);
  checkPositiveInteger(options.maxLineBytes, "options.maxLineBytes");
  checkMilliseconds(options.idleTimeout, "options.idleTimeout", false);
  checkMilliseconds(options.handlerTimeout, "options.handlerTimeout", false);
  checkMilliseconds(options.handshakeTimeout, "options.handshakeTimeout", false);
  checkMilliseconds(options.acceptConnectionTimeout, "options.acceptConnectionTimeout", false);
  checkMilliseconds(options.closeTimeout, "options.closeTimeout", false);
  checkPositiveInteger(options.maxWaiting, "options.maxWaiting");
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(
      `options.onError must be a function, got ${describeValue(options.onError)}`,
    );
  }
  checkPositiveInteger(options.maxPendingBytes, "options.maxPendingBytes");
  if (options.lineTooLong !== undefined && !["handler", "close"].includes(options.lineTooLong)) {
    throw new TypeError(
      `options.lineTooLong must be "handler" or "close", got ${describeValue(options.lineTooLong)}`,
    );
  }
  const optional = BUILTINS.filter((builtin) => builtin.optional).map((builtin) => builtin.name);
  for (const [name, value] of Object.entries(options.builtins ?? {})) {
    if (!optional.includes(name)) {
      throw new TypeError(
        `options.builtins.${name}: only ${optional.join(" and ")} can be turned off`,
      );
    }
    checkBoolean(value, `options.builtins.${name}`);
  }
  if (options.acceptConnection !== undefined && typeof options.acceptConnection !== "function") {
    throw new TypeError(
      `options.acceptConnection must be a function, got ${describeValue(options.acceptConnection)}`,
    );
  }
  if (options.logger != null && typeof options.logger.info !== "function") {
    throw new TypeError("options.logger must have an info method");
  }
  if (options.on !== undefined) {
    if (typeof options.on !== "object" || options.on === null) {
      throw new TypeError(`options.on must be an object, got ${describeValue(options.on)}`);
    }
    checkKnownKeys(options.on, HOOKS, "options.on");
    for (const [name, hook] of Object.entries(options.on)) {
      if (hook !== undefined && typeof hook !== "function") {
        throw new TypeError(`options.on.${name} must be a function, got ${describeValue(hook)}`);
      }
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(
      `options.signal must be an AbortSignal, got ${describeValue(options.signal)}`,
    );
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
 * @throws {TypeError} When an option has the wrong type (such as no handler),
 *   is not an option (a misspelt name), or `path` comes with `hostname`, `port` or `tls`.
 * @throws {RangeError} When the port or line cap is out of range.
 * @throws {AddressInUseError} When the address is already taken.
 *
 * @example A server that acknowledges `cmd01`
 * ```ts
 * import { connect } from "./client.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({
 *   port: 0,
 *   handler: (command, context) => {
 *     if (context.invalid) return "nak - invalid cmd";
 *     return command === "cmd01" ? "ack" : "nak - unknown cmd";
 *   },
 * });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * assert.equal(await client.request("cmd02"), "nak - unknown cmd");
 * assert.equal(await client.request("ping"), "pong"); // built-ins never reach the handler
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
    closeTimeout: settings.closeTimeout,
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
