/**
 * Between the server's lines and the device's messages: a device's query
 * terminator may be longer than the line's (CRLF), so lines are gathered
 * until a message ends with it, as pyvisa-sim gathers what is written; and
 * each answer goes out as the response terminator asks.
 *
 * @module
 */

import type { HandlerResult } from "../handler.ts";

function bytesOfLatin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function endsWith(bytes: Uint8Array, end: Uint8Array): boolean {
  if (end.length > bytes.length) return false;
  return end.every((byte, i) => bytes[bytes.length - end.length + i] === byte);
}

/**
 * How the server reads a device's query terminator: a CR before the LF
 * ends with it (the server drops that CR, so that `ping` CR LF is still the
 * built-in); any other CR is part of the command, as pyvisa-sim reads it.
 *
 * @param terminator The device's query terminator.
 * @returns The terminator left for {@linkcode MessageReader}, and `keepCR`.
 *
 * @example
 * ```ts
 * import { lineReading } from "./line_io.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(lineReading("\r\n"), { terminator: "\n", keepCR: false });
 * assert.deepEqual(lineReading("\n"), { terminator: "\n", keepCR: true });
 * ```
 */
export function lineReading(terminator: string): { terminator: string; keepCR: boolean } {
  if (terminator.endsWith("\r\n")) {
    return { terminator: `${terminator.slice(0, -2)}\n`, keepCR: false };
  }
  return { terminator, keepCR: true };
}

/**
 * Gathers lines into messages that end with the query terminator.
 *
 * @example Messages that end with ";" LF
 * ```ts
 * import { MessageReader } from "./line_io.ts";
 * import assert from "node:assert/strict";
 *
 * const reader = new MessageReader(";\n", 1024);
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.deepEqual(reader.push(bytes("*IDN?;")), bytes("*IDN?"));
 * assert.equal(reader.push(bytes("half")), undefined); // no ";": the message goes on
 * assert.deepEqual(reader.push(bytes("way;")), bytes("half\nway"));
 * ```
 */
export class MessageReader {
  readonly #end: Uint8Array;
  readonly #lineEnd: number;
  readonly #limit: number;
  #pending = new Uint8Array(0);

  /**
   * Creates a reader.
   *
   * @param terminator The query terminator (its last character ends the server's lines).
   * @param limit The most bytes a message may gather; past that, what was
   *   gathered is dropped.
   */
  constructor(terminator: string, limit: number) {
    this.#end = bytesOfLatin1(terminator);
    this.#lineEnd = this.#end[this.#end.length - 1];
    this.#limit = limit;
  }

  /**
   * Takes one line (without its line terminator).
   *
   * @param line The line's bytes.
   * @returns The message it completes, without the terminator, or `undefined`.
   */
  push(line: Uint8Array): Uint8Array | undefined {
    const gathered = new Uint8Array(this.#pending.length + line.length + 1);
    gathered.set(this.#pending);
    gathered.set(line, this.#pending.length);
    gathered[gathered.length - 1] = this.#lineEnd;
    if (endsWith(gathered, this.#end)) {
      this.#pending = new Uint8Array(0);
      return gathered.subarray(0, gathered.length - this.#end.length);
    }
    this.#pending = gathered.length > this.#limit ? new Uint8Array(0) : gathered;
    return undefined;
  }

  /** Drops a message begun by a client that has left. */
  reset(): void {
    this.#pending = new Uint8Array(0);
  }
}

/**
 * Checks that the server can read and write a device's terminators.
 *
 * @param device The device, with its terminators.
 * @throws {RangeError} When the query terminator does not end with LF, or
 *   the response terminator is not LF: the server reads and writes LF lines.
 */
export function checkServable(
  device: { name: string; eom: { query: string; response: string } },
): void {
  const { query, response } = device.eom;
  if (!query.endsWith("\n") || response !== "\n") {
    throw new RangeError(
      `device ${JSON.stringify(device.name)}: the server cannot read queries ended by ${
        JSON.stringify(query)
      } and write answers ended by ${JSON.stringify(response)} yet (LF lines only)`,
    );
  }
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The handler's answer for the device's answers: each one's bytes, then the
 * response terminator. The server ends each line with LF, so an answer is
 * sent as its LF-separated lines.
 *
 * @param answers The device's answers.
 * @param terminator The response terminator.
 * @returns The lines to send.
 * @throws {TypeError} When an answer is not UTF-8 or holds a CR, or the
 *   terminator is not LF: the server cannot send those bytes yet.
 *
 * @example
 * ```ts
 * import { answerLines } from "./line_io.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.deepEqual(answerLines([bytes("1.00"), bytes("a\nb")], "\n"), ["1.00", "a", "b"]);
 * assert.throws(() => answerLines([new Uint8Array([0xaa])], "\n"), TypeError);
 * ```
 */
export function answerLines(answers: readonly Uint8Array[], terminator: string): HandlerResult {
  if (terminator !== "\n") {
    throw new TypeError(`the server cannot end answers with ${JSON.stringify(terminator)} yet`);
  }
  return answers.flatMap((answer) => {
    let text: string;
    try {
      text = strictDecoder.decode(answer);
    } catch (error) {
      throw new TypeError("the server cannot send an answer that is not UTF-8 yet", {
        cause: error,
      });
    }
    if (text.includes("\r")) throw new TypeError("the server cannot send a CR in an answer yet");
    return text.split("\n");
  });
}
