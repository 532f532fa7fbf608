// The client's leaving: disconnect, shutdown and close, politely and within closeTimeout, and
// calls after the connection is gone; over an in-memory transport and over real sockets, against
// a peer that behaves like the original Python server too.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { connect } from "./client.ts";
import type { OnelineClient } from "./client.ts";
import { ConnectionClosedError, ServerBusyError, TimeoutError } from "./errors.ts";
import {
  assertSocketsClosed,
  connected,
  countingTimers,
  FakeServer,
  openSockets,
  settle,
  startServer,
  variedHandler,
  withClient,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

/**
 * A peer that behaves like the original Python server: it serves one
 * connection at a time, answers `ping`, closes on `disconnect`, and counts a
 * connection that ends without `disconnect` as a wedge (the original then
 * spins for good).
 */
class PythonLikePeer {
  readonly server: net.Server;
  wedges = 0;
  polite = 0;
  readonly #queue: net.Socket[] = [];
  #serving: net.Socket | undefined;
  readonly #idle: (() => void)[] = [];

  constructor() {
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => {
      socket.on("error", () => {});
      this.#queue.push(socket);
      this.#next();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves once no connection is served or waiting. */
  idle(): Promise<void> {
    if (this.#serving === undefined && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #next(): void {
    if (this.#serving !== undefined) return;
    const socket = this.#queue.shift();
    if (socket === undefined) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#serving = socket;
    let text = "";
    let saidDisconnect = false;
    const done = () => {
      if (this.#serving !== socket) return;
      if (!saidDisconnect) this.wedges++;
      this.#serving = undefined;
      socket.destroy();
      this.#next();
    };
    socket.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      for (let lf = text.indexOf("\n"); lf !== -1 && !saidDisconnect; lf = text.indexOf("\n")) {
        const line = text.slice(0, lf);
        text = text.slice(lf + 1);
        if (line === "ping") socket.write("pong\n");
        else if (line === "disconnect") {
          saidDisconnect = true;
          this.polite++;
          socket.end();
          done();
        } else socket.write(`echo:${line}\n`);
      }
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.#queue.splice(0)) socket.destroy();
    this.#serving?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function withPeer(body: (peer: PythonLikePeer, port: number) => Promise<void>) {
  const peer = new PythonLikePeer();
  const port = await peer.listen();
  try {
    await body(peer, port);
  } finally {
    await peer.close();
  }
}

describe("client over sockets: leaving", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-012 disconnect waits for the server to close, so the next client is served", async () => {
    await withClient({}, async (client, server) => {
      await client.disconnect();
      assert.equal(client.connected, false);
      const next = await connect({ port: server.port, timeout: 1000 });
      await next.ping();
      next.close();
    });
  });

  test("SRS-006 shutdown stops the server", async () => {
    await withClient({}, async (client, server) => {
      await client.shutdown();
      await server.finished;
      assert.equal(server.running, false);
      assert.equal(client.connected, false);
    });
  });

  test("SRS-024 operations after the server closed reject with ConnectionClosedError", async () => {
    await withClient({}, async (client, server) => {
      const pending = client.recv({ timeout: 5000 });
      await server.close();
      await assert.rejects(pending, ConnectionClosedError);
      assert.equal(client.connected, false);
      await assert.rejects(client.recv(), ConnectionClosedError);
      await assert.rejects(client.send("x"), ConnectionClosedError);
    });
  });

  test("SRS-024 close() rejects pending receives and is idempotent", async () => {
    await withClient({}, async (client) => {
      const pending = client.recv({ timeout: 5000 });
      client.close();
      client.close();
      await assert.rejects(pending, /closed by the client/);
    });
  });
});

describe("client over a fake transport: leaving", () => {
  test("SRS-078 disconnectOnClose: false leaves without a word", async () => {
    const { client, server } = await connected({ disconnectOnClose: false });
    server.end();
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\n");
  });

  test("SRS-006 shutdown() says shutdown and waits for the close", async () => {
    const { client, server } = await connected();
    const leaving = client.shutdown();
    await server.until(() => server.written.endsWith("shutdown\n"));
    server.end();
    await leaving;
    assert.equal(server.written, "ping\nshutdown\n");
  });

  test("SRS-012 disconnect() that times out rejects with the TimeoutError and still closes", async () => {
    const { client, server } = await connected();
    await assert.rejects(client.disconnect({ timeout: 20 }), TimeoutError);
    assert.equal(client.connected, false);
    server.end();
    await client[Symbol.asyncDispose]();
  });

  test("SRS-024 after the server closed, receives and sends reject naming that", async () => {
    const { client, server } = await connected();
    server.send("last\n");
    server.end();
    assert.equal(await client.recv(), "last");
    await assert.rejects(client.recv(), {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
    await assert.rejects(client.send("x"), {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
    assert.deepEqual(server.events, ["close"]);
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\n", "no disconnect to a server that is gone");
  });

  test("SRS-024 a write that fails is a ConnectionClosedError with the cause", async () => {
    const { client, server } = await connected();
    server.failWrites = true;
    await assert.rejects(client.send("x"), (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.message, "send failed: the connection is gone");
      assert.equal((error.cause as Error).message, "broken pipe");
      return true;
    });
    server.failWrites = false;
    await client.send("y");
    assert.equal(server.written, "ping\ny\n");
    server.end();
    await client[Symbol.asyncDispose]();
  });
});

describe("client over a fake transport: closing", () => {
  test("SRS-078 SRS-024 close() returns at once: pending and later calls reject; it says disconnect and ends its side", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({}, server);
    const pending = client.recv();
    const closedByClient = {
      name: "ConnectionClosedError",
      message: "the connection was closed by the client",
    };
    client.close();
    assert.equal(client.connected, false);
    await assert.rejects(pending, closedByClient);
    await assert.rejects(client.recv(), closedByClient);
    await assert.rejects(client.send("x"), closedByClient);
    await assert.rejects(client.query("x"), closedByClient);
    const took = performance.now();
    await client[Symbol.asyncDispose]();
    assert.ok(performance.now() - took < 900, "the server closed: no waiting out the second");
    assert.equal(server.written, "ping\ndisconnect\n");
    assert.equal(server.events[0], "closeWrite");
    assert.ok(server.events.includes("close"));
    await assert.rejects(client.recv(), closedByClient, "the server closing later changes nothing");
  });

  test("SRS-078 close() again, or await using after it, leaves only once", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({}, server);
    client.close();
    client.close();
    await client[Symbol.asyncDispose]();
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\ndisconnect\n");
    assert.equal(server.events.filter((event) => event === "closeWrite").length, 1);
  });

  test("SRS-078 lines the client had not read are dropped when it closes, and so is what comes after", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    server.send("pong\nunread\n");
    const { client } = await connected({}, server);
    client.close();
    server.send("after\n");
    server.end();
    await client[Symbol.asyncDispose]();
    await assert.rejects(client.recv(), ConnectionClosedError);
  });

  test("SRS-078 a server that does not close is left after a second; no timer is left behind", async () => {
    const server = new FakeServer();
    const { client } = await connected({}, server);
    let took = 0;
    const left = await countingTimers(async () => {
      const started = performance.now();
      await client[Symbol.asyncDispose]();
      took = performance.now() - started;
    });
    assert.ok(took >= 900 && took < 2000, `${took} ms`);
    assert.equal(server.events[0], "closeWrite");
    assert.ok(server.events.includes("close"));
    assert.equal(left, 0);
  });

  test("SRS-044 SRS-078 a client whose server closes at once leaves no timer behind", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({}, server);
    const left = await countingTimers(() => client[Symbol.asyncDispose]());
    assert.equal(left, 0);
  });

  test("SRS-044 connecting, sending and requesting leave no timer behind", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    server.replies.set("b", "B\n");
    const left = await countingTimers(async () => {
      const { client } = await connected({}, server);
      await client.send("a");
      assert.equal(await client.request("b"), "B");
      assert.deepEqual(await client.query("b", { lines: 1 }), ["B"]);
      await client[Symbol.asyncDispose]();
    });
    assert.equal(left, 0);
  });

  test("SRS-078 disconnectOnClose: true says disconnect without a handshake", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({ handshake: false, disconnectOnClose: true }, server);
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "disconnect\n");
  });

  test("SRS-012 disconnect() says disconnect, drops what the server still says, and resolves once it has closed", async () => {
    const { client, server } = await connected();
    const leaving = client.disconnect();
    await server.until(() => server.written.endsWith("disconnect\n"));
    server.send("bye\n");
    server.end();
    await leaving;
    assert.equal(client.connected, false);
    assert.equal(server.written, "ping\ndisconnect\n");
    await assert.rejects(client.recv(), {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
  });

  test("SRS-012 SRS-078 close() while disconnect() waits does not say disconnect twice", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({}, server);
    const leaving = client.disconnect();
    await server.until(() => server.written.endsWith("disconnect\n"));
    await settle();
    client.close();
    await leaving;
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\ndisconnect\n");
  });

  // disconnect() counts as said once its write is on its way, not once it has completed.
  test(
    "SRS-078 close() right after disconnect() does not say disconnect twice",
    async () => {
      const server = new FakeServer();
      server.endOnCloseWrite = true;
      const { client } = await connected({}, server);
      const leaving = client.disconnect();
      client.close();
      await leaving;
      await client[Symbol.asyncDispose]();
      assert.equal(server.written, "ping\ndisconnect\n");
    },
  );
  test("SRS-012 disconnect() passes on an abort", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({}, server);
    const cancel = new AbortController();
    const leaving = client.disconnect({ signal: cancel.signal });
    await server.until(() => server.written.endsWith("disconnect\n"));
    const reason = new Error("enough");
    cancel.abort(reason);
    await assert.rejects(leaving, (error) => error === reason);
    assert.equal(client.connected, false);
    await client[Symbol.asyncDispose]();
  });

  // A transport's write may fail with any error; a peer that is gone is what disconnect wants.
  test("SRS-012 disconnect() whose write fails resolves; one not sent within its limit rejects saying so", async () => {
    const { client: gone, server: failing } = await connected();
    failing.write = () => Promise.reject(new Error("EPIPE"));
    await gone.disconnect();
    assert.equal(gone.connected, false);
    const { client: stuck, server: holding } = await connected({ closeTimeout: 50 });
    holding.hold = new Promise(() => {});
    await assert.rejects(stuck.disconnect({ timeout: 30 }), {
      name: "TimeoutError",
      message: "not sent within 30 ms: the peer does not read what the client writes",
    });
    assert.equal(stuck.connected, false);
    await stuck[Symbol.asyncDispose]();
  });

  test("SRS-024 SRS-078 a client whose server has closed does not try to say disconnect", async () => {
    const { client, server } = await connected();
    server.end();
    await server.until(() => server.events.includes("close"));
    const tried: Uint8Array[] = [];
    server.write = (data) => {
      tried.push(data);
      return Promise.reject(new ConnectionClosedError("closed"));
    };
    await client[Symbol.asyncDispose]();
    assert.deepEqual(tried, []);
  });

  test("SRS-079 the client closes its socket once the server has closed", async () => {
    const { client, server } = await connected();
    server.end();
    await server.until(() => server.events.includes("close"));
    assert.equal(client.connected, false);
    assert.deepEqual(server.events, ["close"]);
    client.close();
  });
});

describe("client: leaving", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-078 close(), await using and disconnect() leave a server of the original kind able to serve", async () => {
    await withPeer(async (peer, port) => {
      const closed = await connect({ port });
      assert.equal(await closed.request("x"), "echo:x");
      closed.close();
      {
        await using disposed = await connect({ port });
        assert.equal(await disposed.request("y"), "echo:y");
      }
      const polite = await connect({ port });
      await polite.disconnect();
      const last = await connect({ port });
      last.close();
      await peer.idle();
      assert.equal(peer.wedges, 0);
      assert.equal(peer.polite, 4);
    });
  });

  test("SRS-078 a busy handshake says disconnect before it leaves, so the busy server is not wedged", async () => {
    await withPeer(async (peer, port) => {
      const holder = await connect({ port });
      await assert.rejects(connect({ port, timeout: 200 }), ServerBusyError);
      await holder.disconnect();
      await peer.idle();
      assert.equal(peer.wedges, 0);
      assert.equal(peer.polite, 2);
    });
  });

  test("SRS-078 close() returns at once, rejects what waits, and the socket is closed soon after", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      const before = openSockets();
      const client = await connect({ port: server.port, disconnectOnClose: false });
      client.close();
      assert.equal(client.connected, false);
      await assert.rejects(client.recv(), ConnectionClosedError);
      await assertSocketsClosed(before, 3000);
    });
  });

  test("SRS-079 when the server closes, the client's socket is closed though the caller never calls close()", async () => {
    const server = await startServer({ handler: variedHandler, idleTimeout: 50 });
    try {
      const before = openSockets();
      const clients: OnelineClient[] = [];
      for (let i = 0; i < 20; i++) {
        const client = await connect({ port: server.port });
        // The server cuts each off after the idle timeout; the caller never closes it.
        await assert.rejects(client.recv({ timeout: 5000 }), ConnectionClosedError);
        clients.push(client);
      }
      await assertSocketsClosed(before, 3000);
      assert.ok(clients.every((client) => !client.connected));
    } finally {
      await server.close();
    }
  });
});
