/**
 * The `repl` subcommand: an interactive client. Each input line is sent as it
 * is typed; responses are printed as they arrive, independently of the input.
 * With `--no-handshake` (an instrument) the end of input closes the
 * connection without a `disconnect`, once the instrument has sent nothing
 * for `--timeout`.
 *
 * @module
 */

import process from "node:process";
import { clearLine, createInterface, cursorTo } from "node:readline";
import { EXIT_FAILURE, UsageError } from "./common.ts";
import { printError } from "./common.ts";
import { answerLines, connectFlags, connectWithFlags, printAnswer } from "./connect_flags.ts";
import type { ParsedArgs } from "./common.ts";
import { GOODBYES } from "./send.ts";
import { formatAddress } from "../transport.ts";

/**
 * Runs `repl` until the input ends (Ctrl-D, `.exit`, Ctrl-C) or the server
 * closes the connection.
 *
 * @param args The parsed options.
 * @returns The exit status: 0, or 1 when the server cannot be reached or does
 * not close the connection in time after `disconnect`.
 * @throws {UsageError} On a bad option value or an argument.
 */
export async function repl(args: ParsedArgs): Promise<number> {
  const flags = connectFlags(args.flags);
  const { endpoint, timeout } = flags;
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  }
  const client = await connectWithFlags(flags);
  if (client === undefined) return EXIT_FAILURE;
  // Line editing, history and a prompt on a terminal; none of that on a pipe.
  const tty = process.stdin.isTTY === true;
  const input = createInterface({
    input: process.stdin,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    prompt: "> ",
    crlfDelay: Infinity,
  });

  let userSaidGoodbye = false;
  let weSaidGoodbye = false;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.on("line", (line) => {
    if (userSaidGoodbye) return; // the server will not read it
    if (line === ".exit") return input.close();
    userSaidGoodbye = GOODBYES.has(line);
    // A failed send means the server has closed: the reading loop says so.
    client.send(line).catch(() => {});
    if (tty && !userSaidGoodbye) input.prompt();
  });
  input.on("SIGINT", () => input.close());
  input.on("close", () => {
    if (userSaidGoodbye || !client.connected) return;
    weSaidGoodbye = true;
    // An instrument knows no disconnect: the client leaves once it has answered nothing more
    // for the time limit.
    if (flags.device) return quietThenLeave();
    client.send("disconnect").catch(() => {});
    timer = setTimeout(() => {
      timedOut = true;
      client.close();
    }, timeout);
  });
  const quietThenLeave = () => {
    clearTimeout(timer);
    timer = setTimeout(() => client.close(), timeout);
  };
  if (tty) input.prompt();

  for await (const line of answerLines(client)) {
    if (weSaidGoodbye && flags.device) quietThenLeave();
    if (!tty) {
      printAnswer(line);
      continue;
    }
    // Print above the prompt, then redraw it with what is typed so far.
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    printAnswer(line);
    input.prompt(true);
  }
  clearTimeout(timer);
  if (tty) {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
  }
  input.close();
  if (!weSaidGoodbye) {
    process.stderr.write("server closed the connection\n");
  } else if (timedOut) {
    printError(`server at ${formatAddress(endpoint)} did not close within ${timeout} ms`);
    return EXIT_FAILURE;
  }
  return 0;
}
