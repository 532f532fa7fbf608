/**
 * The `serve` subcommand: a server to try clients against.
 *
 * @module
 */

import process from "node:process";
import { serve } from "../server.ts";
import type { ClientInfo, OnelineServer } from "../server.ts";
import { BUILTINS } from "../_server/builtins.ts";
import { formatAddress } from "../transport.ts";
import {
  endpointFlags,
  EXIT_FAILURE,
  printError,
  printLine,
  READ_TERMINATOR_FLAGS,
  terminatorFlag,
  UsageError,
  WRITE_TERMINATOR_FLAGS,
} from "./common.ts";
import type { ParsedArgs } from "./common.ts";

/** The answer to commands other than `echo`, unless `--reply` says otherwise. */
export const DEFAULT_REPLY = "nak - unknown cmd";

// How a client is shown in the connect and disconnect lines.
const who = (client: ClientInfo) => `client ${client.id} (${formatAddress(client.remoteAddr)})`;

/**
 * Runs `serve`: `echo TEXT` answers `TEXT`, every other command the reply.
 * Prints the server's messages and, unless `--quiet`, each command received
 * (built-ins included), to stdout; with `--verbose`, each response and each
 * client's connect and disconnect too. Stops on `shutdown` or SIGINT (Ctrl-C).
 *
 * @param args The parsed options.
 * @returns The exit status: 0 once stopped, 1 when it cannot listen.
 * @throws {UsageError} On a bad option value or an argument.
 */
export async function serveCommand(args: ParsedArgs): Promise<number> {
  const endpoint = endpointFlags(args.flags, 0);
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  }
  const reply = (args.flags.reply ?? DEFAULT_REPLY) as string;
  if (/[\r\n]/.test(reply)) throw new UsageError("--reply cannot contain CR or LF");
  const quiet = args.flags.quiet === true;
  const verbose = args.flags.verbose === true;
  if (quiet && verbose) throw new UsageError("--quiet and --verbose do not go together");
  const readTerminator = terminatorFlag(
    args.flags["read-terminator"],
    "read-terminator",
    READ_TERMINATOR_FLAGS,
  );
  const writeTerminator = terminatorFlag(
    args.flags["write-terminator"],
    "write-terminator",
    WRITE_TERMINATOR_FLAGS,
  );
  const answer = (line: string) => {
    if (verbose) printLine(`> ${line}`);
    return line;
  };
  let server: OnelineServer;
  try {
    server = await serve({
      ...endpoint,
      readTerminator,
      writeTerminator,
      logger: { info: printLine, error: (message, error) => printError(`${message}: ${error}`) },
      // The server answers the built-ins itself: only this hook tells of them. The handler
      // prints the other commands, flagged when invalid; the hook sees each line before it
      // is answered, so the two print in the order received.
      on: {
        command(command, _client, builtin) {
          if (quiet || !builtin) return;
          printLine(`< ${command}`);
          const reply = BUILTINS.find((b) => b.name === command)?.reply;
          if (reply !== undefined) answer(reply);
        },
        connect: verbose ? (client) => printLine(`${who(client)} connected`) : undefined,
        disconnect: verbose
          ? (client, reason) => printLine(`${who(client)} disconnected: ${reason}`)
          : undefined,
      },
      handler(command, context) {
        if (!quiet) {
          printLine(`< ${command}${context.invalid ? ` (invalid: ${context.reason})` : ""}`);
        }
        if (command === "echo" || command.startsWith("echo ")) return answer(command.slice(5));
        return answer(reply);
      },
    });
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
