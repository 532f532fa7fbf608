/**
 * socket-oneline: the simplest useful request/response protocol over TCP,
 * for Deno and Bun.
 *
 * A client sends one line (ended by LF); the server answers with zero, one or
 * more lines. The server serves one client at a time, answers the built-ins
 * itself (`ping` → `pong`, `disconnect`, `shutdown`) and hands every other
 * line to your handler, flagged invalid when its bytes are not UTF-8 or it is
 * over the line cap. It never sends anything that no command asked for.
 *
 * @example A server
 * ```ts ignore
 * import { serve } from "@oneline/socket-oneline";
 *
 * const server = await serve({
 *   port: 5001,
 *   handler(command, context) {
 *     if (context.invalid) return "nak - invalid cmd";
 *     if (command === "cmd01") return "ack";
 *     return "nak - unknown cmd";
 *   },
 * });
 * await server.finished; // until a client says "shutdown"
 * ```
 *
 * @example A client
 * ```ts ignore
 * import { connect } from "@oneline/socket-oneline";
 *
 * await using client = await connect({ port: 5001 });
 * console.log(await client.request("cmd01")); // "ack"
 * await client.disconnect();
 * ```
 *
 * @module
 */

export { OnelineServer, serve } from "./server.ts";
export type { Handler, HandlerContext, HandlerResult, Logger, ServeOptions } from "./server.ts";
export { connect, OnelineClient } from "./client.ts";
export { runtimeTransport } from "./runtime.ts";
export type { ConnectOptions, QueryOptions, RecvOptions, Terminator } from "./client.ts";
export { DEFAULT_MAX_LINE_BYTES, LineSplitter, LineStream } from "./framing.ts";
export type { InvalidReason, Line, LineSink, LineSplitterOptions } from "./framing.ts";
export {
  AddressInUseError,
  ConnectError,
  ConnectionClosedError,
  HandlerFinishedError,
  ListenError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
  UnsolicitedResponseError,
} from "./errors.ts";
export type * from "./transport.ts";
