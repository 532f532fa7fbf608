/**
 * The options of the client: their types and defaults, checked once at the
 * door with a clear error for each mistake, and resolved to the settings a
 * client runs with.
 *
 * @module
 */

import type {
  ClientReadTerminator as ReadTerminator,
  WriteTerminator,
} from "../_framing/terminators.ts";
import type { TlsClientOptions, Transport } from "../transport.ts";
import { CLIENT_READ_TERMINATORS, WRITE_TERMINATORS } from "../_framing/terminators.ts";
import { systemClock } from "../_util/clock.ts";
import type { Clock } from "../_util/clock.ts";
import {
  checkBoolean,
  checkEndpointOptions,
  checkKnownKeys,
  checkMilliseconds,
  checkPositiveInteger,
  describeValue,
} from "../_util/option_checks.ts";

export type { ReadTerminator, WriteTerminator as Terminator };

/**
 * Options of {@linkcode connect}.
 *
 * @example
 * ```ts
 * import { connect } from "../client.ts";
 * import type { ConnectOptions } from "../client.ts";
 * import { serve } from "../server.ts";
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
   * `"\r\n"` (only the CR LF pair ends a line, as PyVISA's
   * `read_termination`: a lone CR or LF is part of the line), `"\r"` (a lone
   * LF is part of the line), or `"any"` of CR, LF and CR LF (the pair ends
   * one line).
   *
   * @default {"\n"}
   */
  readTerminator?: ReadTerminator;
  /**
   * What the client appends to each command.
   *
   * @default {"\n"}
   */
  writeTerminator?: WriteTerminator;
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
 * import { connect } from "../client.ts";
 * import { TimeoutError } from "../errors.ts";
 * import { serve } from "../server.ts";
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
 * import { connect } from "../client.ts";
 * import { serve } from "../server.ts";
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

/** What a client runs with: its options, with the defaults filled in. */
export interface ClientSettings {
  /** The default limit of each call, in ms. */
  timeout: number;
  /** Device mode (no handshake): nothing is sent that the caller did not ask for. */
  device: boolean;
  /** Longest answer line, in bytes. */
  maxLineBytes: number;
  /** Longest block's data, in bytes. */
  maxBlockBytes: number;
  /** Bytes received and not read before the client stops reading. */
  maxQueuedBytes: number;
  /** What ends an answer line. */
  readTerminator: ReadTerminator;
  /** What ends a command. */
  writeTerminator: WriteTerminator;
  /** Whether closing says `disconnect`. */
  disconnectOnClose: boolean;
  /** Device mode: ms without bytes after which the device counts as quiet. */
  quietTime: number;
  /** Ms a polite close may take before the socket is destroyed. */
  closeTimeout: number;
  /** Times every limit. */
  clock: Clock;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const DEFAULT_MAX_BLOCK_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
const DEFAULT_QUIET_MS = 100;
const DEFAULT_CLOSE_MS = 1000;

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
  quietTime: true,
  closeTimeout: true,
  disconnectOnClose: true,
  readTerminator: true,
  writeTerminator: true,
  maxLineBytes: true,
  maxBlockBytes: true,
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

function checkTerminator(value: unknown, name: string, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    const names = allowed.map((terminator) => JSON.stringify(terminator));
    throw new TypeError(
      `${name} must be ${names.slice(0, -1).join(", ")} or ${names.at(-1)}, ` +
        `got ${describeValue(value)}`,
    );
  }
}

/**
 * Checks the options of `connect()`.
 *
 * @param options The options as given.
 * @throws {TypeError} When one has the wrong type or is not an option.
 * @throws {RangeError} When a number is out of range.
 *
 * @example Usage
 * ```ts
 * import { checkConnectOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * checkConnectOptions({ port: 5025, handshake: false, readTerminator: "any" });
 * assert.throws(() => checkConnectOptions({ quietTime: 0 }), RangeError);
 * assert.throws(() => checkConnectOptions({ quiettime: 5 } as object), /did you mean quietTime/);
 * ```
 */
export function checkConnectOptions(options: ConnectOptions): void {
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
  checkPositiveInteger(options.maxBlockBytes, "options.maxBlockBytes");
  checkMilliseconds(options.quietTime, "options.quietTime", false);
  checkMilliseconds(options.closeTimeout, "options.closeTimeout", false);
  checkTerminator(options.readTerminator, "options.readTerminator", CLIENT_READ_TERMINATORS);
  checkTerminator(options.writeTerminator, "options.writeTerminator", WRITE_TERMINATORS);
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

/**
 * Checks the options of one receive, request or query.
 *
 * @param options The options as given.
 * @throws {TypeError} When one has the wrong type or is not an option.
 * @throws {RangeError} When a number is out of range.
 *
 * @example Usage
 * ```ts
 * import { checkRecvOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * checkRecvOptions({ timeout: 100, lines: 2 });
 * assert.throws(() => checkRecvOptions({ lines: 0 }), /options.lines must be at least 1, got 0/);
 * ```
 */
export function checkRecvOptions(options: QueryOptions): void {
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

/**
 * The settings of a client made with these options: the defaults filled in.
 *
 * @param options The options of `connect()`, checked.
 * @returns The settings.
 *
 * @example Usage
 * ```ts
 * import { clientSettings } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const settings = clientSettings({ handshake: false });
 * assert.equal(settings.device, true);
 * assert.equal(settings.disconnectOnClose, false);
 * assert.equal(settings.maxLineBytes, 1024 * 1024);
 * ```
 */
export function clientSettings(options: ConnectOptions): ClientSettings {
  const handshake = options.handshake ?? true;
  return {
    timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
    device: !handshake,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    maxBlockBytes: options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    readTerminator: options.readTerminator ?? "\n",
    writeTerminator: options.writeTerminator ?? "\n",
    disconnectOnClose: options.disconnectOnClose ?? handshake,
    quietTime: options.quietTime ?? DEFAULT_QUIET_MS,
    closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_MS,
    clock: systemClock,
  };
}
