/**
 * The options of {@linkcode serve}: their types, and their check, made once
 * when the server starts.
 *
 * @module
 */

import type { ReadTerminator, WriteTerminator } from "../framing.ts";
import { checkKeepCR, checkReadTerminator, checkWriteTerminator } from "../_framing/terminators.ts";
import type { BytesHandler, Handler, HandlerResult } from "../handler.ts";
import * as checks from "../_util/option_checks.ts";
import type { SessionEnd as DisconnectReason } from "./phase.ts";
import { BUILTINS } from "./builtins.ts";
import type { Address, TlsServerOptions, Transport } from "../transport.ts";

/**
 * A client whose turn it is or was, as {@linkcode OnelineServer.current} and
 * the {@linkcode ServerHooks} see it.
 *
 * @example Who holds the slot
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "../server.ts";
 * import type { ClientInfo } from "../server.ts";
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
 * import { serve } from "../server.ts";
 * import type { ServerHooks } from "../server.ts";
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
  disconnect?(client: ClientInfo, reason: DisconnectReason): void;
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
 * Where the server writes what it has to say: `console` fits.
 *
 * @example Collect the messages (send them to stderr with `console.error` instead)
 * ```ts
 * import { serve } from "../server.ts";
 * import type { Logger } from "../server.ts";
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
 * import { connect } from "../client.ts";
 * import { serve } from "../server.ts";
 * import type { ServeOptions } from "../server.ts";
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
  /**
   * Handles every command that is not a built-in, as text. Give it or
   * `bytesHandler`, not both.
   */
  handler?: Handler;
  /**
   * Handles every command that is not a built-in, as bytes that are never
   * decoded (see {@linkcode BytesHandler}), in place of `handler`.
   */
  bytesHandler?: BytesHandler;
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

// Every option of serve() and of its `tls`, so that a misspelt one is refused;
// `satisfies` keeps each list in step with its type.
const SERVE_OPTIONS = {
  handler: true,
  bytesHandler: true,
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

// Exactly one of handler and bytesHandler, a function.
function checkHandlers({ handler, bytesHandler }: ServeOptions): void {
  if (handler !== undefined && bytesHandler !== undefined) {
    throw new TypeError("options.handler and options.bytesHandler do not go together: give one");
  }
  const [name, value] = bytesHandler === undefined
    ? ["handler", handler]
    : ["bytesHandler", bytesHandler];
  if (typeof value !== "function") {
    throw new TypeError(`options.${name} must be a function, got ${checks.describeValue(value)}`);
  }
}

/**
 * Checks the options of `serve()`, once, before anything is bound.
 *
 * @param options The options as given.
 * @throws {TypeError} When one has the wrong type or is not an option, or
 *   `path` comes with `hostname`, `port` or `tls`.
 * @throws {RangeError} When a number is out of range.
 *
 * @example Usage
 * ```ts
 * import { checkServeOptions } from "./serve_options.ts";
 * import type { ServeOptions } from "./serve_options.ts";
 * import assert from "node:assert/strict";
 *
 * checkServeOptions({ handler: () => "ok", port: 0, builtins: { shutdown: false } });
 * const misspelt = { handler: () => "ok", verbos: true } as ServeOptions;
 * assert.throws(() => checkServeOptions(misspelt), {
 *   name: "TypeError",
 *   message: "options.verbos is not an option (did you mean verbose?)",
 * });
 * ```
 */
export function checkServeOptions(options: ServeOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("serve() needs an options object with a handler");
  }
  checks.checkKnownKeys(options, SERVE_OPTIONS, "options");
  checkHandlers(options);
  checks.checkEndpointOptions(options, 0);
  if (options.tls !== undefined) {
    // A misspelt key is named before the key it was meant to be is missed.
    if (typeof options.tls === "object" && options.tls !== null) {
      checks.checkKnownKeys(options.tls, TLS_OPTIONS, "options.tls");
    }
    if (typeof options.tls?.cert !== "string" || typeof options.tls?.key !== "string") {
      throw new TypeError("options.tls needs cert and key, both PEM strings");
    }
  }
  checks.checkBoolean(options.verbose, "options.verbose");
  checks.checkBoolean(options.keepCR, "options.keepCR");
  checkReadTerminator(options.readTerminator, "options.readTerminator");
  checkWriteTerminator(options.writeTerminator, "options.writeTerminator");
  checkKeepCR(options);
  checks.checkPositiveInteger(options.maxLineBytes, "options.maxLineBytes");
  checks.checkMilliseconds(options.idleTimeout, "options.idleTimeout", false);
  checks.checkMilliseconds(options.handlerTimeout, "options.handlerTimeout", false);
  checks.checkMilliseconds(options.handshakeTimeout, "options.handshakeTimeout", false);
  checks.checkMilliseconds(
    options.acceptConnectionTimeout,
    "options.acceptConnectionTimeout",
    false,
  );
  checks.checkMilliseconds(options.closeTimeout, "options.closeTimeout", false);
  checks.checkPositiveInteger(options.maxWaiting, "options.maxWaiting");
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(
      `options.onError must be a function, got ${checks.describeValue(options.onError)}`,
    );
  }
  checks.checkPositiveInteger(options.maxPendingBytes, "options.maxPendingBytes");
  if (options.lineTooLong !== undefined && !["handler", "close"].includes(options.lineTooLong)) {
    throw new TypeError(
      `options.lineTooLong must be "handler" or "close", got ${
        checks.describeValue(options.lineTooLong)
      }`,
    );
  }
  const optional = BUILTINS.filter((builtin) => builtin.optional).map((builtin) => builtin.name);
  for (const [name, value] of Object.entries(options.builtins ?? {})) {
    if (!optional.includes(name)) {
      throw new TypeError(
        `options.builtins.${name}: only ${optional.join(" and ")} can be turned off`,
      );
    }
    checks.checkBoolean(value, `options.builtins.${name}`);
  }
  if (options.acceptConnection !== undefined && typeof options.acceptConnection !== "function") {
    throw new TypeError(
      `options.acceptConnection must be a function, got ${
        checks.describeValue(options.acceptConnection)
      }`,
    );
  }
  if (options.logger != null && typeof options.logger.info !== "function") {
    throw new TypeError("options.logger must have an info method");
  }
  if (options.on !== undefined) {
    if (typeof options.on !== "object" || options.on === null) {
      throw new TypeError(`options.on must be an object, got ${checks.describeValue(options.on)}`);
    }
    checks.checkKnownKeys(options.on, HOOKS, "options.on");
    for (const [name, hook] of Object.entries(options.on)) {
      if (hook !== undefined && typeof hook !== "function") {
        throw new TypeError(
          `options.on.${name} must be a function, got ${checks.describeValue(hook)}`,
        );
      }
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(
      `options.signal must be an AbortSignal, got ${checks.describeValue(options.signal)}`,
    );
  }
}
