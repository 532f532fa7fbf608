/**
 * The attacker's side of `tools/attack.ts`: sockets to the server under
 * attack (TCP, TLS or Unix), polite clients that measure how soon they are
 * served, and what a scenario is. Uses only `node:` modules, so it runs on
 * Deno, Bun and Node.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";

/** A polite client not served within this (milliseconds) is a failure. */
export const PROBE_MS = 5000;
/** A connection (or TLS handshake) not made within this (milliseconds) counts as failed. */
export const CONNECT_MS = 3000;
// Connections opened at once by the crowd scenarios.
const CONCURRENCY = 200;
// Between polite clients that were refused.
const RETRY_MS = 50;
/** The server's `maxWaiting`, as `tools/attack.ts` starts it. */
export const MAX_WAITING = 1024;
/** The server's `handshakeTimeout`, as `tools/attack.ts` starts it. */
export const HANDSHAKE_MS = 2000;
const TESTDATA = new URL("../testdata/", import.meta.url);

/** The kind of socket the server listens on: TCP, TLS over TCP, or a Unix socket. */
export type SocketKind = "tcp" | "tls" | "unix";

/** Where the server listens. */
export type Target = { kind: "tcp" | "tls"; port: number } | { kind: "unix"; path: string };

/** The server's settings a scenario may need. */
export interface ScenarioConfig {
  /** The server's `idleTimeout`, in milliseconds. */
  idleTimeoutMs: number;
  /** The server's `handlerTimeout`, in milliseconds. */
  handlerTimeoutMs: number;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `work`, or `late()` once `ms` have passed first; leaves no timer behind. */
export async function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(late()), ms));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the scenario's clients connect, and every socket they opened. */
export class Attack {
  /** The server's address. */
  readonly target: Target;
  readonly #sockets = new Set<net.Socket>();
  // Sockets we closed ourselves; any other close came from the server.
  readonly #ours = new WeakSet<net.Socket>();
  readonly #closedByServer = new WeakSet<net.Socket>();
  // The TCP socket under each TLS socket, which a reset resets.
  readonly #under = new WeakMap<net.Socket, net.Socket>();
  #ca: string | undefined;
  #stopped = false;
  /** Why connections failed (an error code, "closed", or a timeout), and how many times. */
  readonly failures = new Map<string, number>();

  /** @param target The server's address. */
  constructor(target: Target) {
    this.target = target;
  }

  /**
   * Connects (TLS when the target speaks it and `plain` is not set, over a
   * TCP socket of our own so that {@linkcode reset} can reset it); resolves
   * once connected (TLS: handshake done), or `null` when that fails or takes
   * longer than CONNECT_MS, counting why in {@linkcode failures}. The socket
   * flows (what comes is dropped, so that the server's end of stream is
   * seen) unless `paused`: then it is never resumed, which leaves most of
   * what the server sends in the kernel (the runtimes still read some ahead:
   * Deno and Node 64 KiB, Bun all there is).
   */
  connect(
    { plain = false, paused = false }: { plain?: boolean; paused?: boolean } = {},
  ): Promise<net.Socket | null> {
    if (this.#stopped) return Promise.resolve(null);
    const target = this.target;
    const secure = target.kind === "tls" && !plain;
    const raw = target.kind === "unix"
      ? net.connect({ path: target.path })
      : net.connect({ host: "127.0.0.1", port: target.port });
    let socket = raw;
    if (secure) {
      this.#ca ??= fs.readFileSync(new URL("ca.pem", TESTDATA), "utf8");
      raw.on("error", () => {});
      socket = tls.connect({ socket: raw, ca: this.#ca, servername: "localhost" });
      this.#under.set(socket, raw);
    }
    this.#track(socket, paused);
    return new Promise((resolve) => {
      let why = "closed";
      const timer = setTimeout(() => done(false, `not within ${CONNECT_MS} ms`), CONNECT_MS);
      const done = (connected: boolean, reason = why) => {
        clearTimeout(timer);
        socket.off("close", onClose);
        socket.off("error", onError);
        if (!connected) {
          this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
          this.destroy(socket);
        }
        resolve(connected ? socket : null);
      };
      const onClose = () => done(false);
      const onError = (error: NodeJS.ErrnoException) => why = error.code ?? error.message;
      socket.once("close", onClose);
      socket.on("error", onError);
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
      const opened = await Promise.all(
        Array.from({ length: batch }, () => this.connect({ plain })),
      );
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

  // Watches how the socket ends. It flows (its data dropped) unless `paused`, so that an end of
  // stream from the server is seen.
  #track(socket: net.Socket, paused: boolean): void {
    this.#sockets.add(socket);
    if (!paused) socket.resume();
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

  /**
   * Resets the connection: a TCP socket (under TLS too) sends an RST. A Unix
   * socket has no reset: it is closed, which the server reads as a reset
   * (ECONNRESET) only when answers we never read are left behind.
   */
  reset(socket: net.Socket): void {
    this.#ours.add(socket);
    const tcp = this.target.kind === "unix" ? undefined : this.#under.get(socket) ?? socket;
    if (tcp !== undefined && !tcp.destroyed) tcp.resetAndDestroy();
    this.destroy(socket);
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
    this.#under.get(socket)?.destroy();
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

  /**
   * Polite clients one after the other until one is served (a refused one
   * is closed at once: the next tries RETRY_MS later); resolves with the
   * milliseconds until then, or `null` when none was within `ms`.
   */
  async servedWithin(ms = PROBE_MS): Promise<number | null> {
    const started = performance.now();
    for (let left = ms; left > 0; left = ms - (performance.now() - started)) {
      if (await this.politeClient(left) !== null) return performance.now() - started;
      await delay(RETRY_MS);
    }
    return null;
  }

  /** Connects and says `ping`; resolves once served (it holds the slot), or `null`. */
  async holdSlot(): Promise<net.Socket | null> {
    const socket = await this.connect();
    if (socket === null) return null;
    const served = await this.exchange(socket, "ping\n", "pong\n", PROBE_MS);
    return served ? socket : null;
  }

  /**
   * Waits its turn, sends `command` and resolves with the answer's first
   * line (without its LF), or `null` when there is none within `ms`; then
   * leaves.
   */
  async ask(command: string, ms = PROBE_MS): Promise<string | null> {
    const socket = await this.connect();
    if (socket === null) return null;
    const received = recorder(socket);
    const answered = await this.exchange(socket, `${command}\n`, "\n", ms);
    await this.leave(socket);
    this.destroy(socket);
    return answered ? received().split("\n")[0] : null;
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

/** What a scenario observed besides the harness's own measurements. */
export interface Outcome {
  /** Milliseconds until a polite client was served during or right after the attack. */
  nextMs?: number | null;
  /** The bound `nextMs` was held to, when not PROBE_MS. */
  boundMs?: number;
  /** Why the attack could not be made as meant: unless the server failed, it was "not run". */
  notMade?: string;
  /** What it saw. */
  notes: string[];
  /** Why it failed. */
  problems: string[];
}

/** An attack, run against a fresh or reused server. */
export interface Scenario {
  /** Its name in the table. */
  name: string;
  /** The kinds of socket it runs on, each chosen by the command line (default: TCP only). */
  kinds?: SocketKind[];
  /** The scenario's size with --quick, and without. */
  size: [quick: number, full: number];
  /** The most the server's RSS may grow during it, in MiB, when that is its point. */
  maxRssGrowthMiB?: number;
  /** Runs it and says what it saw. */
  run(attack: Attack, size: number, config: ScenarioConfig): Promise<Outcome>;
}

/**
 * Keeps what the server sends on `socket`, from now on.
 *
 * @param socket A socket that flows (not paused).
 * @returns What came so far, as Latin-1 text (one character per byte).
 */
export function recorder(socket: net.Socket): () => string {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString("latin1");
}

/** An outcome with `nextMs` and notes, and no problem yet. */
export function observed(nextMs: number | null | undefined, ...notes: string[]): Outcome {
  return { nextMs, notes, problems: [] };
}

/** How many of `sockets` the server closed. */
export function closedCount(sockets: net.Socket[], attack: Attack): number {
  return sockets.filter((socket) => attack.closedByServer(socket)).length;
}
