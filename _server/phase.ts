/**
 * The phases of a session, and the moves between them, written down once.
 *
 * @module
 */

import type { Timer } from "../_util/clock.ts";

/**
 * Why a client's turn ended: it closed or vanished (`"closed"`), it sent
 * `disconnect` or `shutdown`, it made no progress for `idleTimeout`
 * (`"idle"`), its handler ran out of `handlerTimeout`, it sent a line over the
 * cap under `lineTooLong: "close"`, the server was closed (`"stopped"`), or
 * the server's `shutdown()` let its command finish (`"server shutdown"`).
 */
export type SessionEnd =
  | "closed"
  | "disconnect"
  | "shutdown"
  | "idle"
  | "handler timeout"
  | "line too long"
  | "stopped"
  | "server shutdown";

/**
 * What a session does, one phase at a time:
 *
 * - `new`: not run yet;
 * - `reading`: waits for the client's next bytes, with no command under way;
 * - `serving`: serves the lines of a read (built-ins, synchronous handlers)
 *   and writes their answers;
 * - `calling`: the handler's synchronous part runs;
 * - `handling`: an async handler runs: its sends go out at once, and the
 *   connection is watched;
 * - `finishing`: `finish()` came while reading: the client has its end of
 *   stream, and until `timer` to close;
 * - `closing`: the exchange is over and the connection closes politely
 *   (`timer`: the one `finishing` set, if any);
 * - `ended`: the connection is closed, for `reason`.
 *
 * Each carries its moves as bits (see {@linkcode NEXT}), so that the check of
 * a move, made for every read and handler call, is one AND.
 */
export type Phase =
  & { readonly bit: number; readonly next: number }
  & (
    | { readonly name: "new" | "reading" | "serving" | "calling" | "handling" }
    | { readonly name: "finishing" | "closing"; readonly timer: Timer | undefined }
    | { readonly name: "ended"; readonly reason: SessionEnd }
  );

/** A phase's name. */
export type PhaseName = Phase["name"];

/**
 * The moves a session makes as it serves. Any phase may end (the session is
 * stopped, see {@linkcode ended}); `ended` is final.
 */
export const NEXT: Readonly<Record<PhaseName, readonly PhaseName[]>> = {
  new: ["reading", "closing"],
  reading: ["serving", "finishing"],
  finishing: ["closing"],
  serving: ["reading", "calling", "closing"],
  calling: ["serving", "handling"],
  handling: ["serving"],
  closing: [],
  ended: [],
};

const NAMES = Object.keys(NEXT) as PhaseName[];

const bitOf = (name: PhaseName) => 1 << NAMES.indexOf(name);

type Moves = { readonly bit: number; readonly next: number };

function movesOf(name: PhaseName): Moves {
  return { bit: bitOf(name), next: NEXT[name].reduce((next, to) => next | bitOf(to), 0) };
}

// Each phase's moves as bits, worked out once: the phases with data are made on every session's
// close.
const MOVES = Object.fromEntries(NAMES.map((name) => [name, movesOf(name)])) as Record<
  PhaseName,
  Moves
>;

// The phases without data, made once: a session moves between them for every read.
/** Not run yet. */
export const NEW: Phase = { name: "new", ...MOVES.new };
/** Waiting for the client. */
export const READING: Phase = { name: "reading", ...MOVES.reading };
/** Serving a read's lines. */
export const SERVING: Phase = { name: "serving", ...MOVES.serving };
/** The handler's synchronous part runs. */
export const CALLING: Phase = { name: "calling", ...MOVES.calling };
/** An async handler runs. */
export const HANDLING: Phase = { name: "handling", ...MOVES.handling };

/**
 * The phase after a move from `from` to `to`: `to`, or `from` once ended (a
 * stopped session still unwinds, and its moves change nothing).
 *
 * @param from The phase now.
 * @param to The phase to move to.
 * @returns The new phase.
 * @throws {Error} For a move {@linkcode NEXT} does not list: a bug.
 *
 * @example
 * ```ts
 * import { ended, move, NEW, READING, SERVING } from "./phase.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(move(NEW, READING), READING);
 * assert.throws(() => move(NEW, SERVING), /cannot move from new to serving/);
 * const stopped = ended("idle");
 * assert.equal(move(stopped, READING), stopped);
 * ```
 */
export function move(from: Phase, to: Phase): Phase {
  if ((from.next & to.bit) !== 0) return to;
  if (from.name === "ended") return from;
  throw new Error(`a session cannot move from ${from.name} to ${to.name}`);
}

/**
 * Finishing: `finish()` came while the session waited for the client.
 *
 * @param timer Closes the connection if the client has not left by then.
 * @returns The phase.
 */
export function finishing(timer: Timer): Phase {
  const { bit, next } = MOVES.finishing;
  return { name: "finishing", timer, bit, next };
}

/**
 * Closing politely, after the exchange.
 *
 * @param timer The timer `finishing` set, if the session was finishing.
 * @returns The phase.
 */
export function closing(timer: Timer | undefined): Phase {
  const { bit, next } = MOVES.closing;
  return { name: "closing", timer, bit, next };
}

/**
 * The final phase.
 *
 * @param reason Why the session ended.
 * @returns The phase.
 */
export function ended(reason: SessionEnd): Phase {
  const { bit, next } = MOVES.ended;
  return { name: "ended", reason, bit, next };
}
