/**
 * Between the server's lines and the device's messages: a device's query
 * terminator may be longer than the line's (CRLF), so lines are gathered
 * until a message ends with it, as pyvisa-sim gathers what is written; and
 * each answer goes out as the response terminator asks.
 *
 * @module
 */

function bytesOfLatin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function endsWith(bytes: Uint8Array, end: Uint8Array): boolean {
  if (end.length > bytes.length) return false;
  return end.every((byte, i) => bytes[bytes.length - end.length + i] === byte);
}

/** How the server reads and ends lines for a device: its options, and what gathers messages. */
export interface LineReading {
  /** The server's `readTerminator`. */
  readTerminator: "\n" | "\r";
  /** The server's `keepCR` (only with LF lines). */
  keepCR?: boolean;
  /** The terminator left for {@linkcode MessageReader}, once the server has cut the lines. */
  terminator: string;
}

/**
 * How the server reads a device's query terminator: lines end at its last
 * character (LF or CR); a CR before an LF ends with it (the server drops
 * that CR, so that `ping` CR LF is still the built-in); any other CR is part
 * of the command, as pyvisa-sim reads it.
 *
 * @param terminator The device's query terminator (ends with LF or CR).
 * @returns The server's options, and the terminator left for {@linkcode MessageReader}.
 *
 * @example
 * ```ts
 * import { lineReading } from "./line_io.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(lineReading("\r\n"), { readTerminator: "\n", keepCR: false, terminator: "\n" });
 * assert.deepEqual(lineReading("\n"), { readTerminator: "\n", keepCR: true, terminator: "\n" });
 * assert.deepEqual(lineReading("\r"), { readTerminator: "\r", terminator: "\r" });
 * ```
 */
export function lineReading(terminator: string): LineReading {
  if (terminator.endsWith("\r\n")) {
    return { readTerminator: "\n", keepCR: false, terminator: `${terminator.slice(0, -2)}\n` };
  }
  if (terminator.endsWith("\n")) return { readTerminator: "\n", keepCR: true, terminator };
  return { readTerminator: "\r", terminator };
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
