/**
 * The server under test: the module's `serve` with an `echo` handler.
 *
 * `--echo text` (the default) answers `echo X` with the string `X`; `--echo raw` is a bytes handler
 * (`bytesHandler`) that answers with the line's bytes after `echo `: no decoding, no encoding.
 *
 * Run with `deno run -A bench/server.ts --port N` or `bun run bench/server.ts --port N`
 * (`--port 0` takes a free port; `--max-waiting N`, 4096 unless given, bounds the clients queued
 * behind the active one, which the scaling pass fills with 2,000). Prints `listening 127.0.0.1:PORT` once ready, and exits on
 * `shutdown` (or SIGTERM, whose default action ends the process).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { serve } from "../mod.ts";
import type { BytesHandler, Handler } from "../mod.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "max-waiting": { type: "string", default: "4096" },
    echo: { type: "string", default: "text" },
  },
});
if (values.echo !== "text" && values.echo !== "raw") {
  throw new TypeError(`--echo must be text or raw, got ${values.echo}`);
}
const ECHO = new TextEncoder().encode("echo ");
// A loop, not every(): a callback per byte would cost more than the rest of the handler.
function isEcho(command: Uint8Array): boolean {
  if (command.length < ECHO.length) return false;
  for (let i = 0; i < ECHO.length; i++) if (command[i] !== ECHO[i]) return false;
  return true;
}
const handler: Handler = (command) =>
  command.startsWith("echo ") ? command.slice(ECHO.length) : "nak";
const bytesHandler: BytesHandler = (command) =>
  isEcho(command) ? command.subarray(ECHO.length) : "nak";

const server = await serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  maxWaiting: Number(values["max-waiting"]),
  logger: null,
  ...(values.echo === "raw" ? { bytesHandler } : { handler }),
});
console.log(`listening 127.0.0.1:${server.port}`);
await server.finished;
