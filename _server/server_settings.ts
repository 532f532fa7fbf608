/**
 * The settings a server and its sessions run with: the options of
 * {@linkcode serve}, checked, with their defaults filled in.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "../framing.ts";
import { openFileLimit } from "../_util/open_file_limit.ts";
import { describe } from "../_util/describe.ts";
import { systemClock } from "../_util/clock.ts";
import type { ListenEndpoint } from "../transport.ts";
import { optionsEndpoint } from "../_transport/default_endpoint.ts";
import { BUILTINS } from "./builtins.ts";
import type { Builtin } from "./builtins.ts";
import type { ReadTerminator } from "../framing.ts";
import { terminatorBytes } from "../_framing/terminators.ts";
import type { BytesHandler, Handler, HandlerResult } from "../handler.ts";
import type { Clock } from "../_util/clock.ts";
import type { Logger, ServeOptions, ServerHooks } from "./serve_options.ts";

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
const DEFAULT_MAX_WAITING = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_ACCEPT_CONNECTION_TIMEOUT_MS = 5000;
const DEFAULT_CLOSE_TIMEOUT_MS = 1000;

// Descriptors kept free for everything else the process opens.
const SPARE_DESCRIPTORS = 64;

// Every waiting client holds a descriptor: a queue the open-file limit cannot
// hold would run the process out of descriptors (where Bun's own accept loop
// then spins), so it is cut to fit, and that is said.
function waitingWithinFileLimit(maxWaiting: number, log: Log): number {
  const limit = openFileLimit();
  if (limit === undefined || maxWaiting <= limit - SPARE_DESCRIPTORS) return maxWaiting;
  const fits = Math.max(1, limit - SPARE_DESCRIPTORS);
  log.log(
    `maxWaiting ${maxWaiting} is more than the open-file limit (${limit}) allows: ${fits} wait at most`,
  );
  return fits;
}

// Where the server's messages go: a logger that throws must not stop the
// server, nor its client's answers.
interface Log {
  log(message: string): void;
  logError(message: string, error: unknown): void;
}

function logTo(logger: Logger | null): Log {
  return {
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
  };
}

/** The server's settings that a session follows. */
export interface SessionSettings {
  /** The user's handler, and whether it takes each command as text or as bytes. */
  handler: { decodes: true; handle: Handler } | { decodes: false; handle: BytesHandler };
  log(message: string): void;
  logError(message: string, error: unknown): void;
  verbose: boolean;
  maxLineBytes: number;
  keepCR: boolean;
  /** What ends each command. */
  readTerminator: ReadTerminator;
  /** What ends each response line, the built-ins' answers included: `writeTerminator`'s bytes. */
  responseTerminator: Uint8Array;
  /** The built-ins in force, from the table. */
  builtins: readonly Builtin[];
  idleTimeout: number | undefined;
  handlerTimeout: number | undefined;
  maxPendingBytes: number;
  lineTooLong: "handler" | "close";
  onError: ((error: unknown, command: string) => HandlerResult) | undefined;
  /** How long a client the server disconnects may take to read its last answers and close. */
  closeTimeout: number;
  /** Times the idle, handler and close timeouts. */
  clock: Clock;
}

function sessionSettings(options: ServeOptions, log: Log): SessionSettings {
  const turnedOff = (options.builtins ?? {}) as Record<string, boolean | undefined>;
  return {
    handler: options.bytesHandler === undefined
      ? { decodes: true, handle: options.handler! }
      : { decodes: false, handle: options.bytesHandler },
    log: log.log,
    logError: log.logError,
    verbose: options.verbose ?? false,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    keepCR: options.keepCR ?? false,
    readTerminator: options.readTerminator ?? "\n",
    responseTerminator: terminatorBytes(options.writeTerminator ?? "\n"),
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

/** What a server runs with: its checked options, with the defaults filled in. */
export interface ServerSettings {
  /** What each client's session runs with; its `log` and `logError` are the server's too. */
  session: SessionSettings;
  /** Where to listen. */
  endpoint: ListenEndpoint;
  /** Most clients that wait, cut to what the open-file limit allows. */
  maxWaiting: number;
  /** Ms a TLS handshake may take. */
  handshakeTimeout: number;
  /** Decides whether a client is served; undefined serves every one. */
  acceptConnection: ServeOptions["acceptConnection"];
  /** Ms `acceptConnection` may take. */
  acceptConnectionTimeout: number;
  /** The operator's hooks. */
  hooks: ServerHooks;
}

/**
 * The settings of a server started with these options: the defaults filled
 * in. A `maxWaiting` over what the open-file limit allows is cut, and that
 * is logged.
 *
 * @param options The options of `serve()`, checked.
 * @returns The settings.
 *
 * @example Usage
 * ```ts
 * import { serverSettings } from "./server_settings.ts";
 * import assert from "node:assert/strict";
 *
 * const settings = serverSettings({ handler: () => "ok", port: 0, logger: null });
 * assert.deepEqual(settings.endpoint, { hostname: "127.0.0.1", port: 0, tls: undefined });
 * assert.equal(settings.session.lineTooLong, "handler");
 * assert.deepEqual(settings.session.builtins.map((builtin) => builtin.name), [
 *   "ping",
 *   "disconnect",
 *   "shutdown",
 * ]);
 * ```
 */
export function serverSettings(options: ServeOptions): ServerSettings {
  const log = logTo(options.logger === undefined ? console : options.logger);
  return {
    session: sessionSettings(options, log),
    endpoint: optionsEndpoint(options),
    maxWaiting: waitingWithinFileLimit(options.maxWaiting ?? DEFAULT_MAX_WAITING, log),
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    acceptConnection: options.acceptConnection,
    acceptConnectionTimeout: options.acceptConnectionTimeout ??
      DEFAULT_ACCEPT_CONNECTION_TIMEOUT_MS,
    hooks: options.on ?? {},
  };
}
