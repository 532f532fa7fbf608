// Helpers shared by the test files: a raw loopback client over node:net (which
// Deno and Bun both provide, so one suite runs on both), a quiet server, a
// logger that records what it is told, and bounded subprocesses.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import process from "node:process";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { serve } from "./server.ts";
import type { Logger, OnelineServer, ServeOptions } from "./server.ts";
import { connect } from "./client.ts";
import type { ConnectOptions, OnelineClient } from "./client.ts";
import { scriptArgs } from "./sample/script.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { Address, ConnectEndpoint, Connection, Transport } from "./transport.ts";
import type { Clock, Timer } from "./_util/clock.ts";

// How this runtime runs a script (`run -A …` on Deno, `run …` on Bun, as is on Node).
export { scriptArgs };

/** The path of a file in `testdata/`. */
export function testdataPath(name: string): string {
  return fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
}

/** A file in `testdata/`, as text. */
export function testdataText(name: string): string {
  return fs.readFileSync(testdataPath(name), "utf8");
}

/**
 * The test TLS material in `testdata/` (made by `make_certs.sh`): the server's certificate (for
 * `localhost` and 127.0.0.1) and key, and the CA that signed it, as PEM text.
 */
export function testTls(): { cert: string; key: string; ca: string } {
  return {
    cert: testdataText("server.pem"),
    key: testdataText("server.key"),
    ca: testdataText("ca.pem"),
  };
}

/** A logger that keeps every message, for assertions. */
export interface CapturedLogger extends Logger {
  infos: string[];
  errors: { message: string; error: unknown }[];
}

export function captureLogger(): CapturedLogger {
  const logger: CapturedLogger = {
    infos: [],
    errors: [],
    info(message) {
      logger.infos.push(message);
    },
    error(message, error) {
      logger.errors.push({ message, error });
    },
  };
  return logger;
}

/** Starts a server on a free loopback port that logs into a captured logger. */
export async function startServer(
  options: Partial<ServeOptions> = {},
): Promise<OnelineServer & { logger: CapturedLogger }> {
  const logger = captureLogger();
  const server = await serve({
    // A free TCP port, unless the test listens on a Unix socket path.
    ...(options.path === undefined ? { port: 0 } : {}),
    logger,
    ...(options.bytesHandler === undefined ? { handler: (command) => `echo:${command}` } : {}),
    ...options,
  });
  return Object.assign(server, { logger });
}

/** A server started by {@linkcode startServer}. */
export type TestServer = Awaited<ReturnType<typeof startServer>>;

/** Runs `body` against a fresh server, and always closes it. */
export async function withServer(
  options: Partial<ServeOptions>,
  body: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Runs `body` with a fresh server and a {@linkcode connect}ed client; closes both. */
export async function withClient(
  serverOptions: Partial<ServeOptions>,
  body: (client: OnelineClient, server: TestServer) => Promise<void>,
  clientOptions: ConnectOptions = {},
): Promise<void> {
  await withServer(serverOptions, async (server) => {
    const client = await connect({ port: server.port, ...clientOptions });
    try {
      await body(client, server);
    } finally {
      client.close();
    }
  });
}

/** Runs `body` with a {@linkcode RawClient} connected to `server`; destroys it after. */
export async function withRawClient(
  server: TestServer,
  body: (client: RawClient) => Promise<void>,
): Promise<void> {
  const client = await RawClient.connect(server.port!);
  try {
    await body(client);
  } finally {
    client.destroy();
  }
}

/** Resolves after `ms` milliseconds (for bounds in tests, never for sync). */
export function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/**
 * Whether `promise` has settled by now (its reactions ran before this one's),
 * to check that something has not happened after an event that would follow it.
 */
export async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const mark = () => settled = true;
  promise.then(mark, mark);
  // A settled promise's reaction was queued just now, so it runs before this await resumes.
  await undefined;
  return settled;
}

/** A promise with its resolver and rejecter, for handlers that wait for the test. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  return { promise, resolve, reject };
}

/** Resolves as `promise` does, failing past `ms` (a bound, not a measurement). */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `condition` until it holds, for state no event announces, failing
 * after `ms` with `what`.
 */
export async function waitUntil(
  condition: () => boolean,
  what = "the condition",
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await timeout(5, undefined);
  }
}

/**
 * Polls `read` until its value has not changed for `quietMs` (such as a count
 * of lines a handler sent before backpressure held it), and returns it.
 */
export async function untilSteady(
  read: () => number,
  quietMs = 300,
  limitMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + limitMs;
  let last = read();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`the value kept changing for ${limitMs} ms`);
    await timeout(20, undefined);
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

/** Where a {@linkcode RawClient} connects: a TCP port, TLS on a port (trusting `ca`), or a path. */
/** Asserts that a fresh client is served (it gets `pong` within `ms`), then lets it go. */
export async function assertServed(server: TestServer, ms = 5000): Promise<void> {
  const client = await RawClient.connect(server.port!);
  try {
    await client.write("ping\n");
    assert.equal(await client.readLine(ms), "pong");
  } finally {
    client.destroy();
  }
}

export type RawTarget = { port: number; hostname?: string; ca?: string } | { path: string };

/**
 * A plain client (TCP, TLS or a Unix socket) that sends and receives bytes
 * exactly as given, to test the server from the outside as a broken or
 * hostile peer would: it can end its side (FIN) or reset (RST) at any time.
 */
export class RawClient {
  readonly socket: net.Socket;
  // The TCP socket under a TLS one, which a reset goes to; the socket itself otherwise.
  readonly #transport: net.Socket;
  // Received bytes not yet read, as chunks, with their count of LFs.
  #chunks: Uint8Array[] = [];
  #lineFeeds = 0;
  #closed = false;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket, transport: net.Socket = socket) {
    this.socket = socket;
    this.#transport = transport;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.#lineFeeds++;
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on("error", (error) => this.#failure ??= error);
  }

  // With `allowHalfOpen`, the server's end of stream does not end our side: we stay open until
  // told to close, as a client that never closes does.
  static connect(port: number, hostname = "127.0.0.1", allowHalfOpen = false): Promise<RawClient> {
    return RawClient.open({ port, hostname }, allowHalfOpen);
  }

  /** Connects to `target`; with `allowHalfOpen`, the server's end of stream leaves ours open. */
  static open(target: RawTarget, allowHalfOpen = false): Promise<RawClient> {
    const tcp = "path" in target
      ? net.connect({ path: target.path, allowHalfOpen })
      : net.connect({ port: target.port, host: target.hostname ?? "127.0.0.1", allowHalfOpen });
    const secure = "ca" in target && target.ca !== undefined
      // allowHalfOpen is a TLSSocket option that tls.connect passes on, but its types omit.
      ? tls.connect(
        {
          socket: tcp,
          ca: [target.ca],
          servername: "localhost",
          allowHalfOpen,
        } as tls.ConnectionOptions,
      )
      : undefined;
    const socket = secure ?? tcp;
    return new Promise((resolve, reject) => {
      socket.once(secure ? "secureConnect" : "connect", () => {
        if ("port" in target) tcp.setNoDelay(true);
        socket.off("error", reject);
        resolve(new RawClient(socket, tcp));
      });
      socket.once("error", reject);
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  // All unread bytes as one array.
  #joined(): Uint8Array {
    if (this.#chunks.length > 1) {
      const joined = new Uint8Array(this.#chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const chunk of this.#chunks) {
        joined.set(chunk, offset);
        offset += chunk.length;
      }
      this.#chunks = [joined];
    }
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  /** Whether the server has closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  /** Waits until `done` holds, the socket closes, or `ms` pass. */
  async #waitFor(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const text = this.text();
        const shown = text.length > 200 ? `${text.slice(0, 200)}... (${text.length} chars)` : text;
        throw new Error(`timed out after ${ms} ms; got ${JSON.stringify(shown)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Reads `count` lines (without LF), failing after `ms`. */
  async readLines(count: number, ms = 2000): Promise<string[]> {
    await this.#waitFor(() => this.#lineFeeds >= count, ms);
    const bytes = this.#joined();
    const lines: string[] = [];
    let start = 0;
    while (lines.length < count) {
      const lf = bytes.indexOf(0x0a, start);
      if (lf === -1) throw new Error(`connection closed after ${lines.length} of ${count} lines`);
      lines.push(new TextDecoder().decode(bytes.subarray(start, lf)));
      start = lf + 1;
    }
    this.#chunks = [bytes.subarray(start)];
    this.#lineFeeds -= count;
    return lines;
  }

  async readLine(ms = 2000): Promise<string> {
    return (await this.readLines(1, ms))[0];
  }

  /** Waits for the server to close the connection; returns the bytes it sent first. */
  async untilClosed(ms = 2000): Promise<string> {
    await this.#waitFor(() => false, ms);
    return this.text();
  }

  /**
   * Waits for the server's end of stream (or the connection's close).
   *
   * @returns How the connection ended: `"end"` (an orderly end of stream) or
   *   the code of the error that ended it (such as `"ECONNRESET"`).
   */
  async untilEnded(ms = 2000): Promise<string> {
    await this.#waitFor(() => this.#ended, ms);
    if (this.#ended) return "end";
    return (this.#failure as NodeJS.ErrnoException | undefined)?.code ?? "closed";
  }

  /** The bytes received and not yet read, as text. */
  text(): string {
    return new TextDecoder().decode(this.#joined());
  }

  /** Closes our side normally (FIN). */
  end(): void {
    this.socket.end();
  }

  /**
   * Closes our side with a TCP reset (RST); under TLS, the TCP socket's. A
   * Unix socket has no reset: it is closed, which the server sees as a reset
   * only when it leaves bytes unread here.
   */
  reset(): void {
    if (this.#transport.remotePort === undefined) this.#transport.destroy();
    else this.#transport.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// A TCP server that is not a oneline server: it runs `onSocket` for each client.
export async function withFakeServer(
  onSocket: (socket: net.Socket) => void,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const sockets = new Set<net.Socket>();
  const fake = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  try {
    await body((fake.address() as net.AddressInfo).port);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => fake.close(resolve));
  }
}

/** The number of sockets this process has open (Linux), to catch leaks on both runtimes. */
export function openSockets(): number {
  let count = 0;
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) count++;
    } catch {
      // Closed between listing and reading.
    }
  }
  return count;
}

/**
 * Waits until the open sockets are back to `baseline` (closing is
 * asynchronous), failing after `ms` with the count still open.
 */
export async function assertSocketsClosed(baseline: number, ms = 2000): Promise<void> {
  try {
    await waitUntil(() => openSockets() <= baseline, "closing every socket", ms);
  } catch (error) {
    throw new Error(`${openSockets() - baseline} socket(s) left open after the tests`, {
      cause: error,
    });
  }
}

/** How long a test's subprocess may live. */
export const SUBPROCESS_LIMIT_MS = 10_000;

/** How a subprocess ended, with all it printed. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A subprocess with its output so far, killed when it outlives {@linkcode SUBPROCESS_LIMIT_MS}. */
export class Subprocess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<Run>;
  #wake: (() => void) | undefined;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: "pipe" });
    this.child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
      this.#wake?.();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (text: string) => this.stderr += text);
    // Every process is bounded: killed when it outlives the limit.
    const killer = setTimeout(() => this.child.kill("SIGKILL"), SUBPROCESS_LIMIT_MS);
    this.done = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        clearTimeout(killer);
        this.#wake?.();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Waits until stdout matches, failing when the process ends or the limit passes. */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    const deadline = Date.now() + SUBPROCESS_LIMIT_MS;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in ${JSON.stringify(this.stdout + this.stderr)}`);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }
}

/** Runs a TypeScript file in a subprocess of the runtime under test. */
export function spawnScript(script: string, args: string[]): Subprocess {
  return new Subprocess(process.execPath, scriptArgs(script, args));
}

/**
 * The bytes one side of an in-memory connection sends, as the chunks the
 * other side reads one at a time; `null` is the end of the stream.
 */
export class ChunkInbox {
  #chunks: (Uint8Array | null)[] = [];
  #reader: ((chunk: Uint8Array | null) => void) | undefined;
  #ended = false;

  /** Hands a chunk (or the end) to the pending read, else keeps it for the next. */
  push(chunk: Uint8Array | null): void {
    if (chunk === null) this.#ended = true;
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader) reader(chunk);
    else this.#chunks.push(chunk);
  }

  /** The next chunk; `null` once the stream has ended, or when `closed`. */
  read(closed = false): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#chunks.shift()!);
    if (this.#ended || closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#reader = resolve);
  }
}

/** Waits, for a fake peer, until what it records meets a condition: woken by each change. */
export class Progress {
  #wake: (() => void) | undefined;

  /** Something changed: a waiter checks its condition again. */
  notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits until `done` holds; fails after 2 s with `state()` in the message. */
  async until(done: () => boolean, state: () => string): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out; ${state()}`);
      // Cleared once woken: a test may check that no timer is left behind.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, 50);
      });
      clearTimeout(timer);
    }
  }
}

const memoryEncoder = new TextEncoder();
const memoryDecoder = new TextDecoder();

/**
 * One end of an in-memory connection, as the code under test (a session, a client) holds it; the
 * test plays the peer. It records each write and what was done to the connection, in order; the
 * test sends bytes, ends its side, resets, and holds or fails writes. The suite's one fake
 * connection: extend it (override `received`) for a peer that answers what it is sent.
 */
export class MemoryConnection implements Connection {
  readonly remoteAddr: Address;
  /** Each write, as text, in order (a held write too, from when it was made). */
  readonly writes: string[] = [];
  /** What was done to the connection, in order: `closeWrite`, `close`. */
  readonly events: string[] = [];
  /** Reads made so far. */
  reads = 0;
  /**
   * While set, each write is recorded and then waits for it: a peer that does not read. A held
   * write fails once the connection is closed, as a real one does.
   */
  hold: Promise<void> | undefined;
  /** While set, writes fail with a `ConnectionClosedError` ("broken pipe") and are not recorded. */
  failWrites = false;
  /** Ends the peer's side as soon as the code ends its own (as a oneline server does). */
  endOnCloseWrite = false;
  readonly #inbox = new ChunkInbox();
  readonly #progress = new Progress();
  #closed = false;
  #gone: () => void = () => {};
  readonly #goneOnce = new Promise<void>((resolve) => this.#gone = resolve);

  /** @param remoteAddr The peer's address, as the code under test sees it. */
  constructor(remoteAddr: Address = { transport: "tcp", hostname: "192.0.2.1", port: 4000 }) {
    this.remoteAddr = remoteAddr;
  }

  /** Everything written, as one text. */
  get written(): string {
    return this.writes.join("");
  }

  /** The peer sends bytes (one read for the code under test). */
  send(data: string | Uint8Array): void {
    this.#inbox.push(typeof data === "string" ? memoryEncoder.encode(data) : data);
  }

  /** The peer ends its side. */
  end(): void {
    this.#inbox.push(null);
  }

  /** The peer resets: writes fail from now on and the connection is gone. */
  reset(): void {
    this.failWrites = true;
    this.#gone();
    this.#inbox.push(null);
  }

  /** Waits until `done` holds, after a write, a read or a close; fails after 2 s. */
  until(done: () => boolean): Promise<void> {
    return this.#progress.until(done, () => `written ${JSON.stringify(this.written)}`);
  }

  /** What the peer does once it has read a write's text: nothing here. */
  protected received(_text: string): void {}

  read(): Promise<Uint8Array | null> {
    this.reads++;
    this.#progress.notify();
    return this.#inbox.read(this.#closed);
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.failWrites) throw new ConnectionClosedError("broken pipe");
    if (this.#closed) throw new ConnectionClosedError("closed");
    const text = memoryDecoder.decode(data);
    this.writes.push(text);
    this.#progress.notify();
    if (this.hold !== undefined) await Promise.race([this.hold, this.#goneOnce]);
    if (this.#closed) throw new ConnectionClosedError("closed while writing");
    this.received(text);
  }

  closeWrite(): Promise<void> {
    this.events.push("closeWrite");
    if (this.endOnCloseWrite) this.end();
    this.#progress.notify();
    return Promise.resolve();
  }

  watch(): Promise<void> {
    return this.#goneOnce;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.events.push("close");
    this.#gone();
    this.#inbox.push(null);
    this.#progress.notify();
  }
}

/**
 * A handler for the client's tests against a real server: `slow` answers `re:slow` after 300 ms,
 * `two` the lines `a` and `b`, `none` nothing, `pong?` the line `pong`, any other command
 * `re:<command>`.
 */
export const variedHandler = async (command: string): Promise<string | string[] | undefined> => {
  if (command === "slow") {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return "re:slow";
  }
  if (command === "two") return ["a", "b"];
  if (command === "none") return undefined;
  if (command === "pong?") return "pong";
  return `re:${command}`;
};

/** A oneline server's side of an in-memory connection: it answers `ping` and the replies set. */
export class FakeServer extends MemoryConnection {
  /** Answers `ping` with `pong` as the client writes it. */
  answerPing = true;
  /** Answers to other commands, sent as the client writes them. */
  readonly replies = new Map<string, string>();

  constructor() {
    super({ transport: "tcp", hostname: "192.0.2.7", port: 7000 });
  }

  protected override received(text: string): void {
    for (const line of text.split("\n").slice(0, -1)) {
      if (line === "ping" && this.answerPing) this.send("pong\n");
      const reply = this.replies.get(line);
      if (reply !== undefined) this.send(reply);
    }
  }
}

/** A transport whose connects are answered by the test. */
export class FakeTransport implements Transport {
  readonly endpoints: ConnectEndpoint[] = [];
  #connects: (() => Promise<Connection>)[] = [];

  /** Queues how the next connects go; the last one repeats. */
  then(...connects: (() => Promise<Connection>)[]): this {
    this.#connects.push(...connects);
    return this;
  }

  listen(): never {
    throw new Error("not used");
  }

  connect(endpoint: ConnectEndpoint): Promise<Connection> {
    this.endpoints.push(endpoint);
    const next = this.#connects.length > 1 ? this.#connects.shift()! : this.#connects[0];
    return next();
  }
}

/**
 * Resolves once every promise reaction queued so far has run: the fake transport is in memory, so
 * whatever the client does in answer to what the test did has happened by then.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `body` while counting the timers started and not yet fired or cleared. */
export async function countingTimers(body: () => Promise<void>): Promise<number> {
  const live = new Set<unknown>();
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
  // deno-lint-ignore no-explicit-any
  const spySet = (callback: (...args: any[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSet(() => {
      live.delete(timer);
      callback(...args);
    }, ms);
    live.add(timer);
    return timer;
  };
  const spyClear = (timer: ReturnType<typeof setTimeout> | undefined) => {
    live.delete(timer);
    realClear(timer);
  };
  Object.assign(globalThis, { setTimeout: spySet, clearTimeout: spyClear });
  try {
    await body();
  } finally {
    Object.assign(globalThis, { setTimeout: realSet, clearTimeout: realClear });
  }
  for (const timer of live) realClear(timer as ReturnType<typeof setTimeout>);
  return live.size;
}

/** A client connected to a fresh fake server, over a fake transport. */
export async function connected(
  options: ConnectOptions = {},
  server = new FakeServer(),
): Promise<{ client: OnelineClient; server: FakeServer; transport: FakeTransport }> {
  const transport = new FakeTransport().then(() => Promise.resolve(server));
  const client = await connect({ transport, ...options });
  return { client, server, transport };
}
/**
 * A {@linkcode Clock} that moves only when told, as std's `FakeTime` does:
 * time starts at 0, and {@linkcode FakeClock.tick} runs the timers that fall
 * due in order of their time (then of their setting), with the work they
 * start settled before the next one runs.
 */
export class FakeClock implements Clock {
  #now = 0;
  #set = 0;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  /** The fake time, in ms. */
  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const id = ++this.#set;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id as unknown as Timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    this.#timers.delete(timer as unknown as number);
  }

  /** When the pending timers fall due, earliest first. */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at).sort((a, b) => a - b);
  }

  /**
   * Moves time on by `ms`, running each timer that falls due meanwhile at its
   * own time; resolves once the work they started has settled.
   */
  async tick(ms = 0): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await settled();
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= until && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = until;
  }
}

// Lets every callback already queued run (promise reactions, in-memory I/O): one turn of the
// runtime's own event loop, which no fake time drives.
function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
