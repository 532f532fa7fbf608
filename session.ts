/**
 * One client's session: reads its commands, answers the built-ins, runs the
 * handler for the rest and writes the responses, until the connection ends.
 *
 * @module
 */

import { decodeLine, LineSplitter } from "./framing.ts";
import { CommandContext, responseLines } from "./handler.ts";
import type { Handler, HandlerResult } from "./handler.ts";
import { TimeoutError } from "./errors.ts";
import { ResponseBuffer } from "./response_buffer.ts";
import { formatAddress } from "./transport.ts";
import type { Connection } from "./transport.ts";

/** A built-in command the server answers itself. */
export type Builtin = "ping" | "disconnect" | "shutdown";

/** How a session ended. */
export type SessionEnd =
  | "closed"
  | "disconnect"
  | "shutdown"
  | "idle"
  | "handler timeout"
  | "line too long"
  | "stopped";

/** The server's settings that a session follows. */
export interface SessionSettings {
  handler: Handler;
  log(message: string): void;
  logError(message: string, error: unknown): void;
  verbose: boolean;
  maxLineBytes: number;
  keepCR: boolean;
  /** The built-ins in force, with their bytes. */
  builtins: readonly (readonly [Builtin, Uint8Array])[];
  idleTimeout: number | undefined;
  handlerTimeout: number | undefined;
  maxPendingBytes: number;
  lineTooLong: "handler" | "close";
}

const PONG = new TextEncoder().encode("pong\n");

function isPromiseLike(value: unknown): value is PromiseLike<HandlerResult> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

/** Serves one connection; see {@linkcode Session.run}. */
export class Session {
  readonly #connection: Connection;
  readonly #settings: SessionSettings;
  readonly #peer: string;
  readonly #aborter = new AbortController();
  readonly #splitter: LineSplitter;
  readonly #responses = new ResponseBuffer();
  // The lines of the current read, reused from read to read.
  readonly #lines: Uint8Array[] = [];
  readonly #tooLong: boolean[] = [];
  readonly #collect = (line: Uint8Array, tooLong: boolean) => {
    this.#lines.push(line);
    this.#tooLong.push(tooLong);
  };
  readonly #appendResponse: (line: string) => void;
  #end: SessionEnd | undefined;

  constructor(connection: Connection, settings: SessionSettings) {
    this.#connection = connection;
    this.#settings = settings;
    this.#peer = formatAddress(connection.remoteAddr);
    this.#splitter = new LineSplitter({
      maxLineBytes: settings.maxLineBytes,
      keepCR: settings.keepCR,
    });
    this.#appendResponse = settings.verbose
      ? (line) => {
        settings.log(`${this.#peer} > ${line}`);
        this.#responses.appendLine(line);
      }
      : (line) => this.#responses.appendLine(line);
  }

  /** The client's address, for logs. */
  get peer(): string {
    return this.#peer;
  }

  /**
   * Serves the connection until it ends, and closes it.
   *
   * @returns How it ended.
   */
  async run(): Promise<SessionEnd> {
    let end: SessionEnd;
    try {
      end = await this.#exchange();
    } catch (error) {
      // A write to a client that reset or vanished.
      if (this.#settings.verbose) this.#settings.log(`${this.#peer} failed: ${error}`);
      end = "closed";
    }
    this.stop(end);
    return this.#end!;
  }

  /**
   * Ends the session: closes the connection and abandons a pending handler
   * (its signal is aborted). The first reason given is the one reported.
   *
   * @param reason Why the session ends.
   */
  stop(reason: SessionEnd): void {
    if (this.#end !== undefined) return;
    this.#end = reason;
    this.#aborter.abort();
    this.#connection.close();
  }

  async #exchange(): Promise<SessionEnd> {
    const { verbose, log, lineTooLong } = this.#settings;
    const lines = this.#lines;
    const tooLong = this.#tooLong;
    for (;;) {
      const chunk = await this.#read();
      if (chunk === null) return "closed";
      lines.length = 0;
      tooLong.length = 0;
      this.#splitter.split(chunk, this.#collect);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (verbose) log(`${this.#peer} < ${decodeLine(line).text}`);
        if (tooLong[i] && lineTooLong === "close") return await this.#refuseTooLong();
        const builtin = tooLong[i] ? undefined : this.#builtinOf(line);
        if (builtin === "ping") {
          this.#responses.appendBytes(PONG);
          if (verbose) log(`${this.#peer} > pong`);
        } else if (builtin !== undefined) {
          await this.#flush();
          return builtin;
        } else {
          const pending = this.#handle(line, tooLong[i]);
          if (pending !== undefined) {
            // An async handler: send what earlier commands answered while it runs.
            await this.#flush();
            const end = await pending;
            if (end !== undefined) return end;
          }
        }
        if (this.#responses.length >= this.#settings.maxPendingBytes) await this.#flush();
      }
      if (lineTooLong === "close" && this.#splitter.overflowing) return await this.#refuseTooLong();
      await this.#flush();
    }
  }

  // Reads the next chunk, ending the session if the client stays silent
  // longer than the idle timeout.
  #read(): Promise<Uint8Array | null> {
    const idleTimeout = this.#settings.idleTimeout;
    if (idleTimeout === undefined) return this.#connection.read();
    const timer = setTimeout(() => this.stop("idle"), idleTimeout);
    return this.#connection.read().finally(() => clearTimeout(timer));
  }

  async #flush(): Promise<void> {
    if (this.#responses.length > 0) await this.#connection.write(this.#responses.take());
  }

  // The built-in a line names, compared on bytes so commands are not decoded.
  #builtinOf(line: Uint8Array): Builtin | undefined {
    for (const [name, bytes] of this.#settings.builtins) {
      if (line.length !== bytes.length) continue;
      let i = 0;
      while (i < bytes.length && line[i] === bytes[i]) i++;
      if (i === bytes.length) return name;
    }
    return undefined;
  }

  async #refuseTooLong(): Promise<SessionEnd> {
    this.#appendResponse(`error - line too long (over ${this.#settings.maxLineBytes} bytes)`);
    await this.#flush();
    return "line too long";
  }

  // Runs the handler for one line. Returns a promise only when the handler is
  // async, so synchronous handlers cost no promise per line.
  #handle(line: Uint8Array, tooLong: boolean): Promise<SessionEnd | undefined> | undefined {
    const { text, invalid } = decodeLine(line);
    const reason = tooLong ? "too_long" : invalid ? "decode" : undefined;
    const context = new CommandContext(
      line,
      reason,
      this.#connection.remoteAddr,
      this.#aborter.signal,
      this.#appendResponse,
    );
    let result: HandlerResult | PromiseLike<HandlerResult>;
    try {
      result = this.#settings.handler(text, context);
    } catch (error) {
      context.end();
      this.#settings.logError(`handler failed on ${JSON.stringify(text)}`, error);
      return undefined;
    }
    if (isPromiseLike(result)) return this.#settle(text, result, context);
    context.end();
    this.#answer(text, result);
    return undefined;
  }

  // Waits for an async handler, unless the session ends or the handler
  // timeout runs out first.
  #settle(
    text: string,
    result: PromiseLike<HandlerResult>,
    context: CommandContext,
  ): Promise<SessionEnd | undefined> {
    const { handlerTimeout, logError } = this.#settings;
    const signal = this.#aborter.signal;
    return new Promise((resolve) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (end: SessionEnd | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        context.end();
        resolve(end);
      };
      const onAbort = () => finish("stopped");
      if (signal.aborted) return finish("stopped");
      signal.addEventListener("abort", onAbort);
      if (handlerTimeout !== undefined) {
        timer = setTimeout(() => {
          logError(
            `handler did not settle within ${handlerTimeout} ms on ${JSON.stringify(text)}`,
            new TimeoutError("handler timed out", handlerTimeout),
          );
          // What it sent so far still goes out; then the connection closes.
          this.#flush().catch(() => {}).then(() => finish("handler timeout"));
        }, handlerTimeout);
      }
      Promise.resolve(result).then(
        (value) => {
          if (settled) return;
          this.#answer(text, value);
          finish(undefined);
        },
        (error) => {
          if (settled) return;
          logError(`handler failed on ${JSON.stringify(text)}`, error);
          finish(undefined);
        },
      );
    });
  }

  // Appends a handler's return value to the responses.
  #answer(command: string, result: HandlerResult): void {
    let lines: readonly string[];
    try {
      lines = responseLines(result);
    } catch (error) {
      this.#settings.logError(
        `handler answered ${JSON.stringify(command)} wrongly; nothing sent`,
        error,
      );
      return;
    }
    for (const line of lines) this.#appendResponse(line);
  }
}
