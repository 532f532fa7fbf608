/**
 * Scenarios of `tools/attack.ts` about clients that leave, each run on TCP,
 * TLS and Unix sockets: connect and close churn (must never count against
 * `maxWaiting`), a reset after overfilling what the server reads ahead of a
 * running handler (must free the slot at once), and half-closes (a client
 * that ends its side, served or waiting, still gets every answer, in order).
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  type Attack,
  delay,
  observed,
  type Outcome,
  PROBE_MS,
  recorder,
  type Scenario,
  type ScenarioConfig,
  type SocketKind,
} from "./attack_client.ts";

const EVERY_KIND: SocketKind[] = ["tcp", "tls", "unix"];
/** A polite client served within this (milliseconds) after a client left was served at once. */
export const AT_ONCE_MS = 500;
// A handler far longer than the handler timeout, so that only noticing the reset frees the slot
// sooner than that timeout.
const SLOW_MS = 60_000;
// Time for the server to read what it will of a connection before the client acts again.
const SETTLE_MS = 200;
// Churners gone may count as waiting this long (the server learns it by reading), no longer.
const WAITING_SETTLE_MS = 2000;

// ---------------------------------------------------------------------------
// Churn

// The server's counters, from `stats` (asked again while refused); `null` when it did not answer
// within PROBE_MS.
async function serverStats(attack: Attack): Promise<Record<string, number> | null> {
  const started = performance.now();
  let line: string | null = null;
  while (line === null && performance.now() - started < PROBE_MS) {
    line = await attack.ask("stats", PROBE_MS);
    if (line === null) await delay(SETTLE_MS / 4);
  }
  if (line === null) return null;
  return Object.fromEntries(
    line.split(" ").map((pair) => {
      const [name, value] = pair.split("=");
      return [name, Number(value)];
    }),
  );
}

// The server's counters once none waits (asked until then, for at most WAITING_SETTLE_MS), how
// long that took, and how many times they were asked (each asker had a turn).
async function settledStats(attack: Attack) {
  const started = performance.now();
  let stats = await serverStats(attack);
  let asked = 1;
  while (stats !== null && stats.waiting > 0 && performance.now() - started < WAITING_SETTLE_MS) {
    await delay(SETTLE_MS / 4);
    stats = await serverStats(attack);
    asked++;
  }
  return { stats, asked, ms: performance.now() - started };
}

// Why connections failed, as " (EAGAIN ×3, …)", or "" when none did.
function failures(attack: Attack): string {
  const reasons = [...attack.failures].map(([why, times]) => `${why} ×${times}`);
  return reasons.length === 0 ? "" : ` (${reasons.join(", ")})`;
}

// Holds `nextMs` to AT_ONCE_MS.
function servedAtOnce(outcome: Outcome): Outcome {
  if (outcome.nextMs != null && outcome.nextMs > AT_ONCE_MS) {
    outcome.problems.push(
      `the next client was served after ${outcome.nextMs.toFixed(0)} ms, over ${AT_ONCE_MS} ms`,
    );
  }
  return outcome;
}

/**
 * `size` connect and close cycles, as fast as the crowd connects, each
 * sending `ping` first when `ping` is set; then a polite client must be
 * served at once, none refused, and nothing left waiting (with `ping`: served
 * within PROBE_MS, once the churners owed an answer had their turns).
 */
async function churn(attack: Attack, size: number, ping: boolean): Promise<Outcome> {
  const before = await serverStats(attack);
  const started = performance.now();
  const { failed } = await attack.crowd(size, (socket) => {
    if (ping) socket.write("ping\n", () => attack.destroy(socket));
    else attack.destroy(socket);
  });
  const churnMs = performance.now() - started;
  // Tried again if its connect fails: right after a crowd, a Unix socket's listen backlog may
  // still be full (EAGAIN), which is the kernel's answer, not the server's.
  const result = observed(
    await attack.servedWithin(),
    `${size} cycles in ${churnMs.toFixed(0)} ms (${(size / churnMs * 1000).toFixed(0)}/s), ` +
      `${failed} not connected` + failures(attack),
  );
  const { stats: after, asked, ms: settledMs } = await settledStats(attack);
  // A Unix connect fails at once while the listen backlog is full (EAGAIN; Bun says
  // ECONNREFUSED): the crowd connects faster than the server accepts, a figure, not a fault.
  const backlogFull = attack.target.kind !== "unix"
    ? 0
    : (attack.failures.get("EAGAIN") ?? 0) + (attack.failures.get("ECONNREFUSED") ?? 0);
  if (failed > backlogFull) {
    result.problems.push(`${failed - backlogFull} churners were not connected`);
  }
  if (before === null || after === null) {
    result.problems.push("the server did not answer stats");
    return servedAtOnce(result);
  }
  // The probe and the stats clients after the first had a turn each: the rest were churners.
  const turns = after.connections - before.connections - 1 - asked;
  const refused = after.refused - before.refused;
  result.notes.push(
    `${turns} churners had a turn, ${refused} refused, ${after.waiting} waiting after ` +
      `${settledMs.toFixed(0)} ms`,
  );
  // A churner that sent `ping` is owed its answer (the server cannot tell its close from a
  // half-close): it waits, counts and is served, so refusals past maxWaiting and a polite client
  // served only after them are the protocol, not a fault.
  if (ping) return result;
  if (refused > 0) result.problems.push(`${refused} refused: churners counted as waiting`);
  if (after.waiting > 0) {
    result.problems.push(`${after.waiting} still counted as waiting ${WAITING_SETTLE_MS} ms on`);
  }
  return servedAtOnce(result);
}

// ---------------------------------------------------------------------------
// Reset after overfilling the read-ahead

const FILLER_LINE = `echo ${"x".repeat(1018)}\n`; // 1 KiB
// A Unix socket has no reset: closing one with bytes unread in its kernel buffer is one. Deno and
// Node read 64 KiB ahead of a paused socket, so an answer twice that is left half unread, all of
// it taken by the kernel (the server has nothing left to write that would tell it).
const UNREAD_BYTES = 128 * 1024;

/**
 * A client has `slow` run, sends `bytes` more in 1 KiB lines without
 * reading, and resets; the next client must be served at once, long before
 * the handler timeout. On a Unix socket it first asks for an answer of
 * UNREAD_BYTES that it does not read, so that its close is a reset.
 */
async function resetAfterOverfill(
  attack: Attack,
  bytes: number,
  config: ScenarioConfig,
): Promise<Outcome> {
  const unix = attack.target.kind === "unix";
  if (attack.target.kind === "tls" && config.serverRuntime === "deno") {
    return {
      ...observed(undefined),
      notMade: "Deno's node:tls reports a reset as an end of stream, which a server cannot tell " +
        "from a half-close (a documented difference, pinned by transport_contract_test.ts)",
    };
  }
  const socket = await attack.connect({ paused: true });
  if (socket === null) return observed(null, "the attacker could not connect");
  socket.write(`${unix ? `big ${UNREAD_BYTES}` : "echo pre"}\nslow ${SLOW_MS}\n`);
  socket.write(FILLER_LINE.repeat(bytes / FILLER_LINE.length));
  await delay(SETTLE_MS);
  const pending = socket.writableLength;
  const read = socket.bytesRead;
  attack.reset(socket);
  const result = observed(
    await attack.politeClient(),
    `reset with ${pending} bytes not yet taken by the kernel` +
      (unix ? `, ${read} of the ${UNREAD_BYTES + 1} bytes answered read` : ""),
  );
  if (unix && read > UNREAD_BYTES) {
    result.notMade = "the attacker's runtime read the whole answer (Bun reads ahead of a " +
      "paused socket): its close was no reset; run the attacker on Deno or Node";
    return result;
  }
  // The handler timeout counts from the command, SETTLE_MS before the reset.
  if (result.nextMs != null && result.nextMs >= config.handlerTimeoutMs - 2 * SETTLE_MS) {
    result.notes.push(
      `the slot was freed only by the handler timeout (${config.handlerTimeoutMs} ms)`,
    );
  }
  return servedAtOnce(result);
}

// ---------------------------------------------------------------------------
// Half-close

const SLOW_COMMANDS = ["echo b", "slow 300", "echo c"];
const SLOW_ANSWERS = ["echo:echo b", "done", "echo:echo c"];
const BIG_BYTES = 100_000;
const BIG_LINE = "x".repeat(BIG_BYTES);

// Where `received` (lines) first differs from `expected`, or `undefined` when it is the same.
function firstDifference(expected: string[], received: string): string | undefined {
  const lines = received.split("\n");
  const last = lines.pop();
  const complete = last === "";
  const same = expected.findIndex((line, i) => lines[i] !== line);
  if (same === -1 && complete && lines.length === expected.length) return undefined;
  const at = same === -1 ? expected.length : same;
  const got = lines[at] === undefined
    ? "nothing more"
    : `${JSON.stringify(lines[at].slice(0, 40))} (${lines[at].length} bytes)`;
  return `${at}/${expected.length} answers in order, then ${got}` +
    (complete ? "" : `, and ${last!.length} bytes of an unfinished line`);
}

// Sends `commands` and ends our side; returns what the server sends from now on.
function sendAndEnd(attack: Attack, socket: Socket, commands: string[]): () => string {
  const received = recorder(socket);
  socket.write(commands.map((command) => `${command}\n`).join(""));
  attack.end(socket);
  return received;
}

// Waits for the server's end of stream and checks that `answers` came before it, in order;
// `started` is when the client asked.
async function finished(
  attack: Attack,
  socket: Socket,
  received: () => string,
  answers: string[],
  started: number,
): Promise<Outcome> {
  const closed = await attack.whenClosedByServer(socket, PROBE_MS);
  const text = received();
  const result = observed(
    undefined,
    `${text.length} bytes` +
      (closed === null ? "" : ` in ${(performance.now() - started).toFixed(0)} ms`),
  );
  if (closed === null) result.problems.push(`not closed by the server within ${PROBE_MS} ms`);
  const difference = firstDifference(answers, text);
  if (difference !== undefined) result.problems.push(difference);
  return result;
}

/** A served client sends `commands`, ends its side, and must get `answers`, in order. */
async function halfClose(attack: Attack, commands: string[], answers: string[]) {
  const socket = await attack.connect();
  if (socket === null) return observed(null, "the client could not connect");
  const started = performance.now();
  return await finished(attack, socket, sendAndEnd(attack, socket, commands), answers, started);
}

/**
 * While another client holds the slot, a waiting client sends `commands`
 * and ends its side; once the holder leaves, it must get `answers`, in order.
 */
async function halfCloseWaiting(attack: Attack, commands: string[], answers: string[]) {
  const holder = await attack.holdSlot();
  if (holder === null) return observed(null, "the holder was not served");
  const socket = await attack.connect();
  if (socket === null) return observed(null, "the waiting client could not connect");
  const started = performance.now();
  const received = sendAndEnd(attack, socket, commands);
  await delay(SETTLE_MS);
  const early = received().length;
  await attack.leave(holder);
  const result = await finished(attack, socket, received, answers, started);
  if (early > 0) result.problems.push(`${early} bytes came before its turn`);
  return result;
}

// `count` distinct lines of 100 bytes with their answers.
function hundredByteLines(count: number): [string[], string[]] {
  const commands = Array.from({ length: count }, (_, i) => `echo ${String(i).padStart(94, "-")}`);
  return [commands, commands.map((command) => `echo:${command}`)];
}

/** The scenarios of this module, in the order they run. */
export const LEAVING_SCENARIOS: Scenario[] = [
  {
    name: "churn: connect, close",
    kinds: EVERY_KIND,
    size: [2000, 10_000],
    run: (attack, size) => churn(attack, size, false),
  },
  {
    name: "churn: connect, ping, close",
    kinds: EVERY_KIND,
    size: [2000, 10_000],
    run: (attack, size) => churn(attack, size, true),
  },
  {
    name: "slow, 8 KiB more, then RST",
    kinds: EVERY_KIND,
    size: [8 * 1024, 8 * 1024],
    run: resetAfterOverfill,
  },
  {
    name: "slow, 1 MiB more, then RST",
    kinds: EVERY_KIND,
    size: [1024 * 1024, 1024 * 1024],
    run: resetAfterOverfill,
  },
  {
    name: "half-close: echo, slow 300, echo",
    kinds: EVERY_KIND,
    size: [1, 1],
    run: (attack) => halfClose(attack, SLOW_COMMANDS, SLOW_ANSWERS),
  },
  {
    name: "half-close: 50 answers of 100 kB",
    kinds: EVERY_KIND,
    size: [50, 50],
    run: (attack, size) =>
      halfClose(attack, Array(size).fill(`big ${BIG_BYTES}`), Array(size).fill(BIG_LINE)),
  },
  {
    name: "half-close while waiting: echo, slow 300, echo",
    kinds: EVERY_KIND,
    size: [1, 1],
    run: (attack) => halfCloseWaiting(attack, SLOW_COMMANDS, SLOW_ANSWERS),
  },
  {
    name: "half-close while waiting: 1000 lines of 100 B",
    kinds: EVERY_KIND,
    size: [1000, 1000],
    run: (attack, size) => halfCloseWaiting(attack, ...hundredByteLines(size)),
  },
];
