/**
 * The command line: `send` commands and print the responses, a `repl`, and a
 * `serve`r to try things out with. Runs on Deno and Bun.
 *
 * @example Try it out
 * ```sh
 * deno run -A jsr:@oneline/socket-oneline/cli serve --port 5001 &
 * deno run -A jsr:@oneline/socket-oneline/cli send --port 5001 ping "echo hi" shutdown
 * ```
 *
 * @module
 */

import process from "node:process";
import {
  CLIENT_SPEC,
  ENDPOINT_SPEC,
  EXIT_USAGE,
  parseArgs,
  PROGRAM,
  UsageError,
} from "./_cli/common.ts";
import type { FlagSpec, ParsedArgs } from "./_cli/common.ts";
import { repl } from "./_cli/repl.ts";
import { send } from "./_cli/send.ts";
import { DEFAULT_REPLY, serveCommand } from "./_cli/serve.ts";

const CLIENT_OPTIONS = `Options:
  --hostname HOST  server host (default 127.0.0.1)
  --port PORT      server TCP port (default 5001)
  --path PATH      Unix socket path, instead of TCP`;

const USAGE = `Usage: ${PROGRAM} <command> [options]

A client and a server for the oneline protocol: one command per line, zero or
more response lines per command.

Commands:
  send [options] [COMMAND...]  send commands (or stdin's lines), print the responses
  repl [options]               type commands, see the responses as they arrive
  serve [options]              a server to try clients against
  help [COMMAND]               this help, or a command's

Run "${PROGRAM} <command> --help" for a command's options.
`;

interface Subcommand {
  spec: FlagSpec;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  send: {
    spec: CLIENT_SPEC,
    run: send,
    usage: `Usage: ${PROGRAM} send [options] [COMMAND...]

Connects, sends each COMMAND in order (without any: each line of stdin), prints
every response line to stdout, and ends once the server has answered them all:
after the last command it says "ping" and "disconnect", and the server closes
the connection only after answering what came before; the final "pong" is not
printed. Commands after a "disconnect" or "shutdown" of your own are not sent.

${CLIENT_OPTIONS}
  --timeout MS     limit to connect, and to wait for each response once all is
                   sent (default 5000)
  -h, --help       show this help

Exit status: 0 when all was answered; 1 when the server cannot be reached, is
busy, does not answer in time or closes the connection first; 2 on a usage error.
`,
  },
  repl: {
    spec: CLIENT_SPEC,
    run: repl,
    usage: `Usage: ${PROGRAM} repl [options]

Sends each line typed and prints the responses as they arrive. End of input
(Ctrl-D), ".exit" or Ctrl-C says "disconnect" and quits. When the server closes
the connection, a note says so on stderr and repl quits. Input may be piped.

${CLIENT_OPTIONS}
  --timeout MS     limit to connect, and for the server to close after
                   "disconnect" (default 5000)
  -h, --help       show this help
`,
  },
  serve: {
    spec: { ...ENDPOINT_SPEC, reply: "string", quiet: "boolean" },
    run: serveCommand,
    usage: `Usage: ${PROGRAM} serve [options]

A server to try clients against: "echo TEXT" answers TEXT, any other command the
reply; ping, disconnect and shutdown are built in. Prints where it listens and
each command received ("< COMMAND") to stdout. Stops on "shutdown" or Ctrl-C.

Options:
  --hostname HOST  address to bind (default 127.0.0.1)
  --port PORT      TCP port, 0 for any free one (default 5001)
  --path PATH      listen on this Unix socket path instead
  --reply TEXT     the answer to other commands (default "${DEFAULT_REPLY}")
  --quiet          do not print the commands received
  -h, --help       show this help
`,
  },
};

function subcommandNamed(name: string | undefined): Subcommand | undefined {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
}

/**
 * Where {@linkcode main} writes help and usage errors: stdout and stderr by
 * default.
 *
 * @example Capture what `main` says
 * ```ts
 * import { main } from "./cli.ts";
 * import type { CliOutput } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const output: CliOutput = { out() {}, err: (text) => err += text };
 * assert.equal(await main(["bogus"], output), 2);
 * assert.match(err, /unknown command "bogus"/);
 * ```
 */
export interface CliOutput {
  /** Receives help texts. */
  out(text: string): void;
  /** Receives usage errors. */
  err(text: string): void;
}

const STANDARD_OUTPUT: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

// Reports a command-line mistake with the usage that applies.
function usageError(message: string, usage: string, output: CliOutput): number {
  output.err(`${PROGRAM}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

/**
 * Runs the command line.
 *
 * @param args The arguments after the script, such as `["send", "ping"]`.
 * @param output Where help and usage errors go (the subcommands print to stdout and stderr).
 * @returns The exit status: 0 on success, 1 on a failure at run time, 2 on a
 * usage error.
 *
 * @example Send a command to a server on port 5001
 * ```ts ignore
 * import { main } from "./cli.ts";
 *
 * const status = await main(["send", "--port", "5001", "cmd01"]); // prints "ack"
 * ```
 */
export async function main(
  args: readonly string[],
  output: CliOutput = STANDARD_OUTPUT,
): Promise<number> {
  const [name, ...rest] = args;
  if (name === "-h" || name === "--help" || (name === "help" && rest.length === 0)) {
    output.out(USAGE);
    return 0;
  }
  if (name === "help") {
    const subcommand = subcommandNamed(rest[0]);
    if (subcommand === undefined || rest.length > 1) {
      return usageError(`help: unknown command ${JSON.stringify(rest.join(" "))}`, USAGE, output);
    }
    output.out(subcommand.usage);
    return 0;
  }
  if (name === undefined) return usageError("a command is needed", USAGE, output);
  const subcommand = subcommandNamed(name);
  if (subcommand === undefined) {
    return usageError(`unknown command ${JSON.stringify(name)}`, USAGE, output);
  }
  try {
    const parsed = parseArgs(rest, subcommand.spec);
    if (parsed.flags.help) {
      output.out(subcommand.usage);
      return 0;
    }
    return await subcommand.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, subcommand.usage, output);
    throw error;
  }
}

if (import.meta.main) {
  const status = await main(process.argv.slice(2));
  // Exit only once stdout has taken all output: a pipe may still hold some.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(status);
}
