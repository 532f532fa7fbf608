/**
 * A bounded soak of the oneline server: many short connections, then a long
 * pipelined stream over one connection, checking every answer, their order,
 * and that no file descriptor is left behind. Runs on Deno and on Bun:
 *
 * ```sh
 * deno task soak                    # 10,000 cycles, 1,000,000 commands
 * deno task soak --quick            # 500 cycles, 50,000 commands
 * bun run tools/soak.ts --cycles 2000 --commands 200000 --window 512 --timeout 60
 * ```
 *
 * `--timeout` is the limit of the whole soak in seconds (300, or 60 with
 * `--quick`). Exits 0 when everything was answered, in order, with no
 * descriptor growth; 1 on any loss, reorder, descriptor growth, error or
 * timeout.
 *
 * @module
 */

import * as fs from "node:fs";
import * as net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";
import { connect, serve } from "../mod.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /** Connect + command + disconnect cycles of phase 1. */
  cycles: number;
  /** Pipelined commands of phase 2, over one connection. */
  commands: number;
  /**
   * Most commands of phase 2 sent and not yet answered.
   *
   * @default {1024}
   */
  window?: number;
  /**
   * Milliseconds the whole soak may take; a phase still running then fails
   * the soak with a message naming it.
   *
   * @default {300000}
   */
  timeoutMs?: number;
  /**
   * Every how many cycles phase 1 goes through the module's own client
   * (handshake, request, disconnect) instead of a raw socket; 0 for never.
   *
   * @default {10}
   */
  clientEvery?: number;
  /**
   * Answers the server's commands instead of the correct `n <k>` → `<k>`: a
   * faulty server, to check that the soak notices.
   */
  handler?: (command: string) => string | undefined;
  /** Told what is being run, then about progress, about ten times per phase. */
  onProgress?: (message: string) => void;
}

/** Counts and timing of one phase. */
export interface PhaseResult {
  /** Cycles or commands to go through. */
  planned: number;
  /** Those answered correctly, in order. */
  answered: number;
  /** Wall time, in seconds. */
  seconds: number;
  /** `answered / seconds`. */
  perSecond: number;
}

/** What {@linkcode runSoak} found. */
export interface SoakResult {
  /** `true` when there are no errors. */
  ok: boolean;
  /** Phase 1: connect + command + disconnect cycles. */
  cycles: PhaseResult;
  /** Phase 2: pipelined commands over one connection. */
  commands: PhaseResult & {
    /** Whether every answer received matched its command: none lost, none reordered. */
    inOrder: boolean;
  };
  /**
   * Open descriptors other than Unix-domain sockets, before and after (they
   * must not grow); `null` where `/proc/self/fd` is missing.
   */
  fds: { before: number | null; after: number | null };
  /** Open Unix-domain sockets before and after, opened by the runtime itself; not checked. */
  unixSockets: { before: number | null; after: number | null };
  /** Resident set size, in bytes, before and after. */
  rss: { before: number; after: number };
  /** Wall time of the whole soak, in seconds. */
  seconds: number;
  /** What went wrong: losses, reorders, descriptor growth, failures, timeouts. */
  errors: string[];
}

// Phase 2 commands written per write: a quarter window keeps the pipe full
// without a write per answer.
const BATCH_FRACTION = 4;
// Closing is asynchronous on both runtimes: the last sockets may still be
// open for a moment after their close event. Longer than this is a leak.
const FD_SETTLE_MS = 2000;
// How long the server may take to stop at the end, so that a server that
// never stops fails the soak instead of hanging it.
const CLOSE_MS = 5000;
const LF = 10;
const ZERO = 48;

/** Open descriptors of this process, split into Unix-domain sockets and the rest. */
interface FdCount {
  /** Every descriptor but Unix-domain sockets: what the soak checks. */
  counted: number;
  /** Unix-domain sockets, reported only: the soak opens none (see below). */
  unix: number;
}

// Counts this process's descriptors (Linux), or `null` where /proc is missing.
// Unix-domain sockets are kept apart because Deno opens a socket pair of its
// own about half a second after start, even in an idle script; the soak only
// uses TCP, so every descriptor it or the server could leak (sockets, pipes,
// event fds) is in `counted`, which must not grow at all.
function countFds(): FdCount | null {
  let links: string[];
  let unixRows: string[];
  try {
    links = fs.readdirSync("/proc/self/fd").map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ""; // Closed between listing and reading (the listing's own fd).
      }
    }).filter((link) => link !== "");
    unixRows = fs.readFileSync("/proc/self/net/unix", "utf8").split("\n").slice(1);
  } catch {
    return null;
  }
  const unixInodes = new Set(unixRows.map((row) => row.trim().split(/\s+/)[6]));
  const unix = links.filter((link) => unixInodes.has(link.match(/^socket:\[(\d+)\]$/)?.[1] ?? ""))
    .length;
  return { counted: links.length - unix, unix };
}

// Polls until the counted descriptors are back to `baseline` or FD_SETTLE_MS
// passes, and returns the last count.
async function settledFds(baseline: FdCount | null): Promise<FdCount | null> {
  const deadline = Date.now() + FD_SETTLE_MS;
  let count = countFds();
  while (count && baseline && count.counted > baseline.counted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    count = countFds();
  }
  return count;
}

function runtimeName(): string {
  return "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "an unknown runtime";
}

function rate(count: number, seconds: number): number {
  return seconds > 0 ? Math.round(count / seconds) : 0;
}

// The server's handler: `n <k>` is answered with `<k>`, so the client can tell
// which command an answer belongs to.
function answer(command: string): string {
  return command.startsWith("n ") ? command.slice(2) : `nak - ${command}`;
}

// Opens a raw socket and resolves once connected; `signal` destroys it.
function rawConnect(port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const onAbort = () => socket.destroy(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("close", () => signal.removeEventListener("abort", onAbort));
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

// One raw cycle: `n <k>` and `disconnect` in one write; the answer must be
// exactly `<k>` and then the server must close. Resolves once the socket is
// fully closed, so its descriptor is gone.
async function rawCycle(port: number, k: number, signal: AbortSignal): Promise<void> {
  const socket = await rawConnect(port, signal);
  await new Promise<void>((resolve, reject) => {
    let received = "";
    let failure: Error | undefined;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => received += chunk);
    socket.on("error", (error) => failure = error);
    socket.on("close", () => {
      if (failure) reject(failure);
      else if (received !== `${k}\n`) {
        reject(new Error(`cycle ${k}: expected "${k}\\n", got ${JSON.stringify(received)}`));
      } else resolve();
    });
    socket.write(`n ${k}\ndisconnect\n`);
  });
}

// One cycle through the module's client: handshake, request, disconnect.
async function clientCycle(port: number, k: number): Promise<void> {
  const client = await connect({ port, timeout: 5000 });
  try {
    const got = await client.request(`n ${k}`);
    if (got !== `${k}`) throw new Error(`cycle ${k}: expected "${k}", got ${JSON.stringify(got)}`);
    await client.disconnect();
  } finally {
    client.close();
  }
}

interface Phase1State {
  done: number;
}

async function phase1(
  port: number,
  cycles: number,
  clientEvery: number,
  state: Phase1State,
  signal: AbortSignal,
  progress: (message: string) => void,
): Promise<void> {
  const step = Math.max(1, Math.ceil(cycles / 10));
  for (let k = 0; k < cycles; k++) {
    signal.throwIfAborted();
    if (clientEvery > 0 && k % clientEvery === clientEvery - 1) await clientCycle(port, k);
    else await rawCycle(port, k, signal);
    state.done = k + 1;
    if (state.done % step === 0) progress(`phase 1: ${state.done}/${cycles} cycles`);
  }
}

interface Phase2State {
  sent: number;
  answered: number;
  inOrder: boolean;
}

// Sends `commands` pipelined commands `n 0` … `n <commands-1>`, never more
// than `window` unanswered, and checks that answer i is exactly `i`. Answers
// are parsed from the bytes, without building strings, to keep the client
// out of the way of the server's speed. After the last answer it says
// `disconnect`; anything the server sends after that is an error.
function phase2(
  port: number,
  commands: number,
  window: number,
  state: Phase2State,
  signal: AbortSignal,
  progress: (message: string) => void,
): Promise<void> {
  const batch = Math.max(1, Math.floor(window / BATCH_FRACTION));
  const step = Math.max(1, Math.ceil(commands / 10));
  return rawConnect(port, signal).then((socket) =>
    new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      let value = 0;
      let digits = 0;
      let goodbyeSent = false;
      const fail = (message: string) => {
        if (failure) return;
        failure = new Error(message);
        socket.destroy();
      };
      const refill = () => {
        const free = Math.min(window - (state.sent - state.answered), commands - state.sent);
        if (free <= 0 || free < Math.min(batch, commands - state.sent)) return;
        let text = "";
        for (let i = 0; i < free; i++) text += `n ${state.sent + i}\n`;
        state.sent += free;
        socket.write(text);
      };
      socket.on("data", (chunk: Uint8Array) => {
        if (failure) return;
        for (let i = 0; i < chunk.length; i++) {
          const byte = chunk[i];
          if (byte === LF) {
            if (goodbyeSent || state.answered >= commands) {
              return fail(`an answer after the last of ${commands} commands`);
            }
            if (digits === 0 || value !== state.answered) {
              state.inOrder = false;
              return fail(
                `answer ${state.answered}: expected ${state.answered}, got ${
                  digits === 0 ? "an empty or non-numeric line" : value
                }`,
              );
            }
            state.answered++;
            if (state.answered % step === 0) {
              progress(`phase 2: ${state.answered}/${commands} commands`);
            }
            value = 0;
            digits = 0;
          } else if (byte >= ZERO && byte <= ZERO + 9) {
            value = value * 10 + byte - ZERO;
            digits++;
          } else {
            return fail(`answer ${state.answered}: unexpected byte ${byte}`);
          }
        }
        if (state.answered === commands && !goodbyeSent) {
          goodbyeSent = true;
          socket.write("disconnect\n");
        } else refill();
      });
      socket.on("error", (error) => failure ??= error);
      socket.on("close", () => {
        if (failure) reject(failure);
        else if (digits > 0) reject(new Error(`an unfinished answer after the last one`));
        else if (state.answered !== commands) {
          reject(new Error(`the server closed after ${state.answered} of ${commands} answers`));
        } else resolve();
      });
      if (commands === 0) {
        goodbyeSent = true;
        socket.write("disconnect\n");
      } else refill();
    })
  );
}

/**
 * Runs the soak against a server it starts on a free loopback port: phase 1
 * goes through `cycles` connect + `n <k>` + disconnect cycles, phase 2 sends
 * `commands` pipelined commands over one connection; every answer is checked,
 * and so are the order of answers and the open file descriptors before and
 * after (they must not grow). What went wrong is in
 * {@linkcode SoakResult.errors}.
 *
 * @example A short soak
 * ```ts
 * import { runSoak } from "./soak.ts";
 * import assert from "node:assert/strict";
 *
 * const result = await runSoak({ cycles: 20, commands: 1000 });
 * assert.equal(result.ok, true);
 * assert.equal(result.commands.answered, 1000);
 * ```
 *
 * @param options How much to do, and how long it may take.
 * @returns The counts, rates, descriptors, memory and errors.
 * @throws {RangeError} When a count, the window or the time limit is not an integer in range.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { cycles, commands } = options;
  const window = options.window ?? 1024;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const clientEvery = options.clientEvery ?? 10;
  const progress = options.onProgress ?? (() => {});
  for (
    const [name, value] of Object.entries({ cycles, commands, window, timeoutMs, clientEvery })
  ) {
    if (!Number.isSafeInteger(value) || value < 0 || (name === "window" && value < 1)) {
      throw new RangeError(
        `${name} must be a ${name === "window" ? "positive" : "non-negative"} integer`,
      );
    }
  }

  progress(`soak on ${runtimeName()}: ${cycles} cycles, ${commands} commands, window ${window}`);
  const errors: string[] = [];
  const fdsBefore = countFds();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const stop = new AbortController();
  const serverErrors: string[] = [];
  const server = await serve({
    port: 0,
    logger: {
      info() {},
      error: (message, error) => serverErrors.push(`server: ${message}: ${error}`),
    },
    handler: options.handler ?? answer,
  });
  const port = server.port!;

  // Runs one phase against what is left of the deadline; on timeout, aborts
  // it (destroying its sockets) and reports which phase hung and how far it got.
  const runPhase = async (name: string, body: Promise<void>, where: () => string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const left = timeoutMs - (performance.now() - started);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), Math.max(0, left));
    });
    try {
      await Promise.race([body, deadline]);
    } catch (error) {
      if (!stop.signal.aborted) {
        const message = (error as Error).message === "timeout"
          ? `${name} hung: ${where()} when the ${timeoutMs} ms limit ran out`
          : `${name} failed: ${(error as Error).message ?? error}`;
        errors.push(message);
        stop.abort();
      }
      body.catch(() => {}); // Settles after the abort; already reported.
    } finally {
      clearTimeout(timer);
    }
  };

  const p1: Phase1State = { done: 0 };
  const t1 = performance.now();
  await runPhase(
    "phase 1 (connect + command + disconnect)",
    phase1(port, cycles, clientEvery, p1, stop.signal, progress),
    () => `${p1.done} of ${cycles} cycles done`,
  );
  const s1 = (performance.now() - t1) / 1000;

  const p2: Phase2State = { sent: 0, answered: 0, inOrder: true };
  const t2 = performance.now();
  if (!stop.signal.aborted) {
    await runPhase(
      "phase 2 (pipelined commands)",
      phase2(port, commands, window, p2, stop.signal, progress),
      () => `${p2.answered} of ${commands} answered (${p2.sent} sent)`,
    );
  }
  const s2 = (performance.now() - t2) / 1000;

  stop.abort();
  let closeTimer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    server.close().then(() => true),
    new Promise<false>((resolve) => closeTimer = setTimeout(() => resolve(false), CLOSE_MS)),
  ]);
  clearTimeout(closeTimer);
  if (!stopped) errors.push(`the server did not stop within ${CLOSE_MS} ms of close()`);
  errors.push(...serverErrors);
  const fdsAfter = await settledFds(fdsBefore);
  if (fdsBefore && fdsAfter && fdsAfter.counted > fdsBefore.counted) {
    errors.push(`file descriptors grew from ${fdsBefore.counted} to ${fdsAfter.counted}`);
  }

  return {
    ok: errors.length === 0,
    cycles: { planned: cycles, answered: p1.done, seconds: s1, perSecond: rate(p1.done, s1) },
    commands: {
      planned: commands,
      answered: p2.answered,
      inOrder: p2.inOrder,
      seconds: s2,
      perSecond: rate(p2.answered, s2),
    },
    fds: { before: fdsBefore?.counted ?? null, after: fdsAfter?.counted ?? null },
    unixSockets: { before: fdsBefore?.unix ?? null, after: fdsAfter?.unix ?? null },
    rss: { before: rssBefore, after: process.memoryUsage().rss },
    seconds: (performance.now() - started) / 1000,
    errors,
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Formats a {@linkcode SoakResult} as the lines the command line prints.
 *
 * @param result What {@linkcode runSoak} returned.
 * @returns The summary, one item per line.
 */
export function formatSummary(result: SoakResult): string {
  const { cycles: c, commands: m, fds, unixSockets: unix, rss } = result;
  const lines = [
    `cycles:   ${c.answered}/${c.planned} in ${c.seconds.toFixed(2)} s (${c.perSecond} cycles/s)`,
    `commands: ${m.answered}/${m.planned} in ${
      m.seconds.toFixed(2)
    } s (${m.perSecond} commands/s), ${m.inOrder ? "in order" : "OUT OF ORDER"}`,
    `fds:      ${fds.before ?? "n/a"} before, ${fds.after ?? "n/a"} after` +
    ` (not counting the runtime's Unix sockets: ${unix.before ?? "n/a"} before, ${
      unix.after ?? "n/a"
    } after)`,
    `rss:      ${mib(rss.before)} before, ${mib(rss.after)} after`,
    `total:    ${result.seconds.toFixed(2)} s`,
    ...result.errors.map((error) => `error:    ${error}`),
    result.ok ? "soak passed" : "soak FAILED",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: "boolean", default: false },
      cycles: { type: "string" },
      commands: { type: "string" },
      window: { type: "string" },
      timeout: { type: "string" }, // seconds
    },
  });
  const number = (text: string | undefined, fallback: number) =>
    text === undefined ? fallback : Number(text);
  const options: SoakOptions = {
    cycles: number(values.cycles, values.quick ? 500 : 10_000),
    commands: number(values.commands, values.quick ? 50_000 : 1_000_000),
    window: number(values.window, 1024),
    timeoutMs: Math.round(number(values.timeout, values.quick ? 60 : 300) * 1000),
    onProgress: (message) => console.log(message),
  };
  const result = await runSoak(options);
  console.log(formatSummary(result));
  // Exit explicitly: after a timeout, an aborted phase may still hold a handle.
  process.exit(result.ok ? 0 : 1);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`soak FAILED: ${(error as Error).message ?? error}`);
    process.exit(1);
  });
}
