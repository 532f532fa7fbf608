/**
 * One client's session: reads its commands, answers the built-ins, runs the
 * handler for the rest and writes the responses, until the connection ends.
 *
 * @module
 */

import { RangeSplitter } from "../_framing/range_splitter.ts";
import { asciiText, decodeLine, TEXT_SEARCH_IS_FASTER } from "../_framing/text.ts";
import type { DecodedLine } from "../_framing/text.ts";
import type { InvalidReason } from "../framing.ts";
import { CommandContext } from "./command_context.ts";
import { handlerFailed, HandlerOutcome } from "./handler_outcome.ts";
import type { Command } from "./handler_outcome.ts";
import type { ContextOwner } from "./command_context.ts";
import type { HandlerResult, ResponseLine } from "../handler.ts";
import type { SessionSettings } from "./server_settings.ts";
import { ConnectionClosedError, TimeoutError } from "../errors.ts";
import { ResponseBuffer } from "./response_buffer.ts";
import { ResponseWriter } from "./response_writer.ts";
import { BUILTINS, findBuiltin, isBuiltin } from "./builtins.ts";
import type { Builtin } from "./builtins.ts";
import { LineBatch } from "./line_batch.ts";
import { formatAddress } from "../transport.ts";
import type { Connection } from "../transport.ts";
import { closePolitely } from "../_transport/close_politely.ts";
import type { Timer } from "../_util/clock.ts";
import { IdleTimer } from "./idle_timer.ts";
import {
  CALLING,
  closing,
  ended,
  finishing,
  HANDLING,
  move,
  NEW,
  READING,
  SERVING,
} from "./phase.ts";
import type { Phase, SessionEnd } from "./phase.ts";

export type { SessionEnd };

/** What the server learns from a session as it runs. */
export interface SessionObserver {
  /**
   * Each command received, built-ins included (`builtin`: the session answers
   * it itself); when set, every line is decoded for it.
   */
  command?(text: string, builtin: boolean): void;
  /** A command whose handler failed (threw, rejected, answered wrongly or timed out). */
  failed(error: unknown): void;
}

const DONE = Promise.resolve();
// The built-in answered on the hot path (see Session.#collect).
const FAST_BUILTIN = BUILTINS[0];
// Reads this long or longer are decoded whole (see Session.#split).
const DECODE_WHOLE_READ_BYTES = 64;

function isPromiseLike(value: unknown): value is PromiseLike<HandlerResult> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

// A line's text: a slice of its read's text when the read was all ASCII (see Session.#split).
function lineText(
  source: Uint8Array,
  start: number,
  end: number,
  chunk: Uint8Array,
  ascii: string | undefined,
): DecodedLine {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: only the decode's speed differs
  return source === chunk && ascii !== undefined
    ? { text: ascii.slice(start, end), invalid: false }
    : decodeLine(source.subarray(start, end));
}

/** Serves one connection; see {@linkcode Session.run}. */
export class Session {
  readonly #connection: Connection;
  readonly #settings: SessionSettings;
  readonly #observer: SessionObserver;
  // Whether every line is logged or reported, which the ping fast path would skip.
  readonly #everyLine: boolean;
  // Whether lines are decoded: for a text handler, or for the logs and the observer.
  readonly #decodes: boolean;
  // Whether long reads are decoded whole (see #split).
  readonly #decodesReads: boolean;
  #phase: Phase = NEW;
  // Set by finish() when the session is not reading: the exchange ends after the command
  // under way, if any.
  #finishAfterCommand = false;
  #commands = 0;
  // Made once a log or the server asks for it.
  #peer: string | undefined;
  // Made on the first handler call: sessions that only ping never need one, and aborting one
  // costs a DOMException with a stack trace on every close.
  #aborter: AbortController | undefined;
  // Whether the session ends when the connection goes (set up once, on the first async handler).
  #watching = false;
  readonly #idle: IdleTimer | undefined;
  readonly #splitter: RangeSplitter;
  // Whether reads reuse their array (see #read); the current read, and where the views of its
  // lines are made once a handler asks for one (see #contextOwner).
  readonly #transientReads: boolean;
  #chunk: Uint8Array | undefined;
  #chunkBuffer: ArrayBufferLike | undefined;
  #chunkOffset = 0;
  readonly #responses: ResponseBuffer;
  // The fast built-in's answer with the response terminator, appended as it is.
  readonly #fastReply: Uint8Array;
  // The lines of the current read that are not answered at once.
  readonly #batch = new LineBatch();
  // The hot path: the first built-in of the table (`ping`, which cannot be
  // turned off) is answered at once when that changes nothing a client could
  // see: while no line of this read waits before it (answers stay in order),
  // no line is logged or reported (then every line is), and the responses are
  // under maxPendingBytes (backpressure is checked once per line in
  // #exchange). Such pings are counted as the read is split, and their answers
  // appended in one go after it: how many a read may hold (the responses are
  // all written before each read, so the room is maxPendingBytes), how many
  // more this one may, and how many it holds.
  readonly #fastLimit: number;
  #fastRoom = 0;
  #fastReplies = 0;
  // Takes each line as it is found, with the built-in it names, if any.
  readonly #collect = (bytes: Uint8Array, start: number, end: number, tooLong: boolean) => {
    this.#commands++;
    if (
      this.#fastReplies < this.#fastRoom && !tooLong && isBuiltin(FAST_BUILTIN, bytes, start, end)
    ) {
      this.#fastReplies++;
      return;
    }
    // A line waits: the pings after it are answered in their turn.
    this.#fastRoom = 0;
    const builtin = tooLong ? undefined : findBuiltin(this.#settings.builtins, bytes, start, end);
    this.#batch.push(bytes, start, end, tooLong, builtin);
  };
  readonly #appendResponse: (line: ResponseLine) => void;
  readonly #outcome: HandlerOutcome;
  #closed: Promise<void> = DONE;
  readonly #writer: ResponseWriter;
  // The flush that context.send asked for, run once the handler's current turn is over.
  #sendFlush: Promise<void> | undefined;

  constructor(connection: Connection, settings: SessionSettings, observer: SessionObserver) {
    this.#connection = connection;
    this.#settings = settings;
    this.#observer = observer;
    this.#everyLine = settings.verbose || observer.command !== undefined;
    // Stryker disable ConditionalExpression,LogicalOperator: decoding more than needed only costs
    this.#decodes = settings.handler.decodes || this.#everyLine;
    this.#decodesReads = this.#decodes || TEXT_SEARCH_IS_FASTER;
    // Stryker restore ConditionalExpression,LogicalOperator
    this.#transientReads = connection.readTransient !== undefined;
    // The time a handler takes is the server's, not the client's, unless it waits for the
    // client to take what it sent.
    this.#idle = settings.idleTimeout === undefined ? undefined : new IdleTimer(
      settings.clock,
      settings.idleTimeout,
      () => this.#phase === HANDLING && !this.#writer.busy,
      () => this.stop("idle"),
    );
    this.#splitter = new RangeSplitter({
      maxLineBytes: settings.maxLineBytes,
      keepCR: settings.keepCR,
      readTerminator: settings.readTerminator,
    });
    const terminator = settings.responseTerminator;
    this.#responses = new ResponseBuffer(terminator);
    const progress = this.#idle && (() => this.#idle!.progress());
    this.#writer = new ResponseWriter(
      connection,
      this.#responses,
      () => this.#phase === HANDLING,
      progress,
    );
    const reply = FAST_BUILTIN.replyBytes!;
    this.#fastReply = new Uint8Array(reply.length + terminator.length);
    this.#fastReply.set(reply);
    this.#fastReply.set(terminator, reply.length);
    this.#fastLimit = this.#everyLine
      ? 0
      : Math.ceil(settings.maxPendingBytes / this.#fastReply.length);
    const responses = this.#responses;
    const append = (line: ResponseLine) =>
      typeof line === "string" ? responses.appendLine(line) : responses.appendBytes(line);
    this.#appendResponse = settings.verbose
      ? (line) => {
        const text = typeof line === "string" ? line : decodeLine(line).text;
        settings.log(`${this.peer} > ${text}`);
        append(line);
      }
      : append;
    this.#outcome = new HandlerOutcome(
      settings,
      (error) => observer.failed(error),
      this.#appendResponse,
    );
  }

  /** The client's address, for logs. */
  get peer(): string {
    return this.#peer ??= formatAddress(this.#connection.remoteAddr);
  }

  /** Whether a handler runs now (it may be what calls the server's `shutdown()`). */
  get handling(): boolean {
    return this.#phase === CALLING || this.#phase === HANDLING;
  }

  /** How many commands (lines) the client has sent so far, built-ins included. */
  get commands(): number {
    return this.#commands;
  }

  /**
   * Ends the session once the command under way, if any, has finished and
   * its answers are written; the commands after it are not served. With none
   * under way the client is sent its end of stream at once. Either way the
   * connection then closes politely, within `closeTimeout`.
   */
  finish(): void {
    // Not reading: the exchange ends after the command under way (or has ended already).
    if (this.#phase !== READING) {
      this.#finishAfterCommand = true;
      return;
    }
    // The pending read ends when the client closes (or sends more, which is dropped).
    this.#connection.closeWrite();
    const { clock, closeTimeout } = this.#settings;
    const timer = clock.setTimeout(() => this.stop("server shutdown"), closeTimeout);
    this.#enter(finishing(timer));
  }

  /**
   * Serves the connection until the exchange ends. When the server ends it
   * (such as on `disconnect`), the connection then closes politely in the
   * background, so the next client need not wait for this one to go; see
   * {@linkcode Session.closed}.
   *
   * @returns How it ended.
   */
  async run(): Promise<SessionEnd> {
    let end: SessionEnd;
    this.#idle?.start();
    try {
      end = await this.#exchange();
    } catch (error) {
      end = "closed";
      // A write to a client that reset or vanished ends its turn quietly;
      // anything else is a bug, and is logged and counted.
      if (error instanceof ConnectionClosedError) {
        if (this.#settings.verbose) this.#settings.log(`${this.peer} failed: ${error}`);
      } else {
        this.#settings.logError(`${this.peer}: the session failed`, error);
        this.#observer.failed(error);
      }
    }
    this.#idle?.stop();
    if (end === "closed" || this.#phase.name === "ended") return this.#end(end);
    const phase = this.#phase;
    this.#enter(closing(phase.name === "finishing" ? phase.timer : undefined));
    // Handlers learn of the end now, not once the client has gone.
    this.#aborter?.abort();
    const { clock, closeTimeout } = this.#settings;
    const close = () => this.stop(end);
    this.#closed = closePolitely(this.#connection, closeTimeout, clock).then(close, close);
    return end;
  }

  /**
   * Resolves once the connection is closed: at once after a client left, and
   * within `closeTimeout` after the server ended the session.
   *
   * @returns A promise of the close.
   */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Ends the session: closes the connection and abandons a pending handler
   * (its signal is aborted). The first reason given is the one reported.
   *
   * @param reason Why the session ends.
   */
  stop(reason: SessionEnd): void {
    this.#end(reason);
  }

  // Stops, and returns the reason reported: the first one given.
  #end(reason: SessionEnd): SessionEnd {
    const phase = this.#phase;
    if (phase.name === "ended") return phase.reason;
    this.#phase = ended(reason);
    this.#idle?.stop();
    if ("timer" in phase) this.#settings.clock.clearTimeout(phase.timer);
    this.#aborter?.abort();
    this.#connection.close();
    return reason;
  }

  #enter(next: Phase): void {
    this.#phase = move(this.#phase, next);
  }

  // The signal handlers get: aborted when the session ends.
  #signal(): AbortSignal {
    if (this.#aborter === undefined) {
      this.#aborter = new AbortController();
      if (this.#phase.name === "ended") this.#aborter.abort();
    }
    return this.#aborter.signal;
  }

  async #exchange(): Promise<SessionEnd> {
    const batch = this.#batch;
    while (!this.#finishAfterCommand) {
      this.#enter(READING);
      const chunk = await this.#read();
      if (this.#phase.name === "finishing") return "server shutdown";
      if (chunk === null) return "closed";
      this.#enter(SERVING);
      const ascii = this.#split(chunk);
      for (let i = 0; i < batch.length; i++) {
        const serving = this.#serveLine(i, chunk, ascii);
        const end = serving === undefined ? undefined : await serving;
        if (end !== undefined) return end;
        if (this.#finishAfterCommand) break;
        if (this.#responses.length >= this.#settings.maxPendingBytes) await this.#writer.flush();
      }
      if (this.#settings.lineTooLong === "close" && this.#splitter.overflowing) {
        return await this.#refuseTooLong();
      }
      await this.#writer.flush();
    }
    return "server shutdown";
  }

  // Splits a read into the batch, answering pings at once where it may. A long read is decoded
  // whole (one decode beats one per line) where its lines are wanted as text or its text is the
  // faster search: when it is all ASCII, line ends are found in the text and each line's text is
  // a slice of it. A short read (one `ping`) and the rest of an over-long line are searched as bytes.
  #split(chunk: Uint8Array): string | undefined {
    this.#batch.clear();
    this.#chunk = chunk;
    this.#chunkBuffer = undefined;
    // Stryker disable ConditionalExpression,LogicalOperator,EqualityOperator,BooleanLiteral: text or bytes, the same lines are found
    const ascii = !this.#decodesReads || this.#splitter.overflowing ||
        chunk.length < DECODE_WHOLE_READ_BYTES
      ? undefined
      : asciiText(chunk);
    // Stryker restore ConditionalExpression,LogicalOperator,EqualityOperator,BooleanLiteral
    const commands = this.#commands;
    this.#fastRoom = this.#fastLimit;
    this.#splitter.splitRanges(chunk, this.#collect, ascii);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: appending no answers changes nothing
    if (this.#fastReplies > 0) {
      this.#responses.appendFramed(this.#fastReply, this.#fastReplies);
      this.#fastReplies = 0;
    }
    // A whole line is progress; bytes of a line not yet ended are not.
    if (this.#commands !== commands) this.#idle?.progress();
    return ascii;
  }

  // Serves line i of the batch, by the protocol's order: a line over the cap
  // (closing, if so configured), a built-in, the handler. Its text is decoded
  // once, when a log, the observer or the handler needs it. Returns a promise
  // only when it must wait, and then how the session ends, if it does.
  #serveLine(
    i: number,
    chunk: Uint8Array,
    ascii: string | undefined,
  ): Promise<SessionEnd | undefined> | undefined {
    const { sources, starts, ends, tooLong, builtins } = this.#batch;
    const source = sources[i];
    const start = starts[i];
    const end = ends[i];
    const builtin = builtins[i];
    let line: DecodedLine | undefined;
    if (this.#everyLine) {
      line = lineText(source, start, end, chunk, ascii);
      if (this.#settings.verbose) this.#settings.log(`${this.peer} < ${line.text}`);
      this.#observer.command?.(line.text, builtin !== undefined);
    }
    if (tooLong[i] && this.#settings.lineTooLong === "close") return this.#refuseTooLong();
    if (builtin !== undefined) return this.#runBuiltin(builtin);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: decoding more than needed only costs
    if (line === undefined && this.#decodes) line = lineText(source, start, end, chunk, ascii);
    const pending = this.#handle(source, start, end, tooLong[i], line);
    // An async handler: what earlier commands answered goes out while it runs.
    return pending && this.#writer.flush().then(() => pending);
  }

  // The one place a built-in takes effect: it answers, or it ends the session after the
  // answers before it.
  #runBuiltin(builtin: Builtin): Promise<SessionEnd> | undefined {
    if (builtin.end === undefined) {
      this.#appendResponse(builtin.reply!);
      return undefined;
    }
    const end = builtin.end;
    return this.#writer.flush().then(() => end);
  }

  // A transient read where the transport has one: every line of a chunk is handled before the
  // next read, and a handler's context keeps the bytes it is asked for.
  #read(): Promise<Uint8Array | null> {
    return this.#connection.readTransient?.() ?? this.#connection.read();
  }

  // A line that context.send appended. While an async handler runs it goes
  // out now, with the others sent in the same turn; the promise tells the
  // handler when there is room again. It never rejects: a client that is
  // gone ends the session, which aborts the handler's signal.
  #sent(): Promise<void> {
    if (this.#phase !== HANDLING) return DONE;
    this.#sendFlush ??= DONE.then(() => {
      this.#sendFlush = undefined;
      return this.#writer.flush();
    }).catch(() => this.stop("closed"));
    return this.#responses.length >= this.#settings.maxPendingBytes ? this.#sendFlush : DONE;
  }

  async #refuseTooLong(): Promise<SessionEnd> {
    this.#appendResponse(`error - line too long (over ${this.#settings.maxLineBytes} bytes)`);
    await this.#writer.flush();
    return "line too long";
  }

  // Runs the handler for one line. Returns a promise only when the handler is
  // async, so synchronous handlers cost no promise per line.
  #handle(
    source: Uint8Array,
    start: number,
    end: number,
    tooLong: boolean,
    line: DecodedLine | undefined,
  ): Promise<SessionEnd | undefined> | undefined {
    const { handler } = this.#settings;
    // A bytes handler's line is never flagged undecodable: it is not decoded for the handler.
    const reason: InvalidReason | undefined = tooLong
      ? "too_long"
      : handler.decodes && line!.invalid
      ? "decode"
      : undefined;
    const context = new CommandContext(
      source,
      start,
      end,
      reason,
      this.#connection.remoteAddr,
      this.#signal(),
      this.#contextOwner,
    );
    // A bytes handler's line is undecoded: its text is made only for a failure's log.
    const command: Command = handler.decodes ? line!.text : context.raw;
    let result: HandlerResult | PromiseLike<HandlerResult>;
    let thenable: boolean;
    this.#enter(CALLING);
    try {
      result = handler.decodes
        ? handler.handle(command as string, context)
        : handler.handle(command as Uint8Array, context);
      // Reading `then` runs code too (a getter, a Proxy): what it throws is the handler's failure.
      thenable = typeof result !== "string" && isPromiseLike(result);
    } catch (error) {
      this.#enter(SERVING);
      context.end();
      this.#outcome.failed(command, error, handlerFailed);
      return undefined;
    }
    if (thenable) {
      // From here on its sends go out at once, and the session watches for the client to go.
      this.#enter(HANDLING);
      return this.#settle(command, result as PromiseLike<HandlerResult>, context);
    }
    this.#enter(SERVING);
    context.end();
    this.#outcome.answer(command, result as HandlerResult);
    return undefined;
  }

  readonly #contextOwner: ContextOwner = {
    send: (line) => {
      this.#appendResponse(line);
      return this.#sent();
    },
    // A transient read's array is read into again: the first line of it whose bytes a handler
    // keeps copies the whole read, once, and the read's other lines share that copy. The read's
    // buffer is looked up once, not per line: a view costs less made from it than by subarray()
    // (which looks up the array's species, and would make a Buffer of a Buffer).
    view: (source, start, end) => {
      // A line that spanned reads has an array of its own, which nothing writes to again.
      if (source !== this.#chunk) return source.subarray(start, end);
      if (this.#chunkBuffer === undefined) {
        const kept = this.#transientReads ? source.slice() : source;
        this.#chunkBuffer = kept.buffer;
        this.#chunkOffset = kept.byteOffset;
      }
      return new Uint8Array(this.#chunkBuffer, this.#chunkOffset + start, end - start);
    },
  };

  // Waits for an async handler, unless the session ends (the client went,
  // or the server stops) or the handler timeout runs out first.
  #settle(
    command: Command,
    result: PromiseLike<HandlerResult>,
    context: CommandContext,
  ): Promise<SessionEnd | undefined> {
    const { handlerTimeout, clock } = this.#settings;
    const signal = this.#signal();
    this.#watchConnection();
    return new Promise((resolve) => {
      let settled = false;
      let timer: Timer | undefined;
      const finish = (end: SessionEnd | undefined) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        context.end();
        this.#enter(SERVING);
        this.#idle?.progress();
        resolve(end);
      };
      const onAbort = () => finish("stopped");
      if (signal.aborted) return finish("stopped");
      signal.addEventListener("abort", onAbort);
      if (handlerTimeout !== undefined) {
        timer = clock.setTimeout(() => {
          const error = new TimeoutError("handler timed out", handlerTimeout);
          this.#outcome.failed(
            command,
            error,
            (text) =>
              `handler did not settle within ${handlerTimeout} ms on ${JSON.stringify(text)}`,
          );
          // What it sent so far, and what onError answers, still go out, then the connection
          // closes; a client that does not take them within closeTimeout is cut off.
          const cutOff = clock.setTimeout(
            () => this.stop("handler timeout"),
            this.#settings.closeTimeout,
          );
          this.#writer.flush().catch(() => {}).then(() => {
            clock.clearTimeout(cutOff);
            finish("handler timeout");
          });
        }, handlerTimeout);
      }
      Promise.resolve(result).then(
        (value) => {
          if (settled) return;
          this.#outcome.answer(command, value);
          finish(undefined);
        },
        (error) => {
          if (settled) return;
          this.#outcome.failed(command, error, handlerFailed);
          finish(undefined);
        },
      );
    });
  }

  // Watches the connection while an async handler runs: a client that resets
  // or vanishes meanwhile ends the session at once, which aborts the
  // handler's signal and frees the slot. A client that only ends its side
  // may still read the answers, so that does not count.
  #watchConnection(): void {
    const gone = this.#connection.watch();
    if (this.#watching) return;
    this.#watching = true;
    gone.then(() => this.stop("closed"));
  }
}
