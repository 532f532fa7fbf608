/**
 * What the subcommands that run a server (`serve`, `mock`) share: their
 * output flags, the hooks that print clients coming and going, the logger,
 * and running until the server stops or Ctrl-C.
 *
 * @module
 */

import process from "node:process";
import type { ClientInfo, Logger, OnelineServer, ServerHooks } from "../server.ts";
import { formatAddress } from "../transport.ts";
import { EXIT_FAILURE, printError, printLine, UsageError } from "./common.ts";
import type { ParsedArgs } from "./common.ts";

/** How much a serving subcommand prints. */
export interface Output {
  /** `--quiet`: not even the commands received. */
  quiet: boolean;
  /** `--verbose`: also each answer and each client's connect and disconnect. */
  verbose: boolean;
}

/**
 * Reads `--quiet` and `--verbose`.
 *
 * @param flags The parsed flags.
 * @returns The output asked for.
 * @throws {UsageError} When both are given.
 *
 * @example
 * ```ts
 * import { outputFlags } from "./serving.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(outputFlags({ verbose: true }), { quiet: false, verbose: true });
 * assert.throws(() => outputFlags({ quiet: true, verbose: true }), /do not go together/);
 * ```
 */
export function outputFlags(flags: ParsedArgs["flags"]): Output {
  const quiet = flags.quiet === true;
  const verbose = flags.verbose === true;
  if (quiet && verbose) throw new UsageError("--quiet and --verbose do not go together");
  return { quiet, verbose };
}

function who(client: ClientInfo): string {
  return `client ${client.id} (${formatAddress(client.remoteAddr)})`;
}

/**
 * The hooks that print each client's connect and disconnect, when verbose.
 *
 * @param verbose Whether to print them.
 * @returns The `connect` and `disconnect` hooks, or none.
 *
 * @example
 * ```ts
 * import { clientHooks } from "./serving.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(clientHooks(false), {});
 * assert.equal(typeof clientHooks(true).connect, "function");
 * ```
 */
export function clientHooks(verbose: boolean): Pick<ServerHooks, "connect" | "disconnect"> {
  if (!verbose) return {};
  return {
    connect: (client) => printLine(`${who(client)} connected`),
    disconnect: (client, reason) => printLine(`${who(client)} disconnected: ${reason}`),
  };
}

/** The server's log, on standard output and standard error. */
export const PRINTING_LOGGER: Logger = {
  info: printLine,
  error: (message, error) => printError(`${message}: ${error}`),
};

/**
 * Starts a server and runs until it stops (`shutdown`) or Ctrl-C closes it.
 *
 * @param start Starts the server.
 * @returns The exit code: 0 once stopped, `EXIT_FAILURE` when it could not start (said on
 *   standard error).
 *
 * @example
 * ```ts
 * import { serveUntilStopped } from "./serving.ts";
 * import { serve } from "../server.ts";
 * import assert from "node:assert/strict";
 *
 * const code = serveUntilStopped(async () => {
 *   const server = await serve({ port: 0, logger: null, handler: () => "ok" });
 *   server.shutdown();
 *   return server;
 * });
 * assert.equal(await code, 0);
 * ```
 */
export async function serveUntilStopped(start: () => Promise<OnelineServer>): Promise<number> {
  let server: OnelineServer;
  try {
    server = await start();
  } catch (error) {
    printError((error as Error).message ?? String(error));
    return EXIT_FAILURE;
  }
  const stop = () => server.close();
  process.on("SIGINT", stop);
  await server.finished;
  process.off("SIGINT", stop);
  return 0;
}
