/**
 * A server's counts, kept in one object that every path adds to.
 *
 * @module
 */

/**
 * Counts since the server started, from {@linkcode OnelineServer.stats}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "../server.ts";
 *
 * await using server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * assert.deepEqual(server.stats, { connections: 0, commands: 0, errors: 0, refused: 0 });
 * ```
 */
export interface ServerStats {
  /** Clients served (each had a turn). */
  connections: number;
  /** Commands received, built-ins included. */
  commands: number;
  /** Failed commands, and connections or accepts that failed. */
  errors: number;
  /** Connections refused: by `acceptConnection`, or because `maxWaiting` clients waited. */
  refused: number;
}

/**
 * The counts of one server, and the stretch of connections refused because
 * the queue was full, which is logged once when it starts and once, with
 * its count, when the next client is served.
 *
 * @example Usage
 * ```ts
 * import { ServerTally } from "./stats.ts";
 * import assert from "node:assert/strict";
 *
 * const messages: string[] = [];
 * const tally = new ServerTally(2, (message) => messages.push(message));
 * tally.queueFull();
 * tally.queueFull();
 * tally.counts.connections++;
 * tally.endStretch();
 * assert.deepEqual(tally.counts, { connections: 1, commands: 0, errors: 0, refused: 2 });
 * assert.deepEqual(messages, [
 *   "2 clients wait: refusing more",
 *   "refused 2 client(s) while the queue was full",
 * ]);
 * ```
 */
export class ServerTally {
  /** The counts, added to in place. */
  readonly counts: ServerStats = { connections: 0, commands: 0, errors: 0, refused: 0 };
  readonly #maxWaiting: number;
  readonly #log: (message: string) => void;
  // Connections refused at a full queue since the last client was served.
  #stretch = 0;

  /**
   * Starts counting.
   *
   * @param maxWaiting The most clients that wait, for the messages.
   * @param log Where the messages go.
   */
  constructor(maxWaiting: number, log: (message: string) => void) {
    this.#maxWaiting = maxWaiting;
    this.#log = log;
  }

  /** A connection came while `maxWaiting` clients waited, and was refused. */
  queueFull(): void {
    this.counts.refused++;
    if (this.#stretch++ === 0) this.#log(`${this.#maxWaiting} clients wait: refusing more`);
  }

  /** A client's turn comes: a stretch of refusals before it is over. */
  endStretch(): void {
    if (this.#stretch === 0) return;
    this.#log(`refused ${this.#stretch} client(s) while the queue was full`);
    this.#stretch = 0;
  }
}
