/**
 * The oneline server: one client at a time, one line per command, zero or
 * more response lines per command.
 *
 * @module
 */

import { TimeoutError } from "./errors.ts";
import { nextRetryMs } from "./_util/retry.ts";
import { CallLimit } from "./_util/call_limit.ts";
import { sleep } from "./_util/clock.ts";
import { describe } from "./_util/describe.ts";
import { Session } from "./_server/session.ts";
import type { SessionObserver } from "./_server/session.ts";
import { checkServeOptions } from "./_server/serve_options.ts";
import { serverSettings } from "./_server/server_settings.ts";
import type { ClientInfo, ServeOptions, ServerHooks } from "./_server/serve_options.ts";
import type { ServerSettings } from "./_server/server_settings.ts";
import { ServerTally } from "./_server/stats.ts";
import type { ServerStats } from "./_server/stats.ts";
import { formatAddress } from "./transport.ts";
import { runtimeTransport } from "./runtime.ts";
import type { Address, Connection, Listener } from "./transport.ts";

export type {
  BytesHandler,
  Handler,
  HandlerContext,
  HandlerResult,
  ResponseLine,
} from "./handler.ts";
export type { SessionEnd as DisconnectReason } from "./_server/session.ts";
export type { ClientInfo, Logger, ServeOptions, ServerHooks } from "./_server/serve_options.ts";
export type { ServerStats } from "./_server/stats.ts";

/**
 * Where a server is: `"running"` serves clients; `"draining"` after
 * {@linkcode OnelineServer.shutdown} lets the current command finish;
 * `"stopped"` after {@linkcode OnelineServer.close} closes everything (and
 * {@linkcode OnelineServer.finished} tells when it has).
 */
type ServerStatus = "running" | "draining" | "stopped";

/**
 * A running server, as returned by {@linkcode serve}.
 *
 * @example Start, inspect and stop
 * ```ts
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({ port: 0, logger: null, handler: () => "ok" });
 * assert.ok((server.port ?? 0) > 0); // port 0 asks for any free port; a Unix socket has none
 * assert.equal(server.running, true);
 * await server.close();
 * assert.equal(server.running, false);
 * ```
 */
export class OnelineServer implements AsyncDisposable {
  /** The bound address; with port 0, the port actually taken. */
  readonly addr: Address;
  /** Resolves once the server has stopped, by `shutdown` or {@linkcode close}. */
  readonly finished: Promise<void>;
  readonly #listener: Listener;
  readonly #settings: ServerSettings;
  // The counts; the current client's commands are added when its turn ends.
  readonly #tally: ServerTally;
  #status: ServerStatus = "running";
  // Aborted by close(): a back-off or a connection check under way ends at once.
  readonly #stopper = new AbortController();
  // The client whose turn it is, and its session.
  #turn: { client: ClientInfo; session: Session } | undefined;
  // Sessions the server has ended whose connections are still closing politely.
  readonly #closing = new Set<Session>();

  /**
   * Use {@linkcode serve}, which checks the options and binds first.
   *
   * @ignore
   * @param listener The bound listener.
   * @param settings The checked options, with their defaults.
   * @param tally The counts, which the listener adds its refusals to.
   */
  constructor(listener: Listener, settings: ServerSettings, tally: ServerTally) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#settings = settings;
    this.#tally = tally;
    this.finished = this.#acceptLoop();
  }

  /**
   * The bound TCP port.
   *
   * @returns The port, or `undefined` for a Unix socket.
   */
  get port(): number | undefined {
    return this.addr.transport === "tcp" ? this.addr.port : undefined;
  }

  /**
   * Whether the server is still listening.
   *
   * @returns `false` once it has been shut down or closed.
   */
  get running(): boolean {
    return this.#status === "running";
  }

  /**
   * The client whose turn it is.
   *
   * @returns The client, or `undefined` while no client is served.
   */
  get current(): ClientInfo | undefined {
    return this.#turn?.client;
  }

  /**
   * How many clients wait for their turn (TLS handshakes under way included).
   * A client that leaves while it waits stops counting at once.
   *
   * @returns The count; 0 when the transport cannot tell.
   */
  get waiting(): number {
    return this.#listener.waiting ?? 0;
  }

  /**
   * Counts since the server started.
   *
   * @returns A snapshot of the counts.
   */
  get stats(): ServerStats {
    const counts = this.#tally.counts;
    return { ...counts, commands: counts.commands + (this.#turn?.session.commands ?? 0) };
  }

  /**
   * Stops the server gracefully: stops listening (clients still waiting are
   * closed), lets the current client's command under way finish and its
   * answers go out, then closes that connection politely. Commands the
   * client sent after it are not served. A handler that never settles keeps
   * it waiting, unless `handlerTimeout` is set: call {@linkcode close} to cut
   * it off. Safe to call more than once.
   *
   * A handler may call it, and await it: while a handler runs, the promise
   * does not wait for that command (which may be the caller), only for the
   * listener and the waiting clients to be closed; the command's answer
   * then goes out and the server stops, as {@linkcode finished} tells.
   *
   * @returns A promise that resolves once the server has stopped (while a
   *   handler runs: once nothing but its command is left).
   */
  shutdown(): Promise<void> {
    if (this.#status === "running") {
      this.#status = "draining";
      this.#listener.close();
      this.#turn?.session.finish();
    }
    // Closing the listener again returns the same promise.
    return this.#turn?.session.handling ? this.#listener.close() : this.finished;
  }

  /**
   * Stops the server at once: closes the current connection and the
   * listener. A handler still running is abandoned (its `signal` is
   * aborted). Safe to call more than once, also during {@linkcode shutdown}.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  close(): Promise<void> {
    if (this.#status !== "stopped") {
      this.#status = "stopped";
      this.#stopper.abort();
      this.#listener.close();
      this.#turn?.session.stop("stopped");
      for (const session of this.#closing) session.stop("stopped");
    }
    return this.finished;
  }

  /**
   * Closes the server, for `await using`.
   *
   * @returns A promise that resolves once the server has stopped.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #acceptLoop(): Promise<void> {
    let retryMs = 0;
    while (this.running) {
      let connection: Connection | null;
      try {
        connection = await this.#listener.accept();
        retryMs = 0;
      } catch (error) {
        // Such as running out of file descriptors: logged once, then back off, doubling.
        if (retryMs === 0) this.#settings.session.logError("accept failed; backing off", error);
        this.#failed(error, undefined);
        retryMs = nextRetryMs(retryMs);
        await sleep(this.#settings.session.clock, retryMs, this.#stopper.signal);
        continue;
      }
      if (connection === null) break;
      try {
        await this.#serve(connection);
      } catch (error) {
        // Nothing a client does may stop the server: whatever escaped ends that connection only.
        this.#settings.session.logError("a connection failed", error);
        this.#failed(error, this.#turn?.client);
        this.#turn = undefined;
        try {
          connection.close();
        } catch {
          // Its transport failed to close it; nothing more can be done with it.
        }
      }
    }
    await this.#listener.close();
    // Stopped means every connection closed, those still closing politely too.
    await Promise.all([...this.#closing].map((session) => session.closed));
    this.#settings.session.log("stopped");
  }

  // Calls a hook; one that throws is logged, and changes nothing else.
  #call<K extends keyof ServerHooks>(
    name: K,
    ...args: Parameters<NonNullable<ServerHooks[K]>>
  ): void {
    const hook = this.#settings.hooks[name] as ((...args: unknown[]) => void) | undefined;
    if (hook === undefined) return;
    try {
      hook(...args);
    } catch (error) {
      this.#settings.session.logError(`the ${name} hook failed`, error);
    }
  }

  #failed(error: unknown, client: ClientInfo | undefined): void {
    this.#tally.counts.errors++;
    this.#call("error", error, client);
  }

  // What a session tells the server about its client.
  #observe(client: ClientInfo): SessionObserver {
    const observer: SessionObserver = { failed: (error) => this.#failed(error, client) };
    if (this.#settings.hooks.command !== undefined) {
      observer.command = (command, builtin) => this.#call("command", command, client, builtin);
    }
    return observer;
  }

  async #serve(connection: Connection): Promise<void> {
    const { log, verbose } = this.#settings.session;
    const counts = this.#tally.counts;
    this.#tally.endStretch();
    const admitted = await this.#admit(connection);
    if (!admitted) counts.refused++;
    if (!admitted || !this.running) {
      connection.close();
      return;
    }
    const client: ClientInfo = {
      id: ++counts.connections,
      remoteAddr: connection.remoteAddr,
      since: Date.now(),
    };
    const session = new Session(connection, this.#settings.session, this.#observe(client));
    this.#turn = { client, session };
    if (verbose) log(`${session.peer} connected`);
    this.#call("connect", client);
    const end = await session.run();
    this.#turn = undefined;
    counts.commands += session.commands;
    this.#call("disconnect", client, end);
    if (verbose) log(`${session.peer} ${end === "closed" ? "closed" : `ended: ${end}`}`);
    // Serving the next client does not wait for this one's polite close.
    this.#closing.add(session);
    session.closed.then(() => this.#closing.delete(session));
    if (end === "shutdown") {
      log("shutdown requested");
      // Closing at once could reset the connection before the client has read every answer.
      await session.closed;
      this.close();
    }
  }

  async #admit(connection: Connection): Promise<boolean> {
    const { acceptConnection, acceptConnectionTimeout: ms } = this.#settings;
    if (acceptConnection === undefined) return true;
    const peer = formatAddress(connection.remoteAddr);
    const stopper = this.#stopper.signal;
    let admitted: unknown;
    // A server that stops does not wait for the check.
    const limit = new CallLimit(
      ms,
      [stopper],
      () => new TimeoutError(`the check took over ${ms} ms`, ms),
      this.#settings.session.clock,
    );
    try {
      admitted = await limit.wait(
        Promise.resolve(acceptConnection(connection.remoteAddr)),
        "check",
      );
    } catch (error) {
      if (!stopper.aborted) {
        this.#settings.session.logError(`connection check failed for ${peer}; refused`, error);
      }
      return false;
    } finally {
      limit.dispose();
    }
    if (typeof admitted !== "boolean") {
      this.#settings.session.logError(
        `connection check for ${peer} returned ${describe(admitted)}, not a boolean; refused`,
        new TypeError("acceptConnection must return true or false"),
      );
      return false;
    }
    if (!admitted) this.#settings.session.log(`refused connection from ${peer}`);
    return admitted;
  }
}

/**
 * Starts a oneline server and resolves once it is listening.
 *
 * The server answers the built-ins itself (`ping` → `pong`; `disconnect`
 * closes the connection; `shutdown` closes it and stops the server) and hands
 * every other line to `handler`. It serves one client at a time: the next
 * connection is accepted only when the current one ends.
 *
 * @param options The handler, where to listen, and how to behave.
 * @returns The running server.
 * @throws {TypeError} When an option has the wrong type (such as no handler),
 *   is not an option (a misspelt name), or `path` comes with `hostname`, `port` or `tls`.
 * @throws {RangeError} When the port or line cap is out of range.
 * @throws {AddressInUseError} When the address is already taken.
 *
 * @example A server that acknowledges `cmd01`
 * ```ts
 * import { connect } from "./client.ts";
 * import { serve } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({
 *   port: 0,
 *   handler: (command, context) => {
 *     if (context.invalid) return "nak - invalid cmd";
 *     return command === "cmd01" ? "ack" : "nak - unknown cmd";
 *   },
 * });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("cmd01"), "ack");
 * assert.equal(await client.request("cmd02"), "nak - unknown cmd");
 * assert.equal(await client.request("ping"), "pong"); // built-ins never reach the handler
 * ```
 */
export async function serve(options: ServeOptions): Promise<OnelineServer> {
  checkServeOptions(options);
  options.signal?.throwIfAborted();
  const transport = options.transport ?? await runtimeTransport();
  const settings = serverSettings(options);
  const { log, closeTimeout } = settings.session;
  const tally = new ServerTally(settings.maxWaiting, log);
  const listener = await transport.listen(settings.endpoint, {
    maxWaiting: settings.maxWaiting,
    handshakeTimeout: settings.handshakeTimeout,
    closeTimeout,
    onRefused: () => tally.queueFull(),
  });
  if (options.signal?.aborted) {
    // Aborted while it was binding: it never serves.
    await listener.close();
    options.signal.throwIfAborted();
  }
  const server = new OnelineServer(listener, settings, tally);
  const signal = options.signal;
  if (signal) {
    const onAbort = () => server.close();
    signal.addEventListener("abort", onAbort, { once: true });
    server.finished.then(() => signal.removeEventListener("abort", onAbort));
  }
  log(`listening on ${formatAddress(server.addr)}`);
  return server;
}
