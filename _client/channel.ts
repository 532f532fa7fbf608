/**
 * A client's connection: its writes and reads, each taking turns in the
 * order the calls were made; each command paired with its answer; and the
 * polite close. {@linkcode OnelineClient} checks its callers' options and
 * hands them here.
 *
 * @module
 */

import { toLine } from "../_framing/text.ts";
import { AnswerReader } from "./answer_reader.ts";
import type { RawLine } from "./answer_reader.ts";
import {
  BlockFormatError,
  ConnectionClosedError,
  InvalidResponseError,
  ProtocolError,
  TimeoutError,
} from "../errors.ts";
import { CallLimit, orAbort } from "../_util/call_limit.ts";
import { sleep } from "../_util/clock.ts";
import { TurnQueue } from "./turns.ts";
import type { Turn } from "./turns.ts";
import type { ClientSettings, RecvOptions } from "./options.ts";
import type { Connection } from "../transport.ts";

const PONG = new TextEncoder().encode("pong");
const encoder = new TextEncoder();

// Where a call is, for the message of its timeout.
type Stage = "turn" | "write" | "read" | "quiet";

// One command and how its answer is read.
interface Exchange<T> {
  // The command, with its fence when it has one, as one write; undefined for clear().
  bytes: Uint8Array | undefined;
  // Whether the answer ends at a fence of its own (oneline mode), so that it can be read to
  // its end whether or not its caller is still there: such exchanges overlap on the wire.
  fenced: boolean;
  // Reads the answer; an unfenced one stops when `signal` aborts.
  read(signal?: AbortSignal): Promise<T>;
}

// clear(): no command, only the resynchronisation.
const CLEAR: Exchange<void> = { bytes: undefined, fenced: false, read: async () => {} };

/**
 * One client's connection, for {@linkcode OnelineClient}, which checks the
 * options of every call before it comes here.
 *
 * @example Usage
 * ```ts
 * import { Channel } from "./channel.ts";
 * import { clientSettings } from "./options.ts";
 * import { serve } from "../server.ts";
 * import { runtimeTransport } from "../runtime.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => ["a", "b"] });
 * const transport = await runtimeTransport();
 * const connection = await transport.connect({ hostname: "127.0.0.1", port: server.port! });
 * const channel = new Channel(connection, clientSettings({}));
 * const lines = await channel.query("list", undefined, {});
 * assert.deepEqual(lines.map((line) => new TextDecoder().decode(line.raw)), ["a", "b"]);
 * await channel.leave();
 * ```
 */
export class Channel {
  readonly #connection: Connection;
  readonly #settings: ClientSettings;
  /** The default limit of every call, in ms, checked by its setter on the client. */
  timeout: number;
  readonly #reader: AnswerReader;
  // Writes, and reads, each take their turn in the order the calls were made.
  readonly #writes = new TurnQueue();
  readonly #reads = new TurnQueue();
  // Whether what comes next is the next call's answer: "out of step" from an unfenced
  // exchange's write until its answer is read whole, and so after one that gave up, until a
  // call resynchronises (a ping and its pong; in device mode, a quiet moment).
  #sync: "in step" | "out of step" = "in step";
  // Pongs owed: pings written whose pong has not been read. A resynchronisation reads through
  // them all, its own last, so that the late pong of a call that gave up is not taken for it.
  #pongsOwed = 0;
  // Why the connection is closed; undefined while it is open.
  #closeReason: string | undefined;
  // Aborted when the client closes: every call still waiting ends.
  readonly #closing = new AbortController();
  // The read waiting for more bytes: only the one whose turn it is reads.
  #arrival: { resolve(): void; reject(error: unknown): void } | undefined;
  #resumeReading: (() => void) | undefined;
  // The write of `disconnect` or `shutdown`, once the client has said it.
  #goodbye: Promise<void> | undefined;
  #leaving: Promise<void> | undefined;
  // The read loop, which ends when the server closes (or the client does).
  readonly #reading: Promise<void>;

  /**
   * Starts reading the connection.
   *
   * @param connection The open connection.
   * @param settings The client's settings.
   */
  constructor(connection: Connection, settings: ClientSettings) {
    this.#connection = connection;
    this.#settings = settings;
    this.timeout = settings.timeout;
    this.#reader = new AnswerReader(settings.readTerminator, settings.maxLineBytes);
    this.#reading = this.#readLoop();
  }

  /**
   * Whether the connection is still open.
   *
   * @returns `false` once either side has closed it.
   */
  get connected(): boolean {
    return this.#closeReason === undefined;
  }

  /**
   * Sends one command, with the write terminator, at its write turn.
   *
   * @param command The command, checked.
   * @param options Its limit, checked.
   */
  async send(command: string, options: RecvOptions): Promise<void> {
    const limit = this.#limit(options);
    try {
      await this.#write(this.#encode(command), limit, this.#writes.take());
    } finally {
      limit.dispose();
    }
  }

  /**
   * Receives the next answer line, at its read turn.
   *
   * @param options Its limit, checked.
   * @returns The line.
   */
  recvLine(options: RecvOptions): Promise<RawLine> {
    return this.#readAlone(options, (signal) => this.#line(signal));
  }

  /**
   * Receives the next answer as a definite-length block, at its read turn.
   *
   * @param options Its limit, checked.
   * @returns The block's data.
   */
  readBlock(options: RecvOptions): Promise<Uint8Array> {
    return this.#readAlone(options, (signal) => this.#block(signal));
  }

  /**
   * Sends a command and receives its answer's lines: up to the fence, or
   * `count` lines (in device mode, one by default).
   *
   * @param command The command, checked.
   * @param count The number of lines, or undefined for a fenced answer.
   * @param options Its limit, checked.
   * @returns The answer's lines.
   */
  query(command: string, count: number | undefined, options: RecvOptions): Promise<RawLine[]> {
    return this.#exchange(this.#linesExchange(command, count), options);
  }

  /**
   * Sends a command and receives its answer as a definite-length block.
   *
   * @param command The command, checked.
   * @param options Its limit, checked.
   * @returns The block's data.
   */
  queryBlock(command: string, options: RecvOptions): Promise<Uint8Array> {
    if (this.#settings.device) {
      return this.#exchange({
        bytes: this.#encode(command),
        fenced: false,
        read: (signal) => this.#block(signal),
      }, options);
    }
    return this.#exchange({
      bytes: this.#encode(command, "ping"),
      fenced: true,
      read: (signal) => this.#fencedBlock(signal),
    }, options);
  }

  /**
   * Resynchronises: a ping and its pong, or in device mode a quiet moment.
   *
   * @param options Its limit, checked.
   */
  async clear(options: RecvOptions): Promise<void> {
    await this.#exchange(CLEAR, options);
  }

  #encode(...lines: string[]): Uint8Array {
    const terminator = this.#settings.writeTerminator;
    return encoder.encode(lines.join(terminator) + terminator);
  }

  // The limit of one call, from now: its timeout, its signal, and the client closing.
  #limit(options: RecvOptions): CallLimit<Stage> {
    const timeout = options.timeout ?? this.timeout;
    const quiet = this.#settings.quietTime;
    return new CallLimit<Stage>(timeout, [options.signal, this.#closing.signal], (stage) => {
      const message = stage === "turn"
        ? `no response within ${timeout} ms: the calls before it held the connection all that time`
        : stage === "write"
        ? `not sent within ${timeout} ms: the peer does not read what the client writes`
        : stage === "quiet"
        ? `the device did not stay quiet for ${quiet} ms (quietTime) within ${timeout} ms: it ` +
          "still sends what an earlier call left"
        : `no response within ${timeout} ms`;
      return new TimeoutError(message, timeout);
    }, this.#settings.clock);
  }

  // Writes at its turn, which ends once the bytes are all out (or the write failed), whether
  // or not the caller gives up at its limit meanwhile.
  async #write(bytes: Uint8Array, limit: CallLimit<Stage>, turn: Turn): Promise<void> {
    try {
      await limit.wait(turn.ready, "turn");
      limit.signal.throwIfAborted();
    } catch (error) {
      turn.release();
      throw error;
    }
    const written = this.#transportWrite(bytes);
    written.then(turn.release, turn.release);
    await limit.wait(written, "write");
  }

  // Writes bytes that end with a ping: its pong is owed from now, unless the write fails.
  #writeFenced(bytes: Uint8Array): Promise<void> {
    this.#pongsOwed++;
    const written = this.#transportWrite(bytes);
    written.catch(() => this.#pongPaid());
    return written;
  }

  // A pong has come, or will not: it is owed no more (one no ping asked for owes nothing).
  #pongPaid(): void {
    this.#pongsOwed = Math.max(0, this.#pongsOwed - 1);
  }

  #transportWrite(bytes: Uint8Array): Promise<void> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(this.#closeReason));
    }
    return this.#connection.write(bytes).catch((error) => {
      throw new ConnectionClosedError("send failed: the connection is gone", { cause: error });
    });
  }

  // A raw read, at its read turn and within its limit. Lines and blocks are taken whole, so a
  // read that gives up takes nothing.
  async #readAlone<T>(options: RecvOptions, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const limit = this.#limit(options);
    const turn = this.#reads.take();
    try {
      await limit.wait(turn.ready, "read");
      return await read(limit.signal);
    } finally {
      turn.release();
      limit.dispose();
    }
  }

  // The exchange of one command line and its answer lines.
  #linesExchange(command: string, count: number | undefined): Exchange<RawLine[]> {
    if (this.#settings.device || count !== undefined) {
      return {
        bytes: this.#encode(command),
        fenced: false,
        read: (signal) => this.#lines(count ?? 1, signal),
      };
    }
    // A ping is its own fence.
    if (command === "ping") {
      return {
        bytes: this.#encode(command),
        fenced: true,
        read: async (signal) => [...await this.#throughPong(signal), { raw: PONG, tooLong: false }],
      };
    }
    return {
      bytes: this.#encode(command, "ping"),
      fenced: true,
      read: (signal) => this.#throughPong(signal),
    };
  }

  // Runs one exchange: its limit counts from now, over its wait for its turn, its write and
  // its reads.
  async #exchange<T>(exchange: Exchange<T>, options: RecvOptions): Promise<T> {
    const limit = this.#limit(options);
    const writeTurn = this.#writes.take();
    const readTurn = this.#reads.take();
    try {
      try {
        await limit.wait(writeTurn.ready, "turn");
        limit.signal.throwIfAborted();
      } catch (error) {
        writeTurn.release();
        readTurn.release();
        throw error;
      }
      return exchange.fenced && this.#sync === "in step"
        ? await this.#overlapping(exchange, limit, writeTurn, readTurn)
        : await this.#alone(exchange, limit, writeTurn, readTurn);
    } finally {
      limit.dispose();
    }
  }

  // A fenced exchange is written as soon as the writes before it are, and its answer, read
  // once those before it are, is read to its fence even if its caller gives up.
  async #overlapping<T>(
    exchange: Exchange<T>,
    limit: CallLimit<Stage>,
    writeTurn: Turn,
    readTurn: Turn,
  ): Promise<T> {
    const written = this.#writeFenced(exchange.bytes!);
    written.then(writeTurn.release, writeTurn.release);
    const answer = readTurn.ready.then(() => written).then(() => exchange.read());
    answer.then(readTurn.release, readTurn.release);
    await limit.wait(written, "write");
    return await limit.wait(answer, "read");
  }

  // An unfenced exchange (and any, while the client is out of step) has the connection to
  // itself: it starts once every answer before it is read, resynchronises first if it must, and
  // nothing is written after it until its answer is read or it gave up.
  async #alone<T>(
    exchange: Exchange<T>,
    limit: CallLimit<Stage>,
    writeTurn: Turn,
    readTurn: Turn,
  ): Promise<T> {
    let written: Promise<void> = Promise.resolve();
    try {
      await limit.wait(readTurn.ready, "turn");
      if (this.#sync === "out of step" || exchange.bytes === undefined) {
        this.#sync = "out of step";
        await this.#resync(limit);
        this.#sync = "in step";
      }
      if (exchange.bytes !== undefined) {
        limit.signal.throwIfAborted();
        this.#sync = "out of step";
        written = exchange.fenced
          ? this.#writeFenced(exchange.bytes)
          : this.#transportWrite(exchange.bytes);
        await limit.wait(written, "write");
      }
      limit.stage = "read";
      const answer = await exchange.read(limit.signal);
      this.#sync = "in step";
      return answer;
    } finally {
      readTurn.release();
      // Not before its bytes are all out: the next write must not run into them.
      written.then(writeTurn.release, writeTurn.release);
    }
  }

  // Brings the client back in step: a ping and its pong, or in device mode a quiet moment.
  async #resync(limit: CallLimit<Stage>): Promise<void> {
    if (this.#settings.device) {
      limit.stage = "quiet";
      return await this.#drain(limit.signal);
    }
    await limit.wait(this.#writeFenced(this.#encode("ping")), "write");
    limit.stage = "read";
    while (this.#pongsOwed > 0) await this.#throughPong(limit.signal);
  }

  // Drops every byte received until none has come for quietTime.
  async #drain(signal: AbortSignal): Promise<void> {
    for (;;) {
      this.#reader.discard();
      const quiet = new AbortController();
      const { clock, quietTime } = this.#settings;
      const timer = clock.setTimeout(() => quiet.abort(), quietTime);
      try {
        await this.#more(AbortSignal.any([signal, quiet.signal]));
      } catch (error) {
        if (error === quiet.signal.reason) return;
        throw error;
      } finally {
        clock.clearTimeout(timer);
      }
    }
  }

  /**
   * Says `disconnect` or `shutdown`, after the calls before it, and waits
   * for the server to close the connection; then closes the client.
   *
   * @param command The command.
   * @param options Its limit, checked.
   */
  async sayGoodbye(command: string, options: RecvOptions): Promise<void> {
    // Written after the calls before it, also when the client closes meanwhile: it then does
    // not say disconnect again.
    const writeTurn = this.#writes.take();
    const bytes = this.#encode(command);
    const goodbye = writeTurn.ready.then(() => this.#connection.write(bytes));
    goodbye.then(writeTurn.release, writeTurn.release);
    this.#goodbye = goodbye;
    const limit = this.#limit(options);
    const turn = this.#reads.take();
    try {
      await limit.wait(goodbye, "write").catch((error) => {
        if (!limit.signal.aborted) throw new ConnectionClosedError(String(error), { cause: error });
        throw error;
      });
      await limit.wait(turn.ready, "read");
      // Whatever the server still says before it closes is dropped.
      for (;;) await this.#line(limit.signal);
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      turn.release();
      limit.dispose();
      this.leave();
    }
  }

  // Takes a line or a block once it has all come; the connection's end is a ConnectionClosedError.
  async #take<T>(take: () => T | undefined, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const taken = take();
      if (taken !== undefined) {
        // The read loop, woken, reads on only if less than maxQueuedBytes is left queued.
        this.#resumeReading?.();
        return taken;
      }
      await this.#more(signal);
    }
  }

  #line(signal?: AbortSignal): Promise<RawLine> {
    return this.#take(() => this.#reader.takeLine(), signal);
  }

  #block(signal?: AbortSignal): Promise<Uint8Array> {
    return this.#take(() => this.#reader.takeBlock(this.#settings.maxBlockBytes), signal);
  }

  async #lines(count: number, signal?: AbortSignal): Promise<RawLine[]> {
    const lines: RawLine[] = [];
    while (lines.length < count) lines.push(await this.#line(signal));
    return lines;
  }

  // Every line up to the next pong, which is dropped and no longer owed.
  async #throughPong(signal?: AbortSignal): Promise<RawLine[]> {
    const lines: RawLine[] = [];
    for (let line = await this.#line(signal); !isPong(line); line = await this.#line(signal)) {
      lines.push(line);
    }
    this.#pongPaid();
    return lines;
  }

  // A block and its fence: a block that is not one is an error once the fence has come.
  async #fencedBlock(signal?: AbortSignal): Promise<Uint8Array> {
    const block = await this.#block(signal).catch((error) => {
      if (error instanceof BlockFormatError) return error;
      throw error;
    });
    const after = await this.#throughPong(signal);
    if (block instanceof BlockFormatError) throw block;
    if (after.length > 0) {
      const texts = after.map((line) => toLine(line.raw, line.tooLong).text);
      throw new ProtocolError(`the block was followed by more lines: ${JSON.stringify(texts)}`);
    }
    return block;
  }

  // Waits until more bytes have come; rejects once none will, or when `signal` aborts.
  #more(signal?: AbortSignal): Promise<void> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(this.#closeReason));
    }
    let arrival!: { resolve(): void; reject(error: unknown): void };
    const arrived = new Promise<void>((resolve, reject) => arrival = { resolve, reject });
    this.#arrival = arrival;
    this.#resumeReading?.();
    const waited = signal === undefined ? arrived : orAbort(arrived, signal);
    // Only the read whose turn it is waits, so no other wait has replaced this one meanwhile.
    return waited.finally(() => this.#arrival = undefined);
  }

  /**
   * Ends the client now and its connection politely, within closeTimeout.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  leave(): Promise<void> {
    if (this.#leaving !== undefined) return this.#leaving;
    const connection = this.#connection;
    if (this.#settings.disconnectOnClose && this.#goodbye === undefined && this.connected) {
      // After what is on its way already; the transport keeps writes in order.
      this.#goodbye = connection.write(this.#encode("disconnect"));
    }
    this.#end("the connection was closed by the client", true);
    const goodbye = this.#goodbye;
    const politely = (async () => {
      await goodbye?.catch(() => {});
      await connection.closeWrite();
      await this.#reading;
    })();
    this.#leaving = (async () => {
      const done = new AbortController();
      const late = sleep(this.#settings.clock, this.#settings.closeTimeout, done.signal);
      await Promise.race([politely, late]);
      done.abort();
      connection.close();
    })();
    return this.#leaving;
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      // A caller that does not read stops the client reading: the server then waits for it.
      while (
        this.#reader.buffered >= this.#settings.maxQueuedBytes && this.#arrival === undefined &&
        this.connected
      ) {
        await new Promise<void>((resolve) => this.#resumeReading = resolve);
        this.#resumeReading = undefined;
      }
      const chunk = await this.#connection.read();
      if (chunk === null) break;
      // After the client closed, what still comes is nobody's: it is read and dropped.
      if (!this.connected) continue;
      this.#reader.push(chunk);
      this.#arrival?.resolve();
    }
    // Everything the server sent is read: nothing more can come, so the socket goes now.
    this.#connection.close();
    this.#end("the server closed the connection", false);
  }

  #end(reason: string, byClient: boolean): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#resumeReading?.();
    this.#arrival?.reject(new ConnectionClosedError(reason));
    if (byClient) {
      // Unread answers are nobody's now, and every call still waiting ends.
      this.#reader.discard();
      this.#closing.abort(new ConnectionClosedError(reason));
    }
  }
}

function isPong(line: RawLine): boolean {
  return !line.tooLong && line.raw.length === PONG.length &&
    line.raw.every((b, i) => b === PONG[i]);
}

/**
 * The text of an answer line, which must be exact.
 *
 * @param line The line.
 * @returns Its text.
 * @throws {InvalidResponseError} When it is not UTF-8 or is over the cap.
 *
 * @example Usage
 * ```ts
 * import { textOf } from "./channel.ts";
 * import { InvalidResponseError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(textOf({ raw: new TextEncoder().encode("ack"), tooLong: false }), "ack");
 * assert.throws(() => textOf({ raw: new Uint8Array([0xff]), tooLong: false }), InvalidResponseError);
 * ```
 */
export function textOf(line: RawLine): string {
  const decoded = toLine(line.raw, line.tooLong);
  if (decoded.reason !== undefined) throw new InvalidResponseError(line.raw, decoded.reason);
  return decoded.text;
}
