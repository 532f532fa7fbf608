/**
 * The `mock` subcommand: a simulated instrument from a pyvisa-sim definition file.
 *
 * @module
 */

import { DefinitionError, loadDefinition, mock, pickDevice } from "../mock.ts";
import type { Definition } from "../mock.ts";
import { clientHooks, outputFlags, PRINTING_LOGGER, serveUntilStopped } from "./serving.ts";
import { endpointFlags, EXIT_USAGE, printError, printLine, UsageError } from "./common.ts";
import type { ParsedArgs } from "./common.ts";

const decoder = new TextDecoder();

/**
 * Runs `mock FILE`: serves the file's device (`--device`, or its only one)
 * until `shutdown` or SIGINT. Prints where it listens and, unless `--quiet`,
 * each command received, to stdout; with `--verbose`, each answer and each
 * client's connect and disconnect too.
 *
 * @param args The parsed options and the file.
 * @returns The exit status: 0 once stopped, 1 when it cannot listen, 2 when
 *   the file cannot be read or is not a valid definition (said in one line).
 * @throws {UsageError} On a bad option, no file or several, or a device that
 *   is not named when there are several (the names are listed) or does not exist.
 */
export async function mockCommand(args: ParsedArgs): Promise<number> {
  const endpoint = endpointFlags(args.flags, 0);
  if (args.positionals.length !== 1) {
    throw new UsageError(
      args.positionals.length === 0
        ? "a definition file is needed"
        : `one definition file, got ${args.positionals.length}`,
    );
  }
  const [file] = args.positionals;
  let definition: Definition;
  try {
    definition = await loadDefinition(file);
  } catch (error) {
    if (error instanceof DefinitionError) printError(error.message);
    else printError(`cannot read ${file}: ${(error as Error).message ?? error}`);
    return EXIT_USAGE;
  }
  let name: string;
  try {
    name = pickDevice(definition, args.flags.device as string | undefined);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { quiet, verbose } = outputFlags(args.flags);
  return await serveUntilStopped(() =>
    mock(definition, {
      ...endpoint,
      device: name,
      logger: PRINTING_LOGGER,
      on: {
        command(command) {
          if (!quiet) printLine(`< ${command}`);
        },
        ...clientHooks(verbose),
      },
      onAnswer: verbose
        ? (_message, answers) => {
          for (const answer of answers) printLine(`> ${decoder.decode(answer)}`);
        }
        : undefined,
    })
  );
}
