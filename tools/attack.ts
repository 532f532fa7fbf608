/**
 * A red-team soak of the oneline server: starts `tools/attack_server.ts` as
 * a child process on Deno, Bun and/or Node, listening on TCP, TLS or a Unix
 * socket, runs hostile clients against it one scenario at a time (reset
 * storms, crowds of waiting clients, clients that never read, tricklers
 * (served and waiting), hung handlers, floods, slowloris, garbage, connect
 * and close churn, resets after overfilling the read-ahead, half-closes and,
 * on TLS, stalled handshakes), and checks after each one that the server is
 * alive, that a fresh polite client is served in time and that the server's
 * descriptors come back. The attacker uses only `node:` modules, so it runs
 * on all three runtimes:
 *
 * ```sh
 * deno run -A tools/attack.ts --quick --runtime deno --tls --unix   # TCP, TLS and Unix
 * bun run tools/attack.ts --runtime bun --sockets unix --only churn
 * node tools/attack.ts --quick --runtime node --tls --unix
 * ```
 *
 * Options: `--quick` (smaller sizes, under a minute and a half per runtime
 * and socket kind), `--runtime LIST` (comma-separated of deno, bun and
 * node; `both` is deno,bun, `all` the three; default both), `--sockets
 * LIST` (comma-separated of tcp, tls and unix; default tcp), `--tls` and
 * `--unix` (add that kind), `--timeout SECONDS` (limit per runtime and
 * socket kind: 150, or 900 without `--quick`), `--deno PATH`, `--bun PATH`
 * and `--node PATH` (the executables: the one running this script for its
 * own runtime, else `deno`, `bun` and `node` on PATH), `--idle-timeout MS`
 * (1000) and `--handler-timeout MS` (3000) of the server, `--only TEXT`
 * (only the scenarios whose name contains TEXT).
 *
 * Prints a table per runtime and, last, `N passed, N failed`; exits 1 when a
 * scenario failed (the server died, a polite client was not served within
 * its bound, descriptors did not come back, or the scenario's own check).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import type { Socket } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  Attack,
  closedCount,
  CONNECT_MS,
  delay,
  HANDSHAKE_MS,
  MAX_WAITING,
  observed,
  type Outcome,
  PROBE_MS,
  type Scenario,
  type ScenarioConfig,
  type SocketKind,
  type Target,
  within,
} from "./attack_client.ts";
import { LEAVING_SCENARIOS } from "./attack_leaving.ts";

/** A runtime the server can run on. */
export type Runtime = "deno" | "bun" | "node";

const RUNTIMES: Runtime[] = ["deno", "bun", "node"];
const SOCKET_KINDS: SocketKind[] = ["tcp", "tls", "unix"];

/** What {@linkcode runAttack} does. */
export interface AttackConfig extends ScenarioConfig {
  /** The smaller sizes, for a run of under a minute and a half per runtime and socket kind. */
  quick: boolean;
  /** The runtimes to attack, one after the other. */
  runtimes: Runtime[];
  /** The kinds of socket the server listens on, one after the other for each runtime. */
  kinds: SocketKind[];
  /** Run only the scenarios whose name contains this (case-insensitive). */
  only?: string;
  /** Milliseconds each runtime may take per socket kind; scenarios left then are not run. */
  timeoutMs: number;
  /** The executables of the runtimes. */
  executables: Record<Runtime, string>;
  /** Told about progress. */
  onProgress?: (message: string) => void;
}

/** One scenario's figures and verdict on one runtime. */
export interface ScenarioResult {
  /** The runtime the server ran on. */
  runtime: Runtime;
  /** The kind of socket the server listened on. */
  kind: SocketKind;
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

// Descriptors may take this long to come back after a scenario, and may be this many above.
const FD_SETTLE_MS = 5000;
const FD_TOLERANCE = 3;
// How long the server may take to print READY (Deno may compile first).
const READY_MS = 30_000;
const RSS_SAMPLE_MS = 100;
const STDERR_TAIL_LINES = 30;
// Server log lines kept for the per-scenario summary, and how many kinds it names.
const LOG_KEPT_LINES = 20_000;
const LOG_SUMMARY_KINDS = 3;
const SERVER_SCRIPT = new URL("./attack_server.ts", import.meta.url);

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
  /** The kind of socket it listens on. */
  readonly kind: SocketKind;
  // The directory of its Unix socket, removed when it stops.
  readonly #directory: string | undefined;
  /** Where it listens, once ready. */
  target: Target | undefined;
  pid = 0;

  private constructor(child: ChildProcess, kind: SocketKind, directory: string | undefined) {
    this.#child = child;
    this.kind = kind;
    this.#directory = directory;
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
  static async start(runtime: Runtime, config: AttackConfig, kind: SocketKind) {
    const script = decodeURIComponent(SERVER_SCRIPT.pathname);
    // A fresh directory: the path stays short (Unix socket paths are limited) and unshared.
    const directory = kind === "unix"
      ? fs.mkdtempSync(path.join(os.tmpdir(), "oneline-attack-"))
      : undefined;
    const flags = [
      ...(directory === undefined ? ["--port", "0"] : ["--path", path.join(directory, "s")]),
      "--idle-timeout",
      String(config.idleTimeoutMs),
      "--handler-timeout",
      String(config.handlerTimeoutMs),
      "--max-waiting",
      String(MAX_WAITING),
      "--handshake-timeout",
      String(HANDSHAKE_MS),
      ...(kind === "tls" ? ["--tls"] : []),
    ];
    const args = runtime === "deno"
      ? ["run", "-A", script, ...flags]
      : runtime === "bun"
      ? ["run", script, ...flags]
      : [script, ...flags];
    const server = new ServerProcess(
      spawn(config.executables[runtime], args, { stdio: ["pipe", "pipe", "pipe"] }),
      kind,
      directory,
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
        const match = /READY (?:port=(\d+)|path=(\S+)) pid=(\d+)/.exec(text);
        if (match && this.pid === 0) {
          this.pid = Number(match[3]);
          this.target = match[2] !== undefined
            ? { kind: "unix", path: match[2] }
            : { kind: this.kind === "tls" ? "tls" : "tcp", port: Number(match[1]) };
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
    if (this.#directory !== undefined) fs.rmSync(this.#directory, { recursive: true, force: true });
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
// Scenarios

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
function waiters(size: number, waitMs: number, leave: (socket: Socket, i: number) => void) {
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

async function trickler(attack: Attack, intervalMs: number, config: ScenarioConfig) {
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

async function hangThen(attack: Attack, leave: "reset" | "end", config: ScenarioConfig) {
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

async function slowloris(attack: Attack, size: number, config: ScenarioConfig): Promise<Outcome> {
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
  { name: "TLS: stalled handshakes", kinds: ["tls"], size: [300, 300], run: stalledHandshakes },
  { name: "TLS: plain TCP clients", kinds: ["tls"], size: [50, 200], run: plainToTls },
  { name: "TLS: waiters, half RST, half FIN", kinds: ["tls"], size: [100, 500], run: waitersLeave },
  ...LEAVING_SCENARIOS,
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
  const attack = new Attack(server.target!);
  const found = await within(
    Promise.race([
      scenario.run(attack, scenario.size[config.quick ? 0 : 1], config),
      server.exited.then(() => observed(undefined)),
    ]),
    limitMs,
    () => ({ notes: [], problems: [`did not finish within ${(limitMs / 1000).toFixed(0)} s`] }),
  );
  attack.stop();
  const result: ScenarioResult = {
    runtime,
    kind: server.kind,
    scenario: scenario.name,
    verdict: "pass",
    ...found,
  };
  if (found.nextMs === null) {
    result.problems.unshift(`no polite client served within ${found.boundMs ?? PROBE_MS} ms`);
  }
  if (server.exit === undefined) {
    // Served in the end: a server that refuses for a while after an attack is not dead.
    result.afterMs = await new Attack(server.target!).servedWithin();
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
  else if (found.notMade !== undefined) {
    result.verdict = "not run";
    result.notes.push(found.notMade);
  }
  return result;
}

function unrun(
  runtime: Runtime,
  kind: SocketKind,
  scenario: Scenario,
  why: string,
  failed = false,
): ScenarioResult {
  return {
    runtime,
    kind,
    scenario: scenario.name,
    verdict: failed ? "FAIL" : "not run",
    notes: failed ? [] : [why],
    problems: failed ? [why] : [],
  };
}

// Runs the scenarios of one socket kind against one runtime, on one server. A server left unable
// to serve is restarted for the next scenario; one that died ends the run.
async function attackKind(
  runtime: Runtime,
  kind: SocketKind,
  config: AttackConfig,
): Promise<ScenarioResult[]> {
  const deadline = Date.now() + config.timeoutMs;
  const results: ScenarioResult[] = [];
  let server: ServerProcess | undefined;
  let stopped: string | undefined;
  const chosen = SCENARIOS.filter((s) =>
    (s.kinds ?? ["tcp"]).includes(kind) &&
    s.name.toLowerCase().includes(config.only?.toLowerCase() ?? "")
  );
  for (const scenario of chosen) {
    const left = deadline - Date.now();
    if (stopped === undefined && left <= 0) stopped = "the time limit ran out";
    if (stopped !== undefined) {
      results.push(unrun(runtime, kind, scenario, stopped));
      continue;
    }
    if (server === undefined || server.exit !== undefined) {
      await server?.stop();
      try {
        server = await ServerProcess.start(runtime, config, kind);
      } catch (error) {
        stopped = (error as Error).message;
        results.push(unrun(runtime, kind, scenario, stopped, true));
        continue;
      }
    }
    config.onProgress?.(`${runtime} ${kind}: ${scenario.name}`);
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
 * Runs every scenario against each runtime and socket kind in turn and
 * returns one result per scenario, socket kind and runtime.
 *
 * @param config What to attack, how hard, and for how long.
 * @returns The results, in the order run.
 */
export async function runAttack(config: AttackConfig): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const runtime of config.runtimes) {
    for (const kind of config.kinds) results.push(...await attackKind(runtime, kind, config));
  }
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
  const rows = [
    ["scenario", "socket", "next ms", "after ms", "fds", "RSS MiB before/peak/after", "verdict"],
  ];
  for (const r of results) {
    rows.push([
      r.scenario,
      r.kind,
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
    for (const note of r.notes) lines.push(`  ${r.scenario} (${r.kind}): ${note}`);
    for (const problem of r.problems) lines.push(`  ${r.scenario} (${r.kind}): FAIL: ${problem}`);
  }
  return lines.join("\n");
}

// A comma-separated list of `allowed` words, or one of the `aliases`.
function wordList<T extends string>(
  option: string,
  text: string,
  allowed: readonly T[],
  aliases: Record<string, T[]> = {},
): T[] {
  const words = aliases[text] ?? text.split(",").map((word) => word.trim());
  const wrong = words.find((word) => !(allowed as readonly string[]).includes(word));
  if (wrong !== undefined || words.length === 0) {
    const names = [...allowed, ...Object.keys(aliases)].join(", ");
    throw new TypeError(`${option} takes a comma-separated list of ${names}; got ${text}`);
  }
  return [...new Set(words as T[])];
}

// The executable of the runtime running this script is at hand; the others are looked up on PATH.
function ownExecutable(runtime: Runtime): string {
  const running = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
  return running === runtime ? process.execPath : runtime;
}

/**
 * Reads the command line of `tools/attack.ts` (see the module documentation).
 *
 * @param args The arguments, without the script's name.
 * @returns What to attack.
 * @throws {TypeError} On an unknown runtime or socket kind.
 * @throws {RangeError} On a timeout that is not a positive number.
 */
export function parseConfig(args: string[]): AttackConfig {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      runtime: { type: "string", default: "both" },
      sockets: { type: "string", default: "tcp" },
      tls: { type: "boolean", default: false },
      unix: { type: "boolean", default: false },
      only: { type: "string" },
      timeout: { type: "string" },
      deno: { type: "string", default: ownExecutable("deno") },
      bun: { type: "string", default: ownExecutable("bun") },
      node: { type: "string", default: ownExecutable("node") },
      "idle-timeout": { type: "string", default: "1000" },
      "handler-timeout": { type: "string", default: "3000" },
    },
  });
  const runtimes = wordList("--runtime", values.runtime, RUNTIMES, {
    both: ["deno", "bun"],
    all: RUNTIMES,
  });
  const kinds = wordList("--sockets", values.sockets, SOCKET_KINDS);
  if (values.tls) kinds.push("tls");
  if (values.unix) kinds.push("unix");
  const seconds = Number(values.timeout ?? (values.quick ? 150 : 900));
  if (!(seconds > 0)) throw new RangeError("--timeout must be a positive number of seconds");
  return {
    quick: values.quick,
    runtimes,
    kinds: SOCKET_KINDS.filter((kind) => kinds.includes(kind)),
    only: values.only,
    timeoutMs: seconds * 1000,
    executables: { deno: values.deno, bun: values.bun, node: values.node },
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
