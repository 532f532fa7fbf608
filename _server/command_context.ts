/**
 * The context a handler gets for one command, and the check of what it
 * answers.
 *
 * @module
 */

import { checkSingleLine } from "../_framing/text.ts";
import type { InvalidReason } from "../framing.ts";
import { HandlerFinishedError, UnsolicitedResponseError } from "../errors.ts";
import type { HandlerContext, HandlerResult } from "../handler.ts";
import type { Address } from "../transport.ts";

/** The context of one handler call; closed once the handler is done. */
export class CommandContext implements HandlerContext {
  readonly invalid: boolean;
  readonly reason: InvalidReason | undefined;
  readonly remoteAddr: Address;
  readonly signal: AbortSignal;
  #sink: ((line: string) => Promise<void>) | undefined;
  // The line as bytes[start, end) of the read buffer, valid until the handler
  // ends; copied only when asked for, since most handlers never look at the
  // bytes (and not even a view is made until then).
  #bytes: Uint8Array | undefined;
  readonly #start: number;
  readonly #end: number;
  #raw: Uint8Array | undefined;

  constructor(
    bytes: Uint8Array,
    start: number,
    end: number,
    reason: InvalidReason | undefined,
    remoteAddr: Address,
    signal: AbortSignal,
    sink: (line: string) => Promise<void>,
  ) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.reason = reason;
    this.invalid = reason !== undefined;
    this.remoteAddr = remoteAddr;
    this.signal = signal;
    this.#sink = sink;
  }

  send(line: string): Promise<void> {
    checkSingleLine(line, "response");
    if (this.#sink === undefined) throw new UnsolicitedResponseError(line);
    return this.#sink(line);
  }

  get raw(): Uint8Array {
    if (this.#raw === undefined) {
      if (this.#bytes === undefined) throw new HandlerFinishedError("context.raw");
      this.#raw = this.#bytes.slice(this.#start, this.#end);
    }
    return this.#raw;
  }

  /** Refuses further sends, and `raw` unless already read. */
  end(): void {
    this.#sink = undefined;
    this.#bytes = undefined;
  }
}

/**
 * Checks a handler's return value that is not one string (the session takes
 * that common answer on a path of its own) and lists its lines.
 *
 * @param result The return value.
 * @returns Its lines.
 * @throws {TypeError} When it is not an array of strings or nothing, or a line holds CR or LF.
 */
export function responseLines(result: Exclude<HandlerResult, string>): readonly string[] {
  if (result === undefined || result === null) return [];
  if (!Array.isArray(result)) {
    throw new TypeError("a handler must return a string, an array of strings or nothing");
  }
  for (const line of result) checkSingleLine(line, "response");
  return result;
}
