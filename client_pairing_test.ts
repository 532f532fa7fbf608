// The client as an instrument-control tool: answers paired exactly with their
// commands, polite leaving (proved against a peer that behaves like the
// original Python server), bounded memory, terminators, readiness.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { connect } from "./client.ts";
import type { OnelineClient } from "./client.ts";
import { ConnectionClosedError, ProtocolError, ServerBusyError, TimeoutError } from "./errors.ts";
import type { HandlerContext } from "./server.ts";
import {
  assertSocketsClosed,
  openSockets,
  startServer,
  testTls,
  untilSteady,
  withFakeServer,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

// Answers `slow` late, `two` with two lines, `pong` with the line pong, the rest at once.
const handler = async (command: string) => {
  if (command === "slow") {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return "re:slow";
  }
  if (command === "two") return ["a", "b"];
  if (command === "none") return undefined;
  if (command === "pong?") return "pong";
  return `re:${command}`;
};

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

describe("client: answers paired with their commands", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-076 a late answer to a request that timed out is never taken for the next one's", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      await assert.rejects(client.request("slow", { timeout: 100 }), TimeoutError);
      assert.equal(await client.request("fast"), "re:fast");
      assert.equal(await client.request("after"), "re:after");
    });
  });

  test("SRS-076 a command that answers two lines: request refuses, query returns both, and nothing is left over", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      await assert.rejects(client.request("two"), (error: unknown) => {
        assert.ok(error instanceof ProtocolError);
        assert.match(error.message, /"two" was answered with 2 lines, not one: \["a","b"\]/);
        return true;
      });
      assert.deepEqual(await client.query("two"), ["a", "b"]);
      assert.deepEqual(await client.query("none"), []);
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 a query that gave up leaves its answer to be dropped, also when it was aborted", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      const abort = new AbortController();
      const asked = client.query("slow", { signal: abort.signal });
      abort.abort(new Error("user gave up"));
      await assert.rejects(asked, /user gave up/);
      assert.deepEqual(await client.query("two"), ["a", "b"]);
    });
  });

  test("SRS-076 a command whose own answer is pong: lines reads it without a fence; ping needs none", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      assert.deepEqual(await client.query("pong?", { lines: 1 }), ["pong"]);
      assert.deepEqual(await client.query("ping"), ["pong"]);
      assert.equal(await client.request("ping"), "pong");
      // A lines-query that gave up is followed by a resynchronisation, so the next is exact.
      await assert.rejects(client.query("slow", { lines: 1, timeout: 50 }), TimeoutError);
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 clear() resynchronises after raw sends whose answers were not read", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      await client.send("two");
      await client.send("x");
      await client.clear();
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 concurrent requests each get their own answer", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      const answers = await Promise.all(
        ["slow", "a", "two", "b"].map((command) => client.query(command)),
      );
      assert.deepEqual(answers, [["re:slow"], ["re:a"], ["a", "b"], ["re:b"]]);
    });
  });

  test("SRS-077 recv takes an AbortSignal, and the client's timeout can be changed", async () => {
    await withServer({ handler }, async (server) => {
      await using client = await connect({ port: server.port });
      const abort = new AbortController();
      const waiting = client.recv({ signal: abort.signal, timeout: Infinity });
      abort.abort(new Error("stop"));
      await assert.rejects(waiting, /stop/);
      client.timeout = 50;
      assert.equal(client.timeout, 50);
      await assert.rejects(client.recv(), TimeoutError);
      assert.throws(() => client.timeout = 0, RangeError);
    });
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
    await withServer({ handler }, async (server) => {
      const before = openSockets();
      const client = await connect({ port: server.port, disconnectOnClose: false });
      client.close();
      assert.equal(client.connected, false);
      await assert.rejects(client.recv(), ConnectionClosedError);
      await assertSocketsClosed(before, 3000);
    });
  });

  test("SRS-079 when the server closes, the client's socket is closed though the caller never calls close()", async () => {
    const server = await startServer({ handler, idleTimeout: 50 });
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

describe("client: what the server is", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-080 silence is busy-or-not-oneline; an answer other than pong is a ProtocolError naming it", async () => {
    await withFakeServer(() => {}, async (port) => {
      await assert.rejects(connect({ port, timeout: 100 }), (error: unknown) => {
        assert.ok(error instanceof ServerBusyError);
        assert.match(error.message, /busy with another client .* or it does not speak the oneline/);
        return true;
      });
    });
    const answerOther = (socket: net.Socket) =>
      socket.on("data", () => socket.write("ERR unknown\n"));
    await withFakeServer(answerOther, async (port) => {
      await assert.rejects(connect({ port }), /expected "pong" to "ping", got "ERR unknown"/);
    });
  });

  test("SRS-080 a plain client at a TLS server is told the server may expect TLS", async () => {
    const { cert, key } = testTls();
    const tls = { cert, key };
    await withServer({ tls }, async (server) => {
      await assert.rejects(connect({ port: server.port }), (error: unknown) => {
        assert.ok(error instanceof ConnectionClosedError);
        assert.match(error.message, /if it expects TLS, connect with the tls option/);
        return true;
      });
    });
  });

  test("SRS-081 a server that floods a client that does not read is held back: the client keeps about maxQueuedBytes", async () => {
    const total = 3000;
    let sent = 0;
    const flood = async (_command: string, context: HandlerContext) => {
      for (let i = 0; i < total; i++) {
        await context.send(`${i} ${"f".repeat(32 * 1024)}`);
        sent++;
      }
      return "end";
    };
    await withServer({ handler: flood, maxPendingBytes: 64 * 1024 }, async (server) => {
      await using client = await connect({ port: server.port, maxQueuedBytes: 256 * 1024 });
      await client.send("flood");
      await untilSteady(() => sent);
      assert.ok(sent < total / 4, `${sent} of ${total} 32 KiB lines sent to a client not reading`);
      for (let i = 0; i < total; i++) {
        assert.equal((await client.recv()).split(" ")[0], String(i));
      }
      assert.equal(await client.recv(), "end");
    });
  });
});

describe("client: readiness and terminators", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-082 connect with retry waits for a server that is still starting", async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const connecting = connect({ port, retry: { until: 5000, interval: 20 } });
    const server = await startServer({ port, handler });
    try {
      const client = await connecting;
      assert.equal(await client.request("up"), "re:up");
      await client.disconnect();
    } finally {
      await server.close();
    }
    await assert.rejects(connect({ port, retry: { until: 100, interval: 20 } }), /cannot connect/);
  });

  test("SRS-083 an instrument that speaks CR: handshake off, read and write terminators CR", async () => {
    const seen: string[] = [];
    const instrument = (socket: net.Socket) =>
      socket.on("data", (chunk: Uint8Array) => {
        const text = new TextDecoder().decode(chunk);
        seen.push(text);
        if (text.includes("*IDN?\r")) socket.write("ACME,METER,1\rREADY\r");
      });
    await withFakeServer(instrument, async (port) => {
      await using client = await connect({
        port,
        handshake: false,
        readTerminator: "\r",
        writeTerminator: "\r",
      });
      assert.deepEqual(await client.query("*IDN?", { lines: 2 }), ["ACME,METER,1", "READY"]);
    });
    assert.deepEqual(seen, ["*IDN?\r"]);
  });

  test("SRS-083 CRLF both ways", async () => {
    const instrument = (socket: net.Socket) =>
      socket.on("data", (chunk: Uint8Array) => {
        if (new TextDecoder().decode(chunk) === "MEAS?\r\n") socket.write("1.25\r\n");
      });
    await withFakeServer(instrument, async (port) => {
      await using client = await connect({
        port,
        handshake: false,
        readTerminator: "\r\n",
        writeTerminator: "\r\n",
      });
      assert.deepEqual(await client.query("MEAS?", { lines: 1 }), ["1.25"]);
    });
  });
});
