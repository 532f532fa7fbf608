/**
 * The sample server, as in the original package: `cmd01` is answered with
 * `ack`, a line that does not decode with `nak - invalid cmd`, anything else
 * with `nak - unknown cmd`. It exits with status 0 after `shutdown` and on
 * Ctrl-C.
 *
 * ```sh
 * deno run -A sample/server.ts [--hostname 127.0.0.1] [--port 5001] [--verbose]
 * bun run sample/server.ts --port 5001
 * node sample/server.ts --port 5001
 * ```
 *
 * Once it listens it prints `listening on HOST:PORT` (with the real port when
 * `--port 0` asked for any free one).
 *
 * @module
 */

import process from "node:process";
import { serve } from "../mod.ts";
import type { Handler, OnelineServer } from "../mod.ts";
import { parseEndpointFlags } from "./flags.ts";
import { isMain } from "./script.ts";

/**
 * The sample's command handler.
 *
 * @param command The command text.
 * @param context Whether the line decoded.
 * @returns The one response line.
 *
 * @example
 * ```ts
 * import { sampleHandler } from "./server.ts";
 * sampleHandler("cmd01", { invalid: false }); // "ack"
 * ```
 */
export const sampleHandler = (command: string, context: { invalid: boolean }): string => {
  if (context.invalid) return "nak - invalid cmd";
  return command === "cmd01" ? "ack" : "nak - unknown cmd";
};

/**
 * Starts the sample server; Ctrl-C (SIGINT) or SIGTERM closes it.
 *
 * @param args Command-line flags.
 * @returns The running server.
 */
export async function startSampleServer(args: string[]): Promise<OnelineServer> {
  const { hostname, port, verbose } = parseEndpointFlags(args, { verbose: true });
  const handler: Handler = sampleHandler;
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const server = await serve({ hostname, port, verbose, handler, signal: controller.signal });
  // Signal listeners would keep the process alive after the server stops.
  server.finished.then(() => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  });
  return server;
}

if (isMain(import.meta)) {
  try {
    const server = await startSampleServer(process.argv.slice(2));
    await server.finished;
  } catch (error) {
    console.error(`sample server: ${(error as Error).message}`);
    process.exit(
      error instanceof TypeError || error instanceof RangeError ? 2 : 1,
    );
  }
}
