/**
 * What a user's handler receives and may answer.
 *
 * @module
 */

import type { InvalidReason } from "./framing.ts";
import type { Address } from "./transport.ts";

/**
 * One response line: text, or bytes.
 *
 * Text is sent as UTF-8 and must not hold CR or LF (a `TypeError` says so).
 * Bytes go out exactly as given, CR and LF included, for binary answers
 * such as an IEEE 488.2 block; they are copied when answered or sent, so the
 * array is the handler's again at once. Either is followed by the server's
 * `writeTerminator`.
 *
 * @example
 * ```ts
 * import type { ResponseLine } from "./handler.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: ResponseLine[] = ["text", new Uint8Array([0x00, 0x0a, 0xff])];
 * assert.equal(lines.length, 2);
 * ```
 */
export type ResponseLine = string | Uint8Array;

/**
 * What a handler may answer: one line, several lines, or nothing. A line is
 * a string or bytes (see {@linkcode ResponseLine}); an array may mix them,
 * and they go out in its order.
 *
 * @example
 * ```ts
 * import type { HandlerResult } from "./handler.ts";
 * import { connect, serve } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const answers: Record<string, HandlerResult> = {
 *   none: undefined,
 *   one: "ack",
 *   several: ["line 1", "line 2"],
 *   bytes: new TextEncoder().encode("raw"),
 *   mixed: ["head", new TextEncoder().encode("body")],
 * };
 * const handler = (command: string) => answers[command];
 * await using server = await serve({ port: 0, logger: null, handler });
 * await using client = await connect({ port: server.port });
 * assert.deepEqual(await client.query("none"), []);
 * assert.deepEqual(await client.query("one"), ["ack"]);
 * assert.deepEqual(await client.query("several"), ["line 1", "line 2"]);
 * assert.deepEqual(await client.query("bytes"), ["raw"]);
 * assert.deepEqual(await client.query("mixed"), ["head", "body"]);
 * ```
 */
export type HandlerResult =
  | ResponseLine
  | readonly ResponseLine[]
  | undefined
  | null
  | void;

/**
 * Handles one command that is not a built-in.
 *
 * @param command The command's text, without its line end.
 * @param context The command's flags, raw bytes, peer and a way to send responses.
 * @returns The response line(s), if any, or a promise of them.
 *
 * @example Answer by return value or through the context
 * ```ts
 * import type { Handler } from "./handler.ts";
 * import { connect, serve } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const handler: Handler = async (command, context) => {
 *   if (context.invalid) return "nak - invalid cmd";
 *   if (command === "status") {
 *     context.send("busy");
 *     await Promise.resolve();
 *     return ["temperature 21.5", "end"];
 *   }
 *   return "nak - unknown cmd";
 * };
 *
 * await using server = await serve({ port: 0, logger: null, handler });
 * await using client = await connect({ port: server.port });
 * assert.deepEqual(await client.query("status"), ["busy", "temperature 21.5", "end"]);
 * assert.equal(await client.request("junk"), "nak - unknown cmd");
 * ```
 */
export type Handler = (
  command: string,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * Handles one command that is not a built-in, as bytes: the server's
 * `bytesHandler`, in place of `handler`, for binary protocols and for
 * handlers that answer with bytes. The line is never decoded, so it costs no
 * string on the way in; `context.reason` is then `"too_long"` or `undefined`
 * (whether the bytes are UTF-8 is the handler's to judge). Built-ins are
 * still matched by their bytes and answered by the server.
 *
 * @param command The command's bytes, without its line end: `context.raw`.
 * @param context The command's flags, peer and a way to send responses.
 * @returns The response line(s), if any, or a promise of them.
 *
 * @example Echo the bytes after "echo ", as they came
 * ```ts
 * import type { BytesHandler } from "./handler.ts";
 * import { connect, serve } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ECHO = new TextEncoder().encode("echo ");
 * const bytesHandler: BytesHandler = (command) =>
 *   ECHO.every((byte, i) => command[i] === byte) ? command.subarray(ECHO.length) : "nak";
 *
 * await using server = await serve({ port: 0, logger: null, bytesHandler });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("echo grüße"), "grüße");
 * assert.equal(await client.request("ping"), "pong");
 * assert.equal(await client.request("junk"), "nak");
 * ```
 */
export type BytesHandler = (
  command: Uint8Array,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * What a handler knows about the command it handles.
 *
 * @example Look at the raw bytes of an invalid line
 * ```ts
 * import type { HandlerContext } from "./handler.ts";
 * import assert from "node:assert/strict";
 *
 * function describe(command: string, context: HandlerContext): string {
 *   if (context.reason === "decode") return `undecodable: ${context.raw.length} bytes`;
 *   if (context.reason === "too_long") return "too long";
 *   return `ok: ${command}`;
 * }
 *
 * const undecodable = { reason: "decode", raw: new Uint8Array([0xff, 0xfe]) } as HandlerContext;
 * assert.equal(describe("", undecodable), "undecodable: 2 bytes");
 * assert.equal(describe("cmd01", { reason: undefined } as HandlerContext), "ok: cmd01");
 * ```
 */
export interface HandlerContext {
  /**
   * True when the line did not decode as UTF-8 or was over the line cap (a
   * {@linkcode BytesHandler}'s lines are not decoded: only the cap counts).
   */
  readonly invalid: boolean;
  /** Why the line is invalid; `undefined` when it is valid. */
  readonly reason: InvalidReason | undefined;
  /**
   * The line's bytes, without its line end (cut at the cap when too long).
   * Read it while the handler runs; what it gives is yours to keep, as the
   * server never writes to it again. It is a view of the read the line came
   * in (copied out of the connection's buffer, once per read, where the
   * connection reuses that buffer), so keeping it keeps that read's bytes:
   * `raw.slice()` keeps the line's alone. Answering with it
   * (`return context.raw`) echoes the bytes as they came, with no decoding
   * or encoding on the way.
   *
   * @throws {HandlerFinishedError} When first read after the handler has finished.
   */
  readonly raw: Uint8Array;
  /** The client's address. */
  readonly remoteAddr: Address;
  /**
   * Aborted when the session ends while the handler runs: the client reset
   * or vanished, the handler timed out, or the server stops. (A client that
   * only ends its side may still read the answer, so that does not abort.)
   */
  readonly signal: AbortSignal;
  /**
   * Sends one response line before the handler's return value. From an
   * async handler's first `await` on, the line goes out at once (with the
   * others sent in the same turn); before that, it goes out with the answers
   * of the commands before. Only while the handler runs: afterwards it
   * throws, since the protocol forbids unsolicited responses.
   *
   * Lines sent count toward `maxPendingBytes`: await the promise to wait
   * while that much is pending for a client that does not read, so that a
   * handler sending many lines keeps memory bounded. It never rejects; when
   * the client goes, the handler's `signal` is aborted.
   *
   * @param line The response, without its terminator: text, or bytes sent as they are.
   * @returns A promise that resolves once there is room for more lines.
   * @throws {TypeError} When a string contains CR or LF, or the line is neither text nor bytes.
   * @throws {UnsolicitedResponseError} When the handler has already finished.
   */
  send(line: ResponseLine): Promise<void>;
}
