/**
 * The command line: `send` commands and print the responses, a `repl`, and a
 * `serve`r to try things out with. Runs on Deno, Bun and Node (22 or later).
 *
 * @example Try it out
 * ```sh
 * deno run -A jsr:@oneline/socket-oneline/cli serve --port 5001 &
 * deno run -A jsr:@oneline/socket-oneline/cli send -p 5001 ping "echo hi" shutdown
 * ```
 *
 * @module
 */

import process from "node:process";
import {
  didYouMean,
  ENDPOINT_SPEC,
  EXIT_USAGE,
  parseArgs,
  PROGRAM,
  UsageError,
} from "./_cli/common.ts";
import type { FlagSpec, ParsedArgs } from "./_cli/common.ts";
import { mockCommand } from "./_cli/mock.ts";
import { recordCommand } from "./_cli/record.ts";
import { repl } from "./_cli/repl.ts";
import { isMain } from "./_cli/script.ts";
import { CONNECT_SPEC, CONNECT_USAGE } from "./_cli/connect_flags.ts";
import { send } from "./_cli/send.ts";
import { DEFAULT_REPLY, serveCommand } from "./_cli/serve.ts";
import { VERSION } from "./_cli/version.ts";
import { DEFAULT_HOSTNAME, DEFAULT_PORT } from "./_transport/default_endpoint.ts";

const CLIENT_OPTIONS = `Options:
  -H, --hostname HOST  server host (default ${DEFAULT_HOSTNAME})
  -p, --port PORT      server TCP port (default ${DEFAULT_PORT})
  --path PATH          Unix socket path, instead of TCP`;

const USAGE = `Usage: ${PROGRAM} <command> [options]
       ${PROGRAM} -V | --version

A client and a server for the oneline protocol: one command per line, zero or
more response lines per command.

Commands:
  send [options] [COMMAND...]  send commands (or stdin's lines), print the responses
  repl [options]               type commands, see the responses as they arrive
  serve [options]              a server to try clients against
  mock [options] FILE          a simulated instrument from a pyvisa-sim file
  record [options]             record a client and an instrument as such a file
  help [COMMAND]               this help, or a command's

Options:
  -h, --help     show this help
  -V, --version  print the version

Run "${PROGRAM} <command> --help" for a command's options.
`;

interface Subcommand {
  name: string;
  spec: FlagSpec;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  send: {
    name: "send",
    spec: CONNECT_SPEC,
    run: send,
    usage: `Usage: ${PROGRAM} send [options] [COMMAND...]

Connects, sends each COMMAND in order (without any: each line of stdin), prints
every response line to stdout, and ends once the server has answered them all:
after the last command it says "ping" and "disconnect", and the server closes
the connection only after answering what came before; the final "pong" is not
printed. Commands after a "disconnect" or "shutdown" of your own are not sent.

${CLIENT_OPTIONS}
  -t, --timeout MS     limit to connect, and to wait for each response once all
                       is sent (default 5000)
${CONNECT_USAGE}
  -h, --help           show this help

With --no-handshake (an instrument), a command that holds "?" is a query: its
one answer line is printed before the next command is sent; others are only
sent. Answer lines are printed as the bytes that came.

Exit status: 0 when all was answered; 1 when the server cannot be reached, is
busy, does not answer in time or closes the connection first; 2 on a usage error.
`,
  },
  repl: {
    name: "repl",
    spec: CONNECT_SPEC,
    run: repl,
    usage: `Usage: ${PROGRAM} repl [options]

Sends each line typed and prints the responses as they arrive. End of input
(Ctrl-D), ".exit" or Ctrl-C says "disconnect" and quits. When the server closes
the connection, a note says so on stderr and repl quits. Input may be piped.

${CLIENT_OPTIONS}
  -t, --timeout MS     limit to connect, and for the server to close after
                       "disconnect" (an instrument: to send nothing more after
                       the end of input) (default 5000)
${CONNECT_USAGE}
  -h, --help           show this help
`,
  },
  serve: {
    name: "serve",
    spec: {
      ...ENDPOINT_SPEC,
      reply: "string",
      quiet: "boolean",
      verbose: "boolean",
      "read-terminator": "string",
      "write-terminator": "string",
    },
    run: serveCommand,
    usage: `Usage: ${PROGRAM} serve [options]

A server to try clients against: "echo TEXT" answers TEXT, any other command the
reply; ping, disconnect and shutdown are built in. Prints where it listens and
each command received ("< COMMAND"), built-ins included, to stdout. Stops on
"shutdown" or Ctrl-C.

Options:
  -H, --hostname HOST       address to bind (default ${DEFAULT_HOSTNAME})
  -p, --port PORT           TCP port, 0 for any free one (default ${DEFAULT_PORT})
  --path PATH               listen on this Unix socket path instead
  --reply TEXT              the answer to other commands (default "${DEFAULT_REPLY}")
  --read-terminator END     what ends a command: lf (a CR before it is dropped),
                            cr, or any of CR, LF and CRLF (default lf)
  --write-terminator END    what ends each response line: lf, crlf or cr
                            (default lf)
  -v, --verbose             also print each response ("> RESPONSE") and each
                            client's connect and disconnect
  -q, --quiet               do not print the commands received
  -h, --help                show this help
`,
  },
  mock: {
    name: "mock",
    spec: { ...ENDPOINT_SPEC, device: "string", quiet: "boolean", verbose: "boolean" },
    run: mockCommand,
    usage: `Usage: ${PROGRAM} mock [options] FILE

Serves a simulated instrument: the device of FILE, a pyvisa-sim definition
(YAML), answers each line as pyvisa-sim answers it. One client at a time, and
the device's state lives as long as the server; ping, disconnect and shutdown
are built in. Prints where it listens and each command received to stdout.
Stops on "shutdown" or Ctrl-C.

Options:
  --device NAME        the device to serve (needed when FILE has several)
  -H, --hostname HOST  address to bind (default ${DEFAULT_HOSTNAME})
  -p, --port PORT      TCP port, 0 for any free one (default ${DEFAULT_PORT})
  --path PATH          listen on this Unix socket path instead
  -v, --verbose        also print each answer ("> ANSWER") and each client's
                       connect and disconnect
  -q, --quiet          do not print the commands received
  -h, --help           show this help

The file's end of message ("TCPIP SOCKET", else "TCPIP INSTR", else LF) says
what ends commands and answers.

Exit status: 0 once stopped; 1 when it cannot listen; 2 on a usage error or a
FILE that cannot be read or is not a valid definition (said in one line).
`,
  },
  record: {
    name: "record",
    spec: { ...ENDPOINT_SPEC, to: "string", out: "string" },
    run: recordCommand,
    usage: `Usage: ${PROGRAM} record --to HOST:PORT --out FILE [options]

A proxy that records: each client in turn is connected to the instrument at
--to, and their bytes are forwarded both ways unchanged. FILE becomes a
definition that "${PROGRAM} mock FILE" serves: each command the client sent,
with the lines the instrument sent until the next command (a ping the client
sends as a fence, as this package's client does, ends an answer at its pong).
It is written whole after every exchange. A command answered differently later
keeps its first answer; the others are listed as comments. Not recorded: state
(what a command changes), and the order of answers to commands pipelined
without a fence. Stops on Ctrl-C.

Options:
  --to HOST:PORT       the instrument (or a Unix socket path)
  --out FILE           the definition file to write
  -H, --hostname HOST  address to bind (default ${DEFAULT_HOSTNAME})
  -p, --port PORT      TCP port, 0 for any free one (default ${DEFAULT_PORT})
  --path PATH          listen on this Unix socket path instead
  -h, --help           show this help
`,
  },
};

function subcommandNamed(name: string | undefined): Subcommand | undefined {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
}

/**
 * Where {@linkcode main} writes help, the version and usage errors: stdout
 * and stderr by default.
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
  /** Receives help texts and the version. */
  out(text: string): void;
  /** Receives usage errors. */
  err(text: string): void;
}

const STANDARD_OUTPUT: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

// Reports a command-line mistake in one line, and where the usage that applies is: the
// whole usage would bury the line that matters.
function usageError(
  message: string,
  subcommand: Subcommand | undefined,
  output: CliOutput,
): number {
  const help = subcommand === undefined ? "--help" : `${subcommand.name} --help`;
  output.err(`${PROGRAM}: ${message}\nRun '${PROGRAM} ${help}' for usage.\n`);
  return EXIT_USAGE;
}

/**
 * Runs the command line.
 *
 * @param args The arguments after the script, such as `["send", "ping"]`.
 * @param output Where help, the version and usage errors go (the subcommands
 * print to stdout and stderr).
 * @returns The exit status: 0 on success, 1 on a failure at run time, 2 on a
 * usage error.
 *
 * @example Send a command to a server
 * ```ts
 * import { main } from "./cli.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ack" });
 * const status = await main(["send", "--port", String(server.port), "cmd01"]); // prints "ack"
 * assert.equal(status, 0);
 * assert.equal(await main(["send", "--port", "none"]), 2); // a usage error
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
  if (name === "-V" || name === "--version") {
    output.out(`${VERSION}\n`);
    return 0;
  }
  if (name === "help") {
    const subcommand = subcommandNamed(rest[0]);
    if (subcommand === undefined || rest.length > 1) {
      const unknown = rest.join(" ");
      const hint = didYouMean(unknown, Object.keys(SUBCOMMANDS));
      return usageError(
        `help: unknown command ${JSON.stringify(unknown)}${hint}`,
        undefined,
        output,
      );
    }
    output.out(subcommand.usage);
    return 0;
  }
  if (name === undefined) return usageError("a command is needed", undefined, output);
  const subcommand = subcommandNamed(name);
  if (subcommand === undefined) {
    const hint = didYouMean(name, [...Object.keys(SUBCOMMANDS), "help"]);
    return usageError(`unknown command ${JSON.stringify(name)}${hint}`, undefined, output);
  }
  try {
    const parsed = parseArgs(rest, subcommand.spec);
    if (parsed.flags.help) {
      output.out(subcommand.usage);
      return 0;
    }
    return await subcommand.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, subcommand, output);
    throw error;
  }
}

if (isMain(import.meta)) {
  const status = await main(process.argv.slice(2));
  // Exit only once stdout has taken all output: a pipe may still hold some.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(status);
}
