/**
 * The recording proxy: between one client at a time and the instrument, it
 * forwards bytes both ways unchanged and keeps a definition file of what it
 * saw, written whole to a temporary file and renamed after every change, so
 * that the file is complete at any time.
 *
 * @module
 */

import { rename, writeFile } from "node:fs/promises";
import { runtimeTransport } from "../runtime.ts";
import { formatAddress } from "../transport.ts";
import type { Address, Connection, Endpoint, Listener, Transport } from "../transport.ts";
import type { Logger } from "../server.ts";
import { Recording } from "./recording.ts";

/** The options of {@linkcode record}. */
export interface RecordOptions {
  /** The instrument's address. */
  to: Endpoint;
  /** Where the proxy listens: TCP (`hostname`, `port`; port 0 for any) or a Unix socket `path`. */
  listen: Endpoint;
  /** The definition file to write. */
  out: string;
  /**
   * Where the proxy says what it does (`listening on …`, clients, errors).
   *
   * @default {console}
   */
  logger?: Logger | null;
  /** The socket layer (for tests). */
  transport?: Transport;
}

/** A running recording proxy. */
export interface Recorder extends AsyncDisposable {
  /** Where the proxy listens. */
  readonly addr: Address;
  /** The recording so far. */
  readonly recording: Recording;
  /** Resolves once the file holds everything seen so far. */
  flushed(): Promise<void>;
  /** Stops listening, ends the client's session and writes the file a last time. */
  close(): Promise<void>;
  /** Resolves once the proxy has stopped. */
  readonly finished: Promise<void>;
}

/** Writes the file whole after each change, one write at a time, always the latest text. */
class FileWriter {
  readonly #path: string;
  readonly #render: () => string;
  readonly #onError: (error: unknown) => void;
  #dirty = false;
  #running: Promise<void> | undefined;

  constructor(path: string, render: () => string, onError: (error: unknown) => void) {
    this.#path = path;
    this.#render = render;
    this.#onError = onError;
  }

  async writeNow(): Promise<void> {
    const temporary = `${this.#path}.tmp`;
    await writeFile(temporary, this.#render());
    await rename(temporary, this.#path);
  }

  changed(): void {
    this.#dirty = true;
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      try {
        await this.writeNow();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#running = undefined;
  }

  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }
}

/**
 * Starts a recording proxy. It writes the (empty) file first, then listens;
 * each client it accepts in turn gets a connection of its own to the
 * instrument, closed when the client leaves.
 *
 * @param options Where to listen, the instrument, the file.
 * @returns The proxy, listening.
 * @throws {Error} When the file cannot be written (the runtime's error).
 * @throws {ListenError} When it cannot listen.
 *
 * @example Record, then serve the recording
 * ```ts
 * import { record } from "./recorder.ts";
 * import { serve } from "../server.ts";
 * import { connect } from "../client.ts";
 * import { readFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * await using instrument = await serve({ port: 0, logger: null, handler: (c) => c === "*IDN?" ? "ACME,1" : undefined });
 * const out = `${tmpdir()}/recorded-${Date.now()}.yaml`;
 * await using recorder = await record({
 *   to: { hostname: "127.0.0.1", port: instrument.port! },
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   out,
 *   logger: null,
 * });
 * const port = (recorder.addr as { port: number }).port;
 * await using client = await connect({ port });
 * assert.equal(await client.request("*IDN?"), "ACME,1");
 * await recorder.flushed();
 * assert.match(readFileSync(out, "utf8"), /- q: "\*IDN\?"\n\s+r: "ACME,1"/);
 * ```
 */
export async function record(options: RecordOptions): Promise<Recorder> {
  const logger = options.logger === undefined ? console : options.logger;
  const transport = options.transport ?? await runtimeTransport();
  const instrument = formatAddress(options.to);
  const recording = new Recording(instrument);
  const writer = new FileWriter(options.out, () => recording.toYaml(), (error) => {
    logger?.error?.(`cannot write ${options.out}`, error);
  });
  await writer.writeNow();
  const listener = await transport.listen(options.listen, {
    maxWaiting: 1024,
    handshakeTimeout: 10_000,
    closeTimeout: 1000,
    onRefused() {},
  });
  logger?.info(
    `listening on ${formatAddress(listener.addr)}, recording ${instrument} to ${options.out}`,
  );
  let session: Session | undefined;
  const finished = (async () => {
    for (let client = await accept(listener); client !== null; client = await accept(listener)) {
      session = new Session(client, transport, options.to, recording, () => writer.changed());
      logger?.info(`client ${formatAddress(client.remoteAddr)} connected`);
      const failure = await session.run();
      if (failure !== undefined) logger?.error?.(`cannot reach ${instrument}`, failure);
      session = undefined;
      recording.endSession();
      writer.changed();
    }
    await writer.idle();
  })();
  const close = async () => {
    const closing = listener.close();
    session?.close();
    await closing;
    await finished;
  };
  return {
    addr: listener.addr,
    recording,
    flushed: () => writer.idle(),
    close,
    finished,
    [Symbol.asyncDispose]: close,
  };
}

async function accept(listener: Listener): Promise<Connection | null> {
  for (;;) {
    try {
      return await listener.accept();
    } catch {
      // Not one connection's failure (such as no descriptors left): the listener backs off.
    }
  }
}

/** How long the instrument may take to close once the client has ended its side. */
const CLOSE_GRACE_MS = 1000;

/** One client's session: its connection to the instrument, and both directions pumped. */
class Session {
  readonly #client: Connection;
  readonly #transport: Transport;
  readonly #to: Endpoint;
  readonly #recording: Recording;
  readonly #changed: () => void;
  #instrument: Connection | undefined;
  #closed = false;
  #grace: ReturnType<typeof setTimeout> | undefined;

  constructor(
    client: Connection,
    transport: Transport,
    to: Endpoint,
    recording: Recording,
    changed: () => void,
  ) {
    this.#client = client;
    this.#transport = transport;
    this.#to = to;
    this.#recording = recording;
    this.#changed = changed;
  }

  /** Pumps until both sides are done; resolves with the error when the instrument cannot be reached. */
  async run(): Promise<unknown> {
    try {
      this.#instrument = await this.#transport.connect(this.#to);
    } catch (error) {
      this.#client.close();
      return error;
    }
    if (this.#closed) this.#instrument.close();
    const instrument = this.#instrument;
    await Promise.all([
      this.#pump(this.#client, instrument, (bytes) => this.#recording.fromClient(bytes)),
      this.#pump(instrument, this.#client, (bytes) => this.#recording.fromInstrument(bytes)),
    ]);
    this.close();
    return undefined;
  }

  // Records each chunk before it is forwarded, so that the file has an answer once the client has it.
  async #pump(from: Connection, to: Connection, seen: (bytes: Uint8Array) => void): Promise<void> {
    for (let bytes = await from.read(); bytes !== null; bytes = await from.read()) {
      seen(bytes);
      this.#changed();
      try {
        await to.write(bytes);
      } catch {
        break; // the other side is gone
      }
    }
    // This side has ended: pass the end on. The instrument's end closes both; after the
    // client's, the instrument has a while to send its last answers and close.
    await to.closeWrite();
    if (from === this.#instrument) this.close();
    else this.#grace = setTimeout(() => this.close(), CLOSE_GRACE_MS);
  }

  close(): void {
    clearTimeout(this.#grace);
    this.#closed = true;
    this.#client.close();
    this.#instrument?.close();
  }
}
