/**
 * The options of the client: checked, with a clear error for each mistake,
 * and resolved to the settings a client runs with.
 *
 * @module
 */

import type { ConnectOptions, QueryOptions, ReadTerminator, Terminator } from "../client.ts";
import type { TlsClientOptions } from "../transport.ts";
import { systemClock } from "./clock.ts";
import type { Clock } from "./clock.ts";
import {
  checkBoolean,
  checkEndpointOptions,
  checkKnownKeys,
  checkMilliseconds,
  checkPositiveInteger,
  describeValue,
} from "./option_checks.ts";

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
  writeTerminator: Terminator;
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
const WRITE_TERMINATORS: readonly string[] = ["\n", "\r\n", "\r"];
const READ_TERMINATORS: readonly string[] = [...WRITE_TERMINATORS, "any"];

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
 * import { checkConnectOptions } from "./client_options.ts";
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
  checkTerminator(options.readTerminator, "options.readTerminator", READ_TERMINATORS);
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
 * import { checkRecvOptions } from "./client_options.ts";
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
 * import { clientSettings } from "./client_options.ts";
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
