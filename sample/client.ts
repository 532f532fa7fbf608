/**
 * The sample client: sends the commands given as arguments to a oneline
 * server and prints each exchange. `disconnect` and `shutdown` wait for the
 * server to close the connection.
 *
 * ```sh
 * deno run -A sample/client.ts [--hostname 127.0.0.1] [--port 5001] ping cmd01 junk disconnect
 * ```
 *
 * @module
 */

import process from "node:process";
import { connect } from "../mod.ts";
import { parseEndpointFlags } from "./flags.ts";
import { isMain } from "./script.ts";

/** One command and what came back. */
export interface Exchange {
  command: string;
  /** The response line, or `"(connection closed)"` after `disconnect` and `shutdown`. */
  response: string;
}

/** Printed as the response to `disconnect` and `shutdown` once the server has closed. */
export const CLOSED = "(connection closed)";

/**
 * Connects, sends each command in turn and collects the exchanges.
 *
 * @param commands The commands, in order.
 * @param endpoint The server.
 * @param print Called with each exchange as it completes.
 * @returns Every exchange.
 */
export async function runClient(
  commands: string[],
  endpoint: { hostname: string; port: number },
  print: (exchange: Exchange) => void = () => {},
): Promise<Exchange[]> {
  // The scripted commands start with their own ping, so no handshake.
  const client = await connect({ ...endpoint, handshake: false });
  // Not `await using`: Node 22 cannot parse it.
  try {
    const exchanges: Exchange[] = [];
    for (const command of commands) {
      let response: string;
      if (command === "disconnect" || command === "shutdown") {
        await client[command]();
        response = CLOSED;
      } else {
        response = await client.request(command);
      }
      exchanges.push({ command, response });
      print({ command, response });
    }
    return exchanges;
  } finally {
    await client[Symbol.asyncDispose]();
  }
}

if (isMain(import.meta)) {
  try {
    const { hostname, port, rest } = parseEndpointFlags(process.argv.slice(2));
    await runClient(rest, { hostname, port }, ({ command, response }) => {
      console.log(`> ${command}`);
      console.log(`< ${response}`);
    });
  } catch (error) {
    console.error(`sample client: ${(error as Error).message}`);
    process.exit(
      error instanceof TypeError || error instanceof RangeError ? 2 : 1,
    );
  }
}
