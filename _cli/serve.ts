/**
 * The `serve` subcommand: a server to try clients against.
 *
 * @module
 */

import { serve } from "../server.ts";
import { BUILTINS } from "../_server/builtins.ts";
import { clientHooks, outputFlags, PRINTING_LOGGER, serveUntilStopped } from "./serving.ts";
import {
  endpointFlags,
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
  const { quiet, verbose } = outputFlags(args.flags);
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
  return await serveUntilStopped(() =>
    serve({
      ...endpoint,
      readTerminator,
      writeTerminator,
      logger: PRINTING_LOGGER,
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
        ...clientHooks(verbose),
      },
      handler(command, context) {
        if (!quiet) {
          printLine(`< ${command}${context.invalid ? ` (invalid: ${context.reason})` : ""}`);
        }
        if (command === "echo" || command.startsWith("echo ")) return answer(command.slice(5));
        return answer(reply);
      },
    })
  );
}
