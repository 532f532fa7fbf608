/**
 * The context a handler gets for one command, and the check of what it
 * answers.
 *
 * @module
 */

import { checkSingleLine } from "../_framing/text.ts";
import type { InvalidReason } from "../framing.ts";
import { HandlerFinishedError, UnsolicitedResponseError } from "../errors.ts";
import type { HandlerContext, HandlerResult, ResponseLine } from "../handler.ts";
import type { Address } from "../transport.ts";
import { describeValue } from "../_util/option_checks.ts";

/** What a context asks of the session that made it. */
export interface ContextOwner {
  /** Sends a response line (see {@linkcode HandlerContext.send}). */
  send(line: ResponseLine): Promise<void>;
  /**
   * A plain `Uint8Array` of `source[start, end)` that the session never
   * writes to again: a view of `source` itself unless the connection reuses
   * it.
   */
  view(source: Uint8Array, start: number, end: number): Uint8Array;
}

/** The context of one handler call; closed once the handler is done. */
export class CommandContext implements HandlerContext {
  readonly invalid: boolean;
  readonly reason: InvalidReason | undefined;
  readonly remoteAddr: Address;
  readonly signal: AbortSignal;
  // Undefined once the handler is done.
  #owner: ContextOwner | undefined;
  // The line as bytes[start, end) of the read buffer, valid until the handler
  // ends; kept only when asked for, since most handlers never look at the
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
    owner: ContextOwner,
  ) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.reason = reason;
    this.invalid = reason !== undefined;
    this.remoteAddr = remoteAddr;
    this.signal = signal;
    this.#owner = owner;
  }

  send(line: ResponseLine): Promise<void> {
    checkResponseLine(line);
    if (this.#owner === undefined) {
      throw new UnsolicitedResponseError(
        typeof line === "string" ? line : new TextDecoder().decode(line),
      );
    }
    return this.#owner.send(line);
  }

  get raw(): Uint8Array {
    if (this.#raw === undefined) {
      if (this.#bytes === undefined) throw new HandlerFinishedError("context.raw");
      // A view, not a copy per line: a slice costs an allocation several times the cost of
      // copying a short line, which an echo of raw bytes would pay on every command.
      this.#raw = this.#owner!.view(this.#bytes, this.#start, this.#end);
    }
    return this.#raw;
  }

  /** Refuses further sends, and `raw` unless already read. */
  end(): void {
    this.#owner = undefined;
    this.#bytes = undefined;
  }
}

/**
 * Checks one response line: a string without CR or LF, or bytes (sent as
 * they are).
 *
 * @param line The line.
 * @returns The same line.
 * @throws {TypeError} When it is neither, or a string holds CR or LF.
 */
export function checkResponseLine(line: unknown): ResponseLine {
  if (line instanceof Uint8Array) return line;
  if (typeof line !== "string") {
    throw new TypeError(`a response must be a string or a Uint8Array, got ${describeValue(line)}`);
  }
  return checkSingleLine(line, "response");
}

/**
 * Checks a handler's return value that is not one line (the session takes
 * that common answer on a path of its own) and lists its lines.
 *
 * @param result The return value.
 * @returns Its lines.
 * @throws {TypeError} When it is not an array of lines or nothing, or a line is not a string
 *   or bytes, or a string holds CR or LF.
 */
export function responseLines(
  result: Exclude<HandlerResult, ResponseLine>,
): readonly ResponseLine[] {
  if (result === undefined || result === null) return [];
  if (!Array.isArray(result)) {
    throw new TypeError(
      "a handler must return a string, a Uint8Array, an array of them or nothing, got " +
        describeValue(result),
    );
  }
  for (const line of result) checkResponseLine(line);
  return result;
}
