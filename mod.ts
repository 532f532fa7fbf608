/**
 * socket-oneline: the simplest useful request/response protocol over TCP,
 * TLS and Unix sockets, for Deno, Bun and Node.js.
 *
 * A client sends one line (ended by LF); the server answers with zero, one or
 * more lines. The server serves one client at a time, answers the built-ins
 * itself (`ping` → `pong`, `disconnect`, `shutdown`) and hands every other
 * line to your handler, flagged invalid when its bytes are not UTF-8 or it is
 * over the line cap. It never sends anything that no command asked for.
 *
 * @example A server
 * ```ts
 * import { connect, serve } from "@oneline/socket-oneline";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({
 *   port: 0, // any free port (5001 by default)
 *   logger: null,
 *   handler(command, context) {
 *     if (context.invalid) return "nak - invalid cmd";
 *     if (command === "cmd01") return "ack";
 *     return "nak - unknown cmd";
 *   },
 * });
 * const client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * await client.shutdown();
 * await server.finished; // until a client says "shutdown"
 * assert.equal(server.running, false);
 * ```
 *
 * @example A client
 * ```ts
 * import { connect, serve } from "@oneline/socket-oneline";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ack" });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * assert.deepEqual(await client.query("cmd01"), ["ack"]); // every line of the answer
 * await client.disconnect();
 * ```
 *
 * @module
 */

export { OnelineServer, serve } from "./server.ts";
export type {
  BytesHandler,
  ClientInfo,
  DisconnectReason,
  Handler,
  HandlerContext,
  HandlerResult,
  Logger,
  ResponseLine,
  ServeOptions,
  ServerHooks,
  ServerStats,
} from "./server.ts";
export { connect, OnelineClient } from "./client.ts";
export type {
  ConnectOptions,
  QueryOptions,
  ReadTerminator as ClientReadTerminator,
  RecvOptions,
  Terminator,
} from "./client.ts";
export { DEFAULT_MAX_LINE_BYTES, encodeLine, LineSplitter, LineStream } from "./framing.ts";
export type {
  InvalidReason,
  Line,
  LineSink,
  LineSplitterOptions,
  ReadTerminator,
  WriteTerminator,
} from "./framing.ts";
export { type BlockHeader, definiteLengthBlock, parseBlockHeader } from "./framing.ts";
export {
  AddressError,
  AddressInUseError,
  BlockFormatError,
  ConnectError,
  ConnectionClosedError,
  HandlerFinishedError,
  InvalidResponseError,
  ListenError,
  OnelineError,
  ProtocolError,
  type ProtocolErrorOptions,
  ServerBusyError,
  TimeoutError,
  UnsolicitedResponseError,
} from "./errors.ts";
// The addresses and TLS options that serve(), connect() and the hooks take or
// report are stable; the socket seam behind them is not, and has its own
// export: "@oneline/socket-oneline/transport".
export type {
  Address,
  ConnectEndpoint,
  Endpoint,
  ListenEndpoint,
  TlsClientOptions,
  TlsServerOptions,
} from "./transport.ts";
