/**
 * What a handler's outcome becomes: its return value, checked, appended to
 * the responses; a failure logged, counted, and answered by `onError` when it
 * answers.
 *
 * @module
 */

import { checkSingleLine, decodeLine } from "../_framing/text.ts";
import { responseLines } from "./command_context.ts";
import type { HandlerResult, ResponseLine } from "../handler.ts";
import type { SessionSettings } from "./server_settings.ts";

/** A command as its handler got it: text, or bytes (a bytes handler's). */
export type Command = string | Uint8Array;

/**
 * A command's text, for logs and `onError`: a bytes handler's command is
 * decoded only then.
 *
 * @param command The command.
 * @returns Its text.
 */
export function commandText(command: Command): string {
  return typeof command === "string" ? command : decodeLine(command).text;
}

/**
 * The log message of a handler that threw or rejected.
 *
 * @param text The command's text.
 * @returns The message.
 */
export const handlerFailed = (text: string): string => `handler failed on ${JSON.stringify(text)}`;

/**
 * Turns one session's handler outcomes into responses and logs.
 *
 * @example
 * ```ts
 * import { HandlerOutcome, handlerFailed } from "./handler_outcome.ts";
 * import assert from "node:assert/strict";
 *
 * const sent: unknown[] = [];
 * const logged: string[] = [];
 * const outcome = new HandlerOutcome(
 *   { logError: (message) => logged.push(message), onError: (_error, command) => `nak ${command}` },
 *   () => {},
 *   (line) => sent.push(line),
 * );
 * outcome.answer("a", ["one", "two"]);
 * outcome.failed(new Uint8Array([0x62]), new Error("boom"), handlerFailed);
 * outcome.answer("c", "bad\nline");
 * assert.deepEqual(sent, ["one", "two", "nak b", "nak c"]);
 * assert.deepEqual(logged, ['handler failed on "b"', 'handler answered "c" wrongly; nothing sent']);
 * ```
 */
export class HandlerOutcome {
  readonly #settings: Pick<SessionSettings, "logError" | "onError">;
  readonly #counted: (error: unknown) => void;
  readonly #append: (line: ResponseLine) => void;

  /**
   * Creates the outcomes' handling.
   *
   * @param settings Where failures are logged, and `onError`, if any.
   * @param counted Told of each failure (the server counts them).
   * @param append Appends one response line.
   */
  constructor(
    settings: Pick<SessionSettings, "logError" | "onError">,
    counted: (error: unknown) => void,
    append: (line: ResponseLine) => void,
  ) {
    this.#settings = settings;
    this.#counted = counted;
    this.#append = append;
  }

  /**
   * Logs a failed command, and sends what `onError` answers for it, if anything.
   *
   * @param command The command.
   * @param error What it failed with.
   * @param message The log message, from the command's text.
   */
  failed(command: Command, error: unknown, message: (text: string) => string): void {
    const { logError, onError } = this.#settings;
    const text = commandText(command);
    logError(message(text), error);
    this.#counted(error);
    if (onError === undefined) return;
    let answer: HandlerResult;
    try {
      answer = onError(error, text);
    } catch (failure) {
      logError(`onError failed on ${JSON.stringify(text)}`, failure);
      return;
    }
    this.answer(command, answer, "onError");
  }

  /**
   * Appends a handler's (or `onError`'s) return value to the responses; a
   * wrong one sends nothing and is a failure (`onError`'s is only logged).
   *
   * @param command The command it answers.
   * @param result The return value.
   * @param from Whose it is.
   */
  answer(command: Command, result: HandlerResult, from: "handler" | "onError" = "handler"): void {
    let lines: readonly ResponseLine[];
    try {
      // One line is the common answer: skip the array that responseLines would build. Bytes
      // (such as context.raw, echoed) are copied as they are, with no decoding.
      if (typeof result === "string") {
        this.#append(checkSingleLine(result, "response"));
        return;
      }
      if (result instanceof Uint8Array) {
        this.#append(result);
        return;
      }
      lines = responseLines(result);
    } catch (error) {
      const message = (text: string) =>
        `${from} answered ${JSON.stringify(text)} wrongly; nothing sent`;
      if (from === "handler") this.failed(command, error, message);
      else this.#settings.logError(message(commandText(command)), error);
      return;
    }
    for (const line of lines) this.#append(line);
  }
}
