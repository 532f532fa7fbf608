/**
 * The server that `tools/attack.ts` attacks: the module's own server on a
 * loopback port or a Unix socket, with a handler that can be made to hang,
 * dawdle, flood or answer one huge line. Runs on Deno, Bun and Node:
 *
 * ```sh
 * deno run -A tools/attack_server.ts --port 0 [--tls] [--idle-timeout 1000] [--handler-timeout MS]
 * bun run tools/attack_server.ts --path /tmp/attack.sock
 * node tools/attack_server.ts --port 0
 * ```
 *
 * Once listening it prints `READY port=<port> pid=<pid>` (with `--path`:
 * `READY path=<path> pid=<pid>`) on stdout; it logs to stderr, and exits
 * when its stdin closes (so that it never outlives the attacker) or a client
 * says `shutdown`.
 *
 * Commands: `hang` never answers (until the connection ends); `slow N`
 * answers `done` after N ms (at once, answering nothing, when the connection
 * ends first); `flood N` sends N lines of 100 bytes through `context.send`,
 * then answers `end`; `big N` answers one line of N bytes; `stats` answers
 * the server's counters, `waiting=N connections=N refused=N`; anything else
 * is answered `echo:<command>`.
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { serve } from "../mod.ts";
import type { HandlerContext, HandlerResult, OnelineServer, ServeOptions } from "../mod.ts";

/** Longest answer `big N` makes, so that a typo cannot exhaust memory. */
const MAX_BIG_BYTES = 256 * 1024 * 1024;
const FLOOD_LINE = "x".repeat(100);

/**
 * The options being added to the server at the time of writing; passed
 * whether or not the server knows them yet.
 */
type AttackServeOptions = ServeOptions & { maxWaiting?: number; handshakeTimeout?: number };

// Resolves after `ms`, or at once when `signal` aborts.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

// Sends `count` lines through `context.send`, waiting for it whenever it
// returns a promise (a send with backpressure), until the connection ends.
async function flood(count: number, context: HandlerContext): Promise<HandlerResult> {
  for (let i = 0; i < count && !context.signal.aborted; i++) {
    const sent: unknown = context.send(FLOOD_LINE);
    if (typeof (sent as PromiseLike<unknown> | undefined)?.then === "function") await sent;
  }
  return "end";
}

/**
 * The handler under attack; see the module documentation for its commands.
 *
 * @param command The command's text.
 * @param context The command's context; its `signal` ends `hang` and `slow`.
 * @returns The answer, at once or as a promise.
 */
export function attackHandler(
  command: string,
  context: HandlerContext,
): HandlerResult | Promise<HandlerResult> {
  const match = /^(hang|slow|flood|big)(?: (\d+))?$/.exec(command);
  if (match === null) return `echo:${command}`;
  const count = Number(match[2] ?? 0);
  switch (match[1]) {
    case "hang":
      return new Promise((resolve) => {
        context.signal.addEventListener("abort", () => resolve(undefined), { once: true });
      });
    case "slow":
      return sleep(count, context.signal).then(() => context.signal.aborted ? undefined : "done");
    case "flood":
      return flood(count, context);
    default:
      return "x".repeat(Math.min(count, MAX_BIG_BYTES));
  }
}

/**
 * The answer to `stats`: the counters the attacker checks after a scenario.
 *
 * @param server The server.
 * @returns `waiting=N connections=N refused=N`.
 */
export function statsLine(server: Pick<OnelineServer, "waiting" | "stats">): string {
  return `waiting=${server.waiting} connections=${server.stats.connections} ` +
    `refused=${server.stats.refused}`;
}

function milliseconds(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "0" },
      path: { type: "string" },
      tls: { type: "boolean", default: false },
      "idle-timeout": { type: "string", default: "1000" },
      "handler-timeout": { type: "string" },
      "max-waiting": { type: "string", default: "1024" },
      "handshake-timeout": { type: "string", default: "2000" },
    },
  });
  const testdata = new URL("../testdata/", import.meta.url);
  const options: AttackServeOptions = {
    ...(values.path === undefined
      ? { hostname: "127.0.0.1", port: Number(values.port) }
      : { path: values.path }),
    idleTimeout: milliseconds(values["idle-timeout"]),
    handlerTimeout: milliseconds(values["handler-timeout"]),
    maxWaiting: Number(values["max-waiting"]),
    handshakeTimeout: milliseconds(values["handshake-timeout"]),
    tls: values.tls
      ? {
        cert: fs.readFileSync(new URL("server.pem", testdata), "utf8"),
        key: fs.readFileSync(new URL("server.key", testdata), "utf8"),
      }
      : undefined,
    logger: {
      info: (message) => console.error(message),
      error: (message, error) => console.error(`${message}: ${error}`),
    },
    // `server` is set once listening, before any client can ask for `stats`.
    handler: (command, context) =>
      command === "stats" ? statsLine(server) : attackHandler(command, context),
  };
  const server = await serve(options);
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
  process.stdin.resume();
  const address = values.path === undefined ? `port=${server.port}` : `path=${values.path}`;
  console.log(`READY ${address} pid=${process.pid}`);
  await server.finished;
  process.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`attack_server failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  });
}
