/**
 * The `send` subcommand: sends commands, prints every response line, and
 * ends exactly when the server has answered them all.
 *
 * How it knows: after the last command it says `ping` and then `disconnect`
 * (or the user's own `disconnect` or `shutdown`). The server answers in order
 * and closes the connection only after the responses to what came before, so
 * the output ends at the close — no guessing by silence — and the `pong` right
 * before the close shows that the server read everything; that `pong` is not
 * printed. A close without it means the server closed early (line too long,
 * handler timeout, idle timeout): exit status 1. A user's command answered
 * with `pong` is printed as usual; only if the server then closed without
 * answering anything more would it be taken for the final one.
 *
 * An instrument (`--no-handshake`) has no `ping` and no `disconnect`: each
 * command that holds a `?` is a query, whose one answer line is printed
 * before the next command goes out (the SCPI rule); the others are only
 * sent. `send` then closes the connection.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { ConnectionClosedError, TimeoutError } from "../errors.ts";
import type { OnelineClient } from "../client.ts";
import { EXIT_FAILURE, printError, printLine, UsageError } from "./common.ts";
import type { ParsedArgs } from "./common.ts";
import { answerLines, connectFlags, connectWithFlags, printAnswer } from "./connect_flags.ts";
import { formatAddress } from "../transport.ts";

/** The built-ins after which the server closes the connection. */
export const GOODBYES: ReadonlySet<string> = new Set(["disconnect", "shutdown"]);

/**
 * Runs `send`: the commands are the arguments, or stdin's lines when there
 * are none.
 *
 * @param args The parsed options and commands.
 * @returns The exit status: 0 when all was answered, 1 on a failure.
 * @throws {UsageError} On a bad option value or a command holding CR or LF.
 */
export async function send(args: ParsedArgs): Promise<number> {
  const flags = connectFlags(args.flags);
  const { endpoint, timeout } = flags;
  const bad = args.positionals.find((command) => /[\r\n]/.test(command));
  if (bad !== undefined) {
    throw new UsageError(`a command cannot contain CR or LF: ${JSON.stringify(bad)}`);
  }
  const client = await connectWithFlags(flags);
  if (client === undefined) return EXIT_FAILURE;
  const address = formatAddress(endpoint);
  const stdin = args.positionals.length === 0
    ? createInterface({ input: process.stdin, crlfDelay: Infinity })
    : undefined;
  if (flags.device) return await sendToDevice(client, stdin ?? args.positionals, address, timeout);

  let allSent = false;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Once all is sent, the server must keep answering (or close) within the
  // limit; each response restarts it, so a long answer is not cut short.
  const watch = () => {
    clearTimeout(timer);
    if (!client.connected) return;
    timer = setTimeout(() => {
      timedOut = true;
      client.close();
    }, timeout);
  };
  const sending = (async () => {
    try {
      let goodbye = "disconnect";
      for await (const command of stdin ?? args.positionals) {
        // The server would read nothing after a goodbye of the user's own.
        if (GOODBYES.has(command)) {
          goodbye = command;
          break;
        }
        await client.send(command);
      }
      await client.send("ping");
      await client.send(goodbye);
      allSent = true;
      watch();
    } catch (error) {
      // The server closed first: the reading loop below reports it.
      if (!(error instanceof ConnectionClosedError)) throw error;
    }
  })();

  // A "pong" is held back until the next line: the one right before the
  // close answers the final ping and is not printed.
  let pong: string | undefined;
  for await (const line of answerLines(client)) {
    if (pong !== undefined) printLine(pong);
    pong = line.text === "pong" && !line.invalid ? line.text : undefined;
    if (pong === undefined) printAnswer(line);
    if (allSent) watch();
  }
  stdin?.close();
  await sending;
  clearTimeout(timer);
  if (timedOut) {
    if (pong !== undefined) printLine(pong);
    printError(`server at ${address} did not answer within ${timeout} ms`);
    return EXIT_FAILURE;
  }
  if (pong === undefined) {
    printError(`server at ${address} closed the connection before answering everything`);
    return EXIT_FAILURE;
  }
  return 0;
}

// Sends each command to an instrument; a query's answer line is printed before the next.
async function sendToDevice(
  client: OnelineClient,
  commands: AsyncIterable<string> | Iterable<string>,
  address: string,
  timeout: number,
): Promise<number> {
  try {
    for await (const command of commands) {
      await client.send(command);
      if (command.includes("?")) printAnswer(await client.recvLine());
    }
    return 0;
  } catch (error) {
    if (error instanceof ConnectionClosedError) {
      printError(`device at ${address} closed the connection before answering everything`);
    } else if (error instanceof TimeoutError) {
      printError(`device at ${address} did not answer within ${timeout} ms`);
    } else throw error;
    return EXIT_FAILURE;
  } finally {
    await client[Symbol.asyncDispose]();
  }
}
