/**
 * Typed errors thrown by the server and the client. Each extends
 * {@linkcode OnelineError}, so that one `instanceof` tells this module's
 * errors from any other.
 *
 * @module
 */

/**
 * The base of every error class this package exports: catch them all with one
 * `instanceof`. Each class names itself in `name` with a string of its own,
 * not its constructor's name, so that the name survives minification. Wrong
 * options are the language's own `TypeError` and `RangeError` instead.
 *
 * @example Usage
 * ```ts
 * import { ConnectionClosedError, OnelineError, TimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const errors = [new TimeoutError("no answer", 100), new ConnectionClosedError("closed")];
 * assert.ok(errors.every((error) => error instanceof OnelineError));
 * assert.deepEqual(errors.map((error) => error.name), ["TimeoutError", "ConnectionClosedError"]);
 * assert.ok(!(new TypeError("options.port must be an integer") instanceof OnelineError));
 * ```
 */
export abstract class OnelineError extends Error {
  /** The class's name, such as `"TimeoutError"`. */
  abstract override readonly name: string;
}

/**
 * The base of the errors about an address that could not be used: the
 * client could not connect to it ({@linkcode ConnectError}), or the server
 * could not listen on it ({@linkcode ListenError}).
 *
 * @example Usage
 * ```ts
 * import { AddressError, ConnectError, ListenError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const errors = [new ConnectError("127.0.0.1:5001", "refused"), new ListenError("/x.sock", "denied")];
 * assert.ok(errors.every((error) => error instanceof AddressError));
 * assert.deepEqual(errors.map((error) => error.address), ["127.0.0.1:5001", "/x.sock"]);
 * ```
 */
export abstract class AddressError extends OnelineError {
  /** The address: `host:port`, or a Unix socket path. */
  readonly address: string;

  /**
   * Creates the error, with the message `cannot VERB ADDRESS: REASON`.
   *
   * @param verb What could not be done, such as `connect to`.
   * @param address The address, as `host:port` or a socket path.
   * @param reason Why it failed.
   * @param options The underlying error, as `cause`.
   */
  constructor(verb: string, address: string, reason: string, options?: ErrorOptions) {
    super(`cannot ${verb} ${address}: ${reason}`, options);
    this.address = address;
  }
}

/**
 * An operation did not complete within its time limit.
 *
 * @example Usage
 * ```ts
 * import { TimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("no response within 100 ms", 100);
 * assert.equal(error.timeout, 100);
 * assert.equal(error.name, "TimeoutError");
 * ```
 */
export class TimeoutError extends OnelineError {
  /** The error's name, `"TimeoutError"`. */
  override readonly name: string = "TimeoutError";

  /** The limit that ran out, in milliseconds. */
  readonly timeout: number;

  /**
   * Creates the error.
   *
   * @param message What timed out.
   * @param timeout The limit, in milliseconds.
   * @param options The underlying error, as `cause`.
   */
  constructor(message: string, timeout: number, options?: ErrorOptions) {
    super(message, options);
    this.timeout = timeout;
  }
}

/**
 * The server accepted the TCP connection but did not answer the `ping`
 * handshake in time: it is most likely serving another client (one client at
 * a time), or it is not a oneline server.
 *
 * @example Usage
 * ```ts
 * import { ServerBusyError, TimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ServerBusyError("127.0.0.1:5001", 2000);
 * assert.ok(error instanceof TimeoutError);
 * assert.equal(error.timeout, 2000);
 * assert.match(error.message, /^server at 127\.0\.0\.1:5001 accepted the connection/);
 * assert.match(error.message, /connect with handshake: false\)$/);
 * ```
 */
export class ServerBusyError extends TimeoutError {
  /** The error's name, `"ServerBusyError"`. */
  override readonly name: string = "ServerBusyError";

  /**
   * Creates the error.
   *
   * @param address The server's address, as `host:port`.
   * @param timeout The handshake limit, in milliseconds.
   * @param options The underlying error, as `cause`.
   */
  constructor(address: string, timeout: number, options?: ErrorOptions) {
    super(
      `server at ${address} accepted the connection but did not answer ping within ${timeout} ms: ` +
        "it is busy with another client (it serves one at a time), or it does not speak the " +
        "oneline protocol (for a device that does not answer ping, connect with handshake: false)",
      timeout,
      options,
    );
  }
}

/**
 * The connection is closed: the peer closed it, it was reset, or it was
 * closed locally.
 *
 * @example Usage
 * ```ts
 * import { ConnectionClosedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionClosedError("the server closed the connection");
 * assert.equal(error.name, "ConnectionClosedError");
 * assert.equal(error.message, "the server closed the connection");
 * ```
 */
export class ConnectionClosedError extends OnelineError {
  /** The error's name, `"ConnectionClosedError"`. */
  override readonly name: string = "ConnectionClosedError";
}

/**
 * The client could not open a connection: refused, unreachable, or not
 * established within its time limit.
 *
 * @example Usage
 * ```ts
 * import { ConnectError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectError("127.0.0.1:5001", "connection refused");
 * assert.equal(error.address, "127.0.0.1:5001");
 * assert.equal(error.message, "cannot connect to 127.0.0.1:5001: connection refused");
 * ```
 */
export class ConnectError extends AddressError {
  /** The error's name, `"ConnectError"`. */
  override readonly name: string = "ConnectError";

  /**
   * Creates the error.
   *
   * @param address The address that could not be reached, as `host:port` or a socket path.
   * @param reason Why it failed.
   * @param options The underlying error, as `cause`.
   */
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super("connect to", address, reason, options);
  }
}

/** The options of a {@linkcode ProtocolError}: its cause, and the bytes that broke the protocol. */
export interface ProtocolErrorOptions extends ErrorOptions {
  /** The bytes of the answer that broke the protocol, as far as they were read. */
  raw?: Uint8Array;
}

/**
 * The peer broke the protocol, such as answering `ping` with something other
 * than `pong`. Where the client kept the bytes of the answer that broke it,
 * they are in `raw`.
 *
 * @example Usage
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtocolError('expected "pong", got "hello"');
 * assert.equal(error.name, "ProtocolError");
 * assert.equal(error.raw, undefined);
 * const kept = new ProtocolError("not a block", { raw: new Uint8Array([0x45]) });
 * assert.deepEqual([...kept.raw!], [0x45]);
 * ```
 */
export class ProtocolError extends OnelineError {
  /** The error's name, `"ProtocolError"`. */
  override readonly name: string = "ProtocolError";

  /** The bytes of the answer that broke the protocol, where the client kept them. */
  readonly raw: Uint8Array | undefined;

  /**
   * Creates the error.
   *
   * @param message What was expected and what came.
   * @param options The underlying error, as `cause`, and the answer's bytes, as `raw`.
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, options);
    this.raw = options?.raw;
  }
}

/**
 * An answer line that the client will not hand out as text, because the text
 * would not be the answer: its bytes are not UTF-8 (`reason: "decode"`), or
 * it is longer than the client's `maxLineBytes` (`reason: "too_long"`). The
 * line's bytes are in `raw` (for a line over the cap, its first
 * `maxLineBytes` bytes; the rest was not kept). The call that met it read its
 * whole answer first, so the next call gets its own.
 *
 * @example Usage
 * ```ts
 * import { InvalidResponseError, ProtocolError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new InvalidResponseError(new Uint8Array([0x31, 0xb0]), "decode");
 * assert.ok(error instanceof ProtocolError);
 * assert.deepEqual([...error.raw], [0x31, 0xb0]);
 * assert.match(error.message, /^an answer line is not UTF-8 \(2 bytes, in error\.raw\)/);
 * ```
 */
export class InvalidResponseError extends ProtocolError {
  /** The error's name, `"InvalidResponseError"`. */
  override readonly name: string = "InvalidResponseError";

  /** The line's bytes, without its terminator; for a line over the cap, its first bytes. */
  declare readonly raw: Uint8Array;
  /** Why it is not handed out as text. */
  readonly reason: "decode" | "too_long";

  /**
   * Creates the error.
   *
   * @param raw The line's bytes (those kept, for a line over the cap).
   * @param reason `"decode"` or `"too_long"`.
   * @param options The underlying error, as `cause`.
   */
  constructor(raw: Uint8Array, reason: "decode" | "too_long", options?: ErrorOptions) {
    super(
      reason === "decode"
        ? `an answer line is not UTF-8 (${raw.length} bytes, in error.raw): read it as bytes ` +
          "with requestBytes() or recvLine()"
        : `an answer line is longer than maxLineBytes (${raw.length}); its first ` +
          `${raw.length} bytes are in error.raw: connect with a higher maxLineBytes`,
      { ...options, raw },
    );
    this.reason = reason;
  }
}

/**
 * An answer that should be an IEEE 488.2 definite-length block
 * (`#<n><length><data>` and the terminator) is not one: it does not start
 * with `#` and a digit, its length is not digits, it is an indefinite-length
 * block (`#0`, whose end cannot be told from its data over a socket), it is
 * longer than the client's `maxBlockBytes`, or no terminator follows its
 * data. `raw` holds the bytes that were read of it.
 *
 * @example Usage
 * ```ts
 * import { BlockFormatError, ProtocolError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new BlockFormatError("an answer is not a block", new TextEncoder().encode("ERR"));
 * assert.ok(error instanceof ProtocolError);
 * assert.equal(error.name, "BlockFormatError");
 * assert.equal(error.raw.length, 3);
 * ```
 */
export class BlockFormatError extends ProtocolError {
  /** The error's name, `"BlockFormatError"`. */
  override readonly name: string = "BlockFormatError";

  /** The bytes read of the answer: its line, or the block's header. */
  declare readonly raw: Uint8Array;

  /**
   * Creates the error.
   *
   * @param message What is wrong with the block.
   * @param raw The bytes read of it.
   * @param options The underlying error, as `cause`.
   */
  constructor(message: string, raw: Uint8Array, options?: ErrorOptions) {
    super(message, { ...options, raw });
  }
}

/**
 * A handler tried to send a response after it had finished. The protocol
 * forbids responses that no command asked for.
 *
 * @example Usage
 * ```ts
 * import { UnsolicitedResponseError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new UnsolicitedResponseError("late");
 * assert.match(error.message, /^response "late" refused: .* unsolicited responses$/);
 * ```
 */
export class UnsolicitedResponseError extends OnelineError {
  /** The error's name, `"UnsolicitedResponseError"`. */
  override readonly name: string = "UnsolicitedResponseError";

  /**
   * Creates the error.
   *
   * @param line The response that was refused.
   */
  constructor(line: string) {
    super(
      `response ${
        JSON.stringify(line)
      } refused: its handler has finished, and the protocol forbids unsolicited responses`,
    );
  }
}

/**
 * The server could not listen: the address is not available, the Unix socket
 * path's directory does not exist, permission is denied, and so on. The same
 * type on every runtime; the runtime's own error is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { ListenError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ListenError("/no/such/dir/oneline.sock", "no such directory");
 * assert.equal(error.address, "/no/such/dir/oneline.sock");
 * assert.equal(error.message, "cannot listen on /no/such/dir/oneline.sock: no such directory");
 * ```
 */
export class ListenError extends AddressError {
  /** The error's name, `"ListenError"`. */
  override readonly name: string = "ListenError";

  /**
   * Creates the error.
   *
   * @param address Where the server tried to listen: `host:port` or the socket path.
   * @param reason What went wrong, in a few words.
   * @param options The underlying error, as `cause`.
   */
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super("listen on", address, reason, options);
  }
}

/**
 * The server could not listen because its address is already in use.
 *
 * @example Usage
 * ```ts
 * import { AddressInUseError, ListenError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new AddressInUseError("127.0.0.1:5001");
 * assert.equal(error.address, "127.0.0.1:5001");
 * assert.ok(error instanceof ListenError);
 * ```
 */
export class AddressInUseError extends ListenError {
  /** The error's name, `"AddressInUseError"`. */
  override readonly name: string = "AddressInUseError";

  /**
   * Creates the error.
   *
   * @param address The address that is taken, as `host:port`.
   * @param options The underlying error, as `cause`.
   */
  constructor(address: string, options?: ErrorOptions) {
    super(address, "address already in use", options);
  }
}

/**
 * A handler's `context.raw` was first read after the handler had finished.
 * The line's bytes live in the connection's read buffer, which later reads
 * reuse; they are copied out on first use. Read `raw` while the handler runs:
 * what you get then is yours to keep.
 *
 * @example Usage
 * ```ts
 * import { HandlerFinishedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new HandlerFinishedError("context.raw");
 * assert.equal(error.name, "HandlerFinishedError");
 * assert.equal(error.message, "context.raw is only available while the handler runs");
 * ```
 */
export class HandlerFinishedError extends OnelineError {
  /** The error's name, `"HandlerFinishedError"`. */
  override readonly name: string = "HandlerFinishedError";

  /**
   * Creates the error.
   *
   * @param what What was used too late.
   */
  constructor(what: string) {
    super(`${what} is only available while the handler runs`);
  }
}
