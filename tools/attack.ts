/**
 * A red-team soak of the oneline server: starts `tools/attack_server.ts` as
 * a child process on Deno and/or Bun, runs hostile clients against it one
 * scenario at a time (reset storms, crowds of waiting clients, clients that
 * never read, tricklers (served and waiting), hung handlers, floods, slowloris, garbage and, with
 * `--tls`, stalled handshakes), and checks after each one that the server is
 * alive, that a fresh polite client is served in time and that the server's
 * descriptors come back. The attacker uses only `node:` modules, so it runs
 * on both runtimes:
 *
 * ```sh
 * deno run -A tools/attack.ts --quick                      # both runtimes, plain TCP
 * bun run tools/attack.ts --runtime deno --tls --timeout 900
 * ```
 *
 * Options: `--quick` (smaller sizes, under a minute per runtime), `--runtime
 * deno|bun|both` (default both), `--tls` (add the TLS scenarios), `--timeout
 * SECONDS` (limit per runtime: 150, or 900 without `--quick`), `--deno PATH`
 * and `--bun PATH` (the executables: the one running this script for its own
 * runtime, else `deno` and `bun` on PATH),
 * `--idle-timeout MS` (1000) and `--handler-timeout MS` (3000) of the server,
 * `--only TEXT` (only the scenarios whose name contains TEXT).
 *
 * Prints a table per runtime and, last, `N passed, N failed`; exits 1 when a
 * scenario failed (the server died, a polite client was not served within
 * its bound, descriptors did not come back, or the scenario's own check).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import process from "node:process";
import * as tls from "node:tls";
import { parseArgs } from "node:util";

/** A runtime the server can run on. */
export type Runtime = "deno" | "bun";

/** What {@linkcode runAttack} does. */
export interface AttackConfig {
  /** The smaller sizes, for a run of under a minute per runtime. */
  quick: boolean;
  /** The runtimes to attack, one after the other. */
  runtimes: Runtime[];
  /** Also run the TLS scenarios, against a TLS server. */
  tls: boolean;
  /** Run only the scenarios whose name contains this (case-insensitive). */
  only?: string;
  /** Milliseconds each runtime's run may take; scenarios left then are not run. */
  timeoutMs: number;
  /** The executables of the runtimes. */
  executables: Record<Runtime, string>;
  /** The server's `idleTimeout`, in milliseconds. */
  idleTimeoutMs: number;
  /** The server's `handlerTimeout`, in milliseconds. */
  handlerTimeoutMs: number;
  /** Told about progress. */
  onProgress?: (message: string) => void;
}

/** One scenario's figures and verdict on one runtime. */
export interface ScenarioResult {
  /** The runtime the server ran on. */
  runtime: Runtime;
  /** The scenario's name. */
  scenario: string;
  /** `"pass"`, `"FAIL"`, or `"not run"` (after a death or the time limit; not counted). */
  verdict: "pass" | "FAIL" | "not run";
  /** Milliseconds until a polite client was served during or right after the attack; `null` if never. */
  nextMs?: number | null;
  /** Milliseconds until a polite client was served once the attack was over; `null` if never. */
  afterMs?: number | null;
  /** The server's open descriptors before and after (settled). */
  fds?: [number | null, number | null];
  /** The server's RSS in MiB before, at its peak during, and after the scenario. */
  rss?: [number | null, number | null, number | null];
  /** What the scenario observed. */
  notes: string[];
  /** Why it failed. */
  problems: string[];
}

// A polite client not served within this is a failure.
const PROBE_MS = 5000;
// Descriptors may take this long to come back after a scenario, and may be this many above.
const FD_SETTLE_MS = 5000;
const FD_TOLERANCE = 3;
// A raw connection (or TLS handshake) not made within this counts as failed.
const CONNECT_MS = 3000;
// How long the server may take to print READY (Deno may compile first).
const READY_MS = 30_000;
// Connections opened at once by the crowd scenarios.
const CONCURRENCY = 200;
// The server's options, as tools/attack_server.ts sets them.
const MAX_WAITING = 1024;
const HANDSHAKE_MS = 2000;
const RSS_SAMPLE_MS = 100;
const STDERR_TAIL_LINES = 30;
// Server log lines kept for the per-scenario summary, and how many kinds it names.
const LOG_KEPT_LINES = 20_000;
const LOG_SUMMARY_KINDS = 3;
const SERVER_SCRIPT = new URL("./attack_server.ts", import.meta.url);
const TESTDATA = new URL("../testdata/", import.meta.url);

// ---------------------------------------------------------------------------
// The server process

/** The server under test, a child process, and what it said on stderr. */
class ServerProcess {
  readonly #child: ChildProcess;
  // The latest log lines (at most LOG_KEPT_LINES), and how many came before them.
  readonly #log: string[] = [];
  #logDropped = 0;
  #exit: string | undefined;
  /** Resolves with how the process ended. */
  readonly exited: Promise<string>;
  /** Whether it speaks TLS. */
  readonly tls: boolean;
  port = 0;
  pid = 0;

  private constructor(child: ChildProcess, useTls: boolean) {
    this.#child = child;
    this.tls = useTls;
    child.stderr!.setEncoding("utf8");
    let partial = "";
    child.stderr!.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      this.#log.push(...lines);
      const excess = this.#log.length - LOG_KEPT_LINES;
      if (excess > 0) {
        this.#log.splice(0, excess);
        this.#logDropped += excess;
      }
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = signal ? `killed by ${signal}` : `exited with status ${code}`;
        resolve(this.#exit);
      });
      child.once("error", (error) => {
        this.#exit = `could not run: ${error.message}`;
        resolve(this.#exit);
      });
    });
  }

  /** Starts the server and waits for its READY line. */
  static async start(runtime: Runtime, config: AttackConfig, useTls: boolean) {
    const script = decodeURIComponent(SERVER_SCRIPT.pathname);
    const flags = [
      "--port",
      "0",
      "--idle-timeout",
      String(config.idleTimeoutMs),
      "--handler-timeout",
      String(config.handlerTimeoutMs),
      "--max-waiting",
      String(MAX_WAITING),
      "--handshake-timeout",
      String(HANDSHAKE_MS),
      ...(useTls ? ["--tls"] : []),
    ];
    const args = runtime === "deno" ? ["run", "-A", script, ...flags] : ["run", script, ...flags];
    const server = new ServerProcess(
      spawn(config.executables[runtime], args, { stdio: ["pipe", "pipe", "pipe"] }),
      useTls,
    );
    await server.#ready();
    return server;
  }

  async #ready(): Promise<void> {
    const stdout = this.#child.stdout!;
    stdout.setEncoding("utf8");
    let text = "";
    const ready = new Promise<void>((resolve) => {
      stdout.on("data", (chunk: string) => {
        text += chunk;
        const match = /READY port=(\d+) pid=(\d+)/.exec(text);
        if (match && this.port === 0) {
          [this.port, this.pid] = [Number(match[1]), Number(match[2])];
          resolve();
        }
      });
    });
    const outcome = await within(
      Promise.race([ready.then(() => undefined), this.exited]),
      READY_MS,
      () => `no READY line within ${READY_MS} ms`,
    );
    if (outcome !== undefined) {
      await this.stop();
      throw new Error(`the server did not start: ${outcome}\n${this.stderrTail()}`);
    }
  }

  /** How the process ended, or `undefined` while it runs. */
  get exit(): string | undefined {
    return this.#exit;
  }

  /** The last lines the server wrote on stderr, indented. */
  stderrTail(): string {
    return this.#log.slice(-STDERR_TAIL_LINES).map((line) => `    | ${line}`).join("\n");
  }

  /** How many log lines the server has written so far: a mark for {@linkcode logSummary}. */
  get logMark(): number {
    return this.#logDropped + this.#log.length;
  }

  /**
   * The most frequent kinds of log line since `mark` (numbers masked), as
   * `"<count>× <line>"`.
   */
  logSummary(mark: number): string[] {
    const kinds = new Map<string, number>();
    for (const line of this.#log.slice(Math.max(0, mark - this.#logDropped))) {
      const kind = line.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, "#").slice(0, 120);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, LOG_SUMMARY_KINDS)
      .map(([kind, times]) => `${times}× ${kind}`);
  }

  /** Kills the server and waits until it is gone. */
  async stop(): Promise<void> {
    if (this.#exit === undefined) this.#child.kill("SIGKILL");
    await this.exited;
  }
}

// ---------------------------------------------------------------------------
// Looking at the server from outside: /proc

function openFds(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function rssMiB(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kib === undefined ? null : Number(kib) / 1024;
  } catch {
    return null;
  }
}

// Polls until the server's descriptors are within FD_TOLERANCE of `baseline`,
// for at most FD_SETTLE_MS, and returns the last count.
async function settledFds(pid: number, baseline: number | null): Promise<number | null> {
  const deadline = Date.now() + FD_SETTLE_MS;
  let count = openFds(pid);
  while (
    count !== null && baseline !== null && count > baseline + FD_TOLERANCE && Date.now() < deadline
  ) {
    await delay(50);
    count = openFds(pid);
  }
  return count;
}

// Samples the server's RSS until stopped; `stop()` returns the peak.
function sampleRss(pid: number): () => number | null {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    const now = rssMiB(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, RSS_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

// ---------------------------------------------------------------------------
// Sockets

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// `work`, or `late()` once `ms` have passed first; leaves no timer behind.
async function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(late()), ms));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the scenario's clients connect, and every socket they opened. */
class Attack {
  readonly port: number;
  readonly tls: boolean;
  readonly #sockets = new Set<net.Socket>();
  // Sockets we closed ourselves; any other close came from the server.
  readonly #ours = new WeakSet<net.Socket>();
  readonly #closedByServer = new WeakSet<net.Socket>();
  #ca: string | undefined;
  #stopped = false;

  constructor(port: number, useTls: boolean) {
    this.port = port;
    this.tls = useTls;
  }

  /**
   * Connects (plain TCP, or TLS when the target speaks it and `plain` is not
   * set); resolves once connected (TLS: handshake done), or `null` when that
   * fails or takes longer than CONNECT_MS.
   */
  connect(plain = false): Promise<net.Socket | null> {
    if (this.#stopped) return Promise.resolve(null);
    const secure = this.tls && !plain;
    const options = { host: "127.0.0.1", port: this.port };
    this.#ca ??= secure ? fs.readFileSync(new URL("ca.pem", TESTDATA), "utf8") : undefined;
    const socket = secure
      ? tls.connect({ ...options, ca: this.#ca, servername: "localhost" })
      : net.connect(options);
    this.#track(socket);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), CONNECT_MS);
      const done = (connected: boolean) => {
        clearTimeout(timer);
        socket.off("close", onClose);
        if (!connected) this.destroy(socket);
        resolve(connected ? socket : null);
      };
      const onClose = () => done(false);
      socket.once("close", onClose);
      socket.once(secure ? "secureConnect" : "connect", () => done(true));
    });
  }

  /**
   * Opens `count` connections, CONCURRENCY at a time, each passed to `then`
   * once connected; `plain` connects without TLS even to the TLS server.
   */
  async crowd(
    count: number,
    then: (socket: net.Socket) => void = () => {},
    plain = false,
  ): Promise<{ sockets: net.Socket[]; failed: number }> {
    const sockets: net.Socket[] = [];
    let failed = 0;
    for (let start = 0; start < count; start += CONCURRENCY) {
      const batch = Math.min(CONCURRENCY, count - start);
      const opened = await Promise.all(Array.from({ length: batch }, () => this.connect(plain)));
      for (const socket of opened) {
        if (socket === null) failed++;
        else {
          then(socket);
          sockets.push(socket);
        }
      }
    }
    return { sockets, failed };
  }

  // Watches how the socket ends. It flows (its data dropped) unless paused, so that an end of
  // stream from the server is seen.
  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.resume();
    socket.on("error", () => {}); // Resets are the point here.
    socket.on("end", () => this.#closedByServer.add(socket));
    socket.once("close", () => {
      if (!this.#ours.has(socket)) this.#closedByServer.add(socket);
      this.#sockets.delete(socket);
    });
  }

  /** Whether the server ended this connection (end of stream, reset or close). */
  closedByServer(socket: net.Socket): boolean {
    return this.#closedByServer.has(socket);
  }

  /** Resets the connection (RST; on Deno 2.9.6 a TLS socket sends a FIN instead). */
  reset(socket: net.Socket): void {
    this.#ours.add(socket);
    if (!socket.destroyed) socket.resetAndDestroy();
  }

  /** Closes our side politely (FIN) and keeps the socket until the server closes too. */
  end(socket: net.Socket): void {
    this.#ours.add(socket);
    socket.end();
  }

  /** Destroys the socket at once. */
  destroy(socket: net.Socket): void {
    this.#ours.add(socket);
    socket.destroy();
  }

  /** Destroys every socket the scenario still holds, and refuses to open more. */
  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) this.destroy(socket);
  }

  /**
   * Resolves with the milliseconds until the server ends the connection, or
   * `null` when it has not within `ms`.
   */
  whenClosedByServer(socket: net.Socket, ms: number): Promise<number | null> {
    const started = performance.now();
    if (this.closedByServer(socket)) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), ms);
      const done = (value: number | null) => {
        clearTimeout(timer);
        socket.off("end", onEnd);
        socket.off("close", onEnd);
        resolve(value);
      };
      const onEnd = () => done(performance.now() - started);
      socket.once("end", onEnd);
      socket.once("close", onEnd);
    });
  }

  /**
   * A polite client: connects, says `ping`, reads `pong`, says
   * `disconnect` and waits for the server to close. Resolves with the
   * milliseconds it all took, or `null` when it was not done within `ms`.
   */
  async politeClient(ms = PROBE_MS): Promise<number | null> {
    const started = performance.now();
    const socket = await this.connect();
    if (socket === null) return null;
    socket.setEncoding("utf8");
    let received = "";
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received === "pong\n") socket.write("disconnect\n");
    });
    socket.write("ping\n");
    const closed = await this.whenClosedByServer(socket, ms - (performance.now() - started));
    this.destroy(socket);
    return closed !== null && received === "pong\n" ? performance.now() - started : null;
  }

  /** Connects and says `ping`; resolves once served (it holds the slot), or `null`. */
  async holdSlot(): Promise<net.Socket | null> {
    const socket = await this.connect();
    if (socket === null) return null;
    const served = await this.exchange(socket, "ping\n", "pong\n", PROBE_MS);
    return served ? socket : null;
  }

  /** The holder says `disconnect`; resolves once the server has closed it. */
  async leave(socket: net.Socket): Promise<void> {
    socket.write("disconnect\n");
    await this.whenClosedByServer(socket, PROBE_MS);
  }

  /** Sends `text` and resolves `true` once what came back ends with `expected`, `false` after `ms`. */
  exchange(socket: net.Socket, text: string | Uint8Array, expected: string, ms: number) {
    return new Promise<boolean>((resolve) => {
      let tail = "";
      const timer = setTimeout(() => done(false), ms);
      const onData = (chunk: Uint8Array) => {
        const last = chunk.subarray(Math.max(0, chunk.length - expected.length));
        tail = (tail + String.fromCharCode(...last)).slice(-expected.length);
        if (tail === expected) done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve(ok);
      };
      const onClose = () => done(tail === expected);
      socket.on("data", onData);
      socket.once("close", onClose);
      socket.write(text);
    });
  }
}

// ---------------------------------------------------------------------------
// Scenarios

/** What a scenario observed besides the harness's own measurements. */
interface Outcome {
  /** Milliseconds until a polite client was served during or right after the attack. */
  nextMs?: number | null;
  /** The bound `nextMs` was held to, when not PROBE_MS. */
  boundMs?: number;
  notes: string[];
  problems: string[];
}

interface Scenario {
  name: string;
  /** Against the TLS server (only with --tls). */
  tls?: boolean;
  /** The scenario's size with --quick, and without. */
  size: [quick: number, full: number];
  /** The most the server's RSS may grow during it, in MiB, when that is its point. */
  maxRssGrowthMiB?: number;
  run(attack: Attack, size: number, config: AttackConfig): Promise<Outcome>;
}

function observed(nextMs: number | null | undefined, ...notes: string[]): Outcome {
  return { nextMs, notes, problems: [] };
}

function closedCount(sockets: net.Socket[], attack: Attack): number {
  return sockets.filter((socket) => attack.closedByServer(socket)).length;
}

// Bytes from a fixed seed, so that every run sends the same garbage.
function garbage(length: number, withLF: boolean): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    const byte = state >>> 24;
    bytes[i] = !withLF && byte === 10 ? 11 : byte;
  }
  return bytes;
}

async function resetStorm(attack: Attack, size: number): Promise<Outcome> {
  const { failed } = await attack.crowd(size, (socket) => attack.reset(socket));
  return observed(undefined, `${size - failed} connected and reset, ${failed} failed to connect`);
}

// Connections made while a client holds the slot: `act` deals with them and says what happened,
// then the holder leaves and a polite client must be served.
async function whileHeld(attack: Attack, act: () => Promise<string>): Promise<Outcome> {
  const holder = await attack.holdSlot();
  if (holder === null) return observed(null, "the holder was not served");
  const note = await act();
  await attack.leave(holder);
  return observed(await attack.politeClient(), note);
}

// Waiting clients that send one byte at a time, without an LF: what the server reads ahead of
// them must stay a few KiB each, whatever the number of writes.
const TRICKLED_BYTES = 400;
const TRICKLE_MS = 5;

function waitersTrickle(attack: Attack, size: number): Promise<Outcome> {
  return whileHeld(attack, async () => {
    const { sockets, failed } = await attack.crowd(size);
    for (let i = 0; i < TRICKLED_BYTES; i++) {
      for (const socket of sockets) if (!socket.destroyed) socket.write("x");
      await delay(TRICKLE_MS);
    }
    for (const socket of sockets) attack.destroy(socket);
    return `${sockets.length} waiters sent ${TRICKLED_BYTES} single bytes each (${failed} not connected)`;
  });
}

function resetWhileHeld(attack: Attack, size: number): Promise<Outcome> {
  return whileHeld(attack, async () => {
    const { failed } = await attack.crowd(size, (socket) => attack.reset(socket));
    return `${size - failed} reset while waiting, ${failed} failed to connect`;
  });
}

// `size` clients wait while the slot is held; `leave` sends each away after `waitMs`.
function waiters(size: number, waitMs: number, leave: (socket: net.Socket, i: number) => void) {
  return (attack: Attack) =>
    whileHeld(attack, async () => {
      const { sockets, failed } = await attack.crowd(size, (socket) => socket.resume());
      await delay(waitMs);
      const refused = closedCount(sockets, attack);
      sockets.forEach(leave);
      return `${sockets.length} connected, ${refused} of them closed by the server while ` +
        `waiting (maxWaiting ${MAX_WAITING}), ${failed} not connected within ${CONNECT_MS} ms`;
    });
}

function waitersLeave(attack: Attack, size: number): Promise<Outcome> {
  return waiters(size, 200, (socket, i) => i % 2 === 0 ? attack.reset(socket) : attack.end(socket))(
    attack,
  );
}

function waitersOverflow(attack: Attack, size: number): Promise<Outcome> {
  return waiters(size, 1000, (socket) => attack.end(socket))(attack);
}

// A client that asks for `command` and never reads the answer; a polite client must still be
// served (the idle timeout should free the slot).
async function neverReads(attack: Attack, command: string): Promise<Outcome> {
  const socket = await attack.connect();
  if (socket === null) return observed(null, "the attacker could not connect");
  socket.pause();
  socket.write(`${command}\n`);
  await delay(100);
  const nextMs = await attack.politeClient();
  const closed = attack.closedByServer(socket) ? "closed" : "not closed";
  return observed(nextMs, `the attacker was ${closed} by the server by then`);
}

async function trickler(attack: Attack, intervalMs: number, config: AttackConfig) {
  const socket = await attack.connect();
  if (socket === null) return observed(null, "the trickler could not connect");
  const timer = setInterval(() => {
    if (socket.writable) socket.write("a");
  }, intervalMs);
  const [nextMs, closedMs] = await Promise.all([
    attack.politeClient(),
    attack.whenClosedByServer(socket, PROBE_MS),
  ]);
  clearInterval(timer);
  const result = observed(
    nextMs,
    closedMs === null
      ? `the trickler was still connected after ${PROBE_MS} ms`
      : `the trickler was disconnected after ${closedMs.toFixed(0)} ms`,
  );
  if (closedMs === null || closedMs > config.idleTimeoutMs + 1000) {
    result.problems.push("the trickler was not disconnected by the idle timeout");
  }
  return result;
}

async function hangThen(attack: Attack, leave: "reset" | "end", config: AttackConfig) {
  const socket = await attack.connect();
  if (socket === null) return observed(null, "the attacker could not connect");
  socket.write("hang\n");
  await delay(200);
  attack[leave](socket);
  const nextMs = await attack.politeClient();
  const freedBy = nextMs !== null && nextMs >= config.handlerTimeoutMs - 200
    ? `only by the handler timeout (${config.handlerTimeoutMs} ms)`
    : "before the handler timeout";
  return observed(nextMs, `sent hang, then ${leave}: the slot was freed ${freedBy}`);
}

async function slowloris(attack: Attack, size: number, config: AttackConfig): Promise<Outcome> {
  const { sockets, failed } = await attack.crowd(size, (socket) => socket.write("pin"));
  const watchMs = 3 * config.idleTimeoutMs + 500;
  await delay(watchMs);
  const dropped = closedCount(sockets, attack);
  const result = observed(
    undefined,
    `${sockets.length} sent a partial line (${failed} not connected); ${dropped} were ` +
      `disconnected in ${watchMs} ms (one client at a time: the rest wait their turn)`,
  );
  if (dropped === 0) result.problems.push("no partial-line client was disconnected");
  return result;
}

// Sends `bytes` on a fresh connection, then either `ping` (the answer must end with `pong`) or
// the end of stream (the server must close). Returns what went wrong, if anything.
async function sendGarbage(attack: Attack, bytes: Uint8Array, thenPing: boolean) {
  const socket = await attack.connect();
  if (socket === null) return "could not connect";
  socket.write(bytes);
  const ok = thenPing
    ? await attack.exchange(socket, "\nping\ndisconnect\n", "pong\n", 10_000)
    : (socket.end(), await attack.whenClosedByServer(socket, 10_000) !== null);
  attack.destroy(socket);
  return ok ? undefined : thenPing ? "no pong after it" : "not closed after the end of stream";
}

async function garbageLines(attack: Attack, size: number): Promise<Outcome> {
  const payloads: [string, Uint8Array, boolean][] = [
    [`${size} random bytes with LFs`, garbage(size, true), true],
    [`${size} random bytes, no LF, then FIN`, garbage(size, false), false],
    ["1 MiB without LF", new Uint8Array(1024 * 1024).fill(65), true],
  ];
  const result = observed(undefined);
  for (const [what, bytes, thenPing] of payloads) {
    const problem = await sendGarbage(attack, bytes, thenPing);
    if (problem !== undefined) result.problems.push(`${what}: ${problem}`);
  }
  result.notes.push(`${payloads.length - result.problems.length}/${payloads.length} handled`);
  return result;
}

async function stalledHandshakes(attack: Attack, size: number): Promise<Outcome> {
  const { sockets, failed } = await attack.crowd(size, () => {}, true);
  const boundMs = HANDSHAKE_MS + 1500;
  const result = observed(
    await attack.politeClient(boundMs),
    `${sockets.length} silent TCP connections (${failed} not connected), ` +
      `${closedCount(sockets, attack)} closed by the server by then`,
  );
  return { ...result, boundMs };
}

async function plainToTls(attack: Attack, size: number): Promise<Outcome> {
  const { sockets, failed } = await attack.crowd(size, (socket) => socket.write("ping\n"), true);
  const closedMs = await Promise.all(
    sockets.map((socket) => attack.whenClosedByServer(socket, HANDSHAKE_MS + 1000)),
  );
  const times = closedMs.filter((ms) => ms !== null);
  const closed = closedCount(sockets, attack);
  const result = observed(
    await attack.politeClient(),
    `${closed}/${sockets.length} plain clients closed by the server` +
      (times.length > 0 ? `, the last after ${Math.max(...times).toFixed(0)} ms` : "") +
      ` (${failed} not connected)`,
  );
  if (closed < sockets.length) result.problems.push(`${sockets.length - closed} left open`);
  return result;
}

/** Every scenario, in the order they run. */
const SCENARIOS: Scenario[] = [
  { name: "reset storm, idle server", size: [400, 3000], run: resetStorm },
  { name: "reset storm while held", size: [400, 3000], run: resetWhileHeld },
  {
    name: "waiters trickle single bytes",
    size: [32, 128],
    maxRssGrowthMiB: 16,
    run: waitersTrickle,
  },
  { name: "waiters: half RST, half FIN", size: [1000, 1000], run: waitersLeave },
  { name: "waiters over maxWaiting", size: [1100, 2000], run: waitersOverflow },
  {
    name: "big 20000000, never read",
    size: [20e6, 20e6],
    run: (a, n) => neverReads(a, `big ${n}`),
  },
  { name: "trickler, 1 byte/200 ms", size: [200, 200], run: trickler },
  { name: "hang, then RST", size: [1, 1], run: (a, _, config) => hangThen(a, "reset", config) },
  { name: "hang, then FIN", size: [1, 1], run: (a, _, config) => hangThen(a, "end", config) },
  {
    name: "flood 200000, never read",
    size: [2e5, 2e5],
    run: (a, n) => neverReads(a, `flood ${n}`),
  },
  { name: "slowloris, partial lines", size: [200, 200], run: slowloris },
  { name: "garbage", size: [256 * 1024, 4 * 1024 * 1024], run: garbageLines },
  { name: "TLS: stalled handshakes", tls: true, size: [300, 300], run: stalledHandshakes },
  { name: "TLS: plain TCP clients", tls: true, size: [50, 200], run: plainToTls },
  { name: "TLS: waiters, half RST, half FIN", tls: true, size: [100, 500], run: waitersLeave },
];

// ---------------------------------------------------------------------------
// The harness

// Runs one scenario, bounded by `limitMs`, with the measurements before, during and after.
async function measure(
  runtime: Runtime,
  server: ServerProcess,
  scenario: Scenario,
  config: AttackConfig,
  limitMs: number,
): Promise<ScenarioResult> {
  const fdsBefore = openFds(server.pid);
  const rssBefore = rssMiB(server.pid);
  const peakRss = sampleRss(server.pid);
  const logMark = server.logMark;
  const attack = new Attack(server.port, server.tls);
  const found = await within(
    Promise.race([
      scenario.run(attack, scenario.size[config.quick ? 0 : 1], config),
      server.exited.then(() => observed(undefined)),
    ]),
    limitMs,
    () => ({ notes: [], problems: [`did not finish within ${(limitMs / 1000).toFixed(0)} s`] }),
  );
  attack.stop();
  const result: ScenarioResult = { runtime, scenario: scenario.name, verdict: "pass", ...found };
  if (found.nextMs === null) {
    result.problems.unshift(`no polite client served within ${found.boundMs ?? PROBE_MS} ms`);
  }
  if (server.exit === undefined) {
    result.afterMs = await new Attack(server.port, server.tls).politeClient();
    if (result.afterMs === null) {
      result.problems.push("no polite client served after the attack");
      await within(server.exited, 1000, () => ""); // A server that died is told apart.
    }
    result.fds = [fdsBefore, await settledFds(server.pid, fdsBefore)];
    if (fdsBefore !== null && (result.fds[1] ?? 0) > fdsBefore + FD_TOLERANCE) {
      result.problems.push(`descriptors not back within ${FD_SETTLE_MS} ms`);
    }
  }
  result.rss = [rssBefore, peakRss(), rssMiB(server.pid)];
  const [before, peak] = result.rss;
  const bound = scenario.maxRssGrowthMiB;
  if (bound !== undefined && before !== null && peak !== null && peak - before > bound) {
    result.problems.push(`RSS grew by ${(peak - before).toFixed(1)} MiB, over ${bound} MiB`);
  }
  result.notes.push(...server.logSummary(logMark).map((line) => `server log: ${line}`));
  if (server.exit !== undefined) {
    result.problems.push(`the server died (${server.exit}); its stderr:\n${server.stderrTail()}`);
  }
  if (result.problems.length > 0) result.verdict = "FAIL";
  return result;
}

function unrun(runtime: Runtime, scenario: Scenario, why: string, failed = false): ScenarioResult {
  return {
    runtime,
    scenario: scenario.name,
    verdict: failed ? "FAIL" : "not run",
    notes: failed ? [] : [why],
    problems: failed ? [why] : [],
  };
}

// Runs the scenarios against one runtime: a plain server, then (with --tls) a TLS server. A
// server left unable to serve is restarted for the next scenario; one that died ends the run.
async function attackRuntime(runtime: Runtime, config: AttackConfig): Promise<ScenarioResult[]> {
  const deadline = Date.now() + config.timeoutMs;
  const results: ScenarioResult[] = [];
  let server: ServerProcess | undefined;
  let stopped: string | undefined;
  const chosen = SCENARIOS.filter((s) =>
    (config.tls || !s.tls) && s.name.toLowerCase().includes(config.only?.toLowerCase() ?? "")
  );
  for (const scenario of chosen) {
    const left = deadline - Date.now();
    if (stopped === undefined && left <= 0) stopped = "the time limit ran out";
    if (stopped !== undefined) {
      results.push(unrun(runtime, scenario, stopped));
      continue;
    }
    const useTls = scenario.tls ?? false;
    if (server === undefined || server.exit !== undefined || server.tls !== useTls) {
      await server?.stop();
      try {
        server = await ServerProcess.start(runtime, config, useTls);
      } catch (error) {
        stopped = (error as Error).message;
        results.push(unrun(runtime, scenario, stopped, true));
        continue;
      }
    }
    config.onProgress?.(`${runtime}: ${scenario.name}`);
    const limitMs = Math.min(left, config.quick ? 30_000 : 120_000);
    const result = await measure(runtime, server, scenario, config, limitMs);
    results.push(result);
    if (server.exit !== undefined) stopped = `the server died in "${scenario.name}"`;
    else if (result.afterMs === null) {
      result.notes.push("the server was restarted after this scenario");
      await server.stop();
    }
  }
  await server?.stop();
  return results;
}

/**
 * Runs every scenario against each runtime in turn and returns one result
 * per scenario and runtime.
 *
 * @param config What to attack, how hard, and for how long.
 * @returns The results, in the order run.
 */
export async function runAttack(config: AttackConfig): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const runtime of config.runtimes) results.push(...await attackRuntime(runtime, config));
  return results;
}

function ms(value: number | null | undefined): string {
  return value === undefined ? "-" : value === null ? "never" : value.toFixed(0);
}

function mib(value: number | null | undefined): string {
  return value == null ? "?" : value.toFixed(1);
}

/**
 * Formats the results of one runtime as a table, with each scenario's notes
 * and problems below it.
 *
 * @param results The results, all of one runtime.
 * @returns The table and notes, one item per line.
 */
export function formatTable(results: ScenarioResult[]): string {
  const rows = [["scenario", "next ms", "after ms", "fds", "RSS MiB before/peak/after", "verdict"]];
  for (const r of results) {
    rows.push([
      r.scenario,
      ms(r.nextMs),
      ms(r.afterMs),
      r.fds ? `${r.fds[0] ?? "?"}→${r.fds[1] ?? "?"}` : "-",
      r.rss ? r.rss.map(mib).join(" / ") : "-",
      r.verdict,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) =>
    row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join(" | ")
  );
  lines.splice(1, 0, widths.map((width) => "-".repeat(width)).join("-|-"));
  for (const r of results) {
    for (const note of r.notes) lines.push(`  ${r.scenario}: ${note}`);
    for (const problem of r.problems) lines.push(`  ${r.scenario}: FAIL: ${problem}`);
  }
  return lines.join("\n");
}

function parseConfig(args: string[]): AttackConfig {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      runtime: { type: "string", default: "both" },
      tls: { type: "boolean", default: false },
      only: { type: "string" },
      timeout: { type: "string" },
      // The runtime the attacker runs on is at hand; the other is looked up on PATH.
      deno: { type: "string", default: "Deno" in globalThis ? process.execPath : "deno" },
      bun: { type: "string", default: "Bun" in globalThis ? process.execPath : "bun" },
      "idle-timeout": { type: "string", default: "1000" },
      "handler-timeout": { type: "string", default: "3000" },
    },
  });
  if (!["deno", "bun", "both"].includes(values.runtime)) {
    throw new TypeError(`--runtime must be deno, bun or both, got ${values.runtime}`);
  }
  const seconds = Number(values.timeout ?? (values.quick ? 150 : 900));
  if (!(seconds > 0)) throw new RangeError("--timeout must be a positive number of seconds");
  return {
    quick: values.quick,
    runtimes: values.runtime === "both" ? ["deno", "bun"] : [values.runtime as Runtime],
    tls: values.tls,
    only: values.only,
    timeoutMs: seconds * 1000,
    executables: { deno: values.deno, bun: values.bun },
    idleTimeoutMs: Number(values["idle-timeout"]),
    handlerTimeoutMs: Number(values["handler-timeout"]),
    onProgress: (message) => console.error(message),
  };
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2));
  const results = await runAttack(config);
  for (const runtime of config.runtimes) {
    console.log(`\n== ${runtime}\n${formatTable(results.filter((r) => r.runtime === runtime))}`);
  }
  const passed = results.filter((r) => r.verdict === "pass").length;
  const failed = results.filter((r) => r.verdict === "FAIL").length;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`attack failed: ${(error as Error).stack ?? error}`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  });
}
