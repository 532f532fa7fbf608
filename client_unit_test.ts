// The client over an in-memory transport: the bytes it writes, the lines it
// gives back, its errors and their messages, and how it leaves.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import type { ConnectOptions, OnelineClient } from "./client.ts";
import {
  ConnectError,
  ConnectionClosedError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import type { Address, ConnectEndpoint, Connection, Transport } from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The server's side of an in-memory connection, and what the client did to it. */
class FakeServer implements Connection {
  readonly remoteAddr: Address = { transport: "tcp", hostname: "192.0.2.7", port: 7000 };
  /** What the client wrote, as text. */
  written = "";
  /** What the client did, in order: `closeWrite`, `close`. */
  readonly events: string[] = [];
  /** Reads the client made. */
  reads = 0;
  /** Answers `ping` with `pong` as the client writes it. */
  answerPing = true;
  /** When set, writes fail. */
  failWrites = false;
  #chunks: (Uint8Array | null)[] = [];
  #reader: ((chunk: Uint8Array | null) => void) | undefined;
  #ended = false;
  #wake: (() => void) | undefined;

  /** The server sends bytes (one read for the client). */
  send(data: string | Uint8Array): void {
    this.#push(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** The server closes its side. */
  end(): void {
    this.#push(null);
  }

  #push(chunk: Uint8Array | null): void {
    if (chunk === null) this.#ended = true;
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader) reader(chunk);
    else this.#chunks.push(chunk);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits until `done` holds, after a write, a read or a close; fails after 2 s. */
  async until(done: () => boolean): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!done()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out; written ${JSON.stringify(this.written)}`);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  read(): Promise<Uint8Array | null> {
    this.reads++;
    this.#notify();
    if (this.#chunks.length > 0) return Promise.resolve(this.#chunks.shift()!);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#reader = resolve);
  }

  write(data: Uint8Array): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error("broken pipe"));
    const text = decoder.decode(data);
    this.written += text;
    if (this.answerPing) {
      for (const line of text.split("\n").slice(0, -1)) if (line === "ping") this.send("pong\n");
    }
    this.#notify();
    return Promise.resolve();
  }

  closeWrite(): Promise<void> {
    this.events.push("closeWrite");
    this.#notify();
    return Promise.resolve();
  }

  watch(): Promise<void> {
    return new Promise(() => {});
  }

  close(): void {
    this.events.push("close");
    this.#push(null);
    this.#notify();
  }
}

/** A transport whose connects are answered by the test. */
class FakeTransport implements Transport {
  readonly endpoints: ConnectEndpoint[] = [];
  #connects: (() => Promise<Connection>)[] = [];

  /** Queues how the next connects go; the last one repeats. */
  then(...connects: (() => Promise<Connection>)[]): this {
    this.#connects.push(...connects);
    return this;
  }

  listen(): never {
    throw new Error("not used");
  }

  connect(endpoint: ConnectEndpoint): Promise<Connection> {
    this.endpoints.push(endpoint);
    const next = this.#connects.length > 1 ? this.#connects.shift()! : this.#connects[0];
    return next();
  }
}

/** A client connected to a fresh fake server. */
async function connected(
  options: ConnectOptions = {},
  server = new FakeServer(),
): Promise<{ client: OnelineClient; server: FakeServer; transport: FakeTransport }> {
  const transport = new FakeTransport().then(() => Promise.resolve(server));
  const client = await connect({ transport, ...options });
  return { client, server, transport };
}

describe("client over a fake transport: connecting", () => {
  test("SRS-011 connect goes to 127.0.0.1:5001 by default, shakes hands with one ping", async () => {
    const { client, server, transport } = await connected();
    assert.deepEqual(transport.endpoints, [{ hostname: "127.0.0.1", port: 5001, tls: undefined }]);
    assert.equal(server.written, "ping\n");
    assert.deepEqual(client.remoteAddr, server.remoteAddr);
    assert.equal(client.connected, true);
    assert.equal(client.timeout, 5000);
    client.close();
  });

  test("SRS-011 a path is a Unix socket endpoint; hostname and port are passed as given", async () => {
    const { client: unix, transport } = await connected({ path: "/tmp/x.sock" });
    assert.deepEqual(transport.endpoints, [{ path: "/tmp/x.sock", tls: undefined }]);
    unix.close();
    const tls = { caCerts: ["PEM"] };
    const { client: tcp, transport: other } = await connected({
      hostname: "example.test",
      port: 7,
      tls,
    });
    assert.deepEqual(other.endpoints, [{ hostname: "example.test", port: 7, tls }]);
    tcp.close();
  });

  test("SRS-011 handshake: false writes nothing and says no disconnect at close", async () => {
    const { client, server } = await connected({ handshake: false });
    assert.equal(server.written, "");
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "");
  });

  test("SRS-023 no answer to the handshake in time is ServerBusyError; the client still says disconnect", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    await assert.rejects(connected({ timeout: 30 }, server), (error) => {
      assert.ok(error instanceof ServerBusyError);
      assert.ok(error.cause instanceof TimeoutError);
      assert.match(error.message, /192\.0\.2\.7|127\.0\.0\.1:5001/);
      return true;
    });
    await server.until(() => server.events.includes("closeWrite"));
    assert.equal(server.written, "ping\ndisconnect\n");
  });

  test("SRS-080 a server that closes during the handshake may expect TLS; with tls the error is kept", async () => {
    const closing = new FakeServer();
    closing.answerPing = false;
    closing.end();
    await assert.rejects(connected({}, closing), {
      name: "ConnectionClosedError",
      message: "127.0.0.1:5001 closed the connection before answering ping; if it expects TLS, " +
        "connect with the tls option",
    });
    const tls = new FakeServer();
    tls.answerPing = false;
    tls.end();
    await assert.rejects(connected({ tls: {} }, tls), {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
  });

  test("SRS-011 a connect that fails is a ConnectError naming the address, the cause kept", async () => {
    const failure = new Error("refused");
    const transport = new FakeTransport().then(() => Promise.reject(failure));
    await assert.rejects(connect({ transport, port: 9 }), (error) => {
      assert.ok(error instanceof ConnectError);
      assert.equal(error.cause, failure);
      assert.match(error.message, /127\.0\.0\.1:9/);
      assert.match(error.message, /refused/);
      return true;
    });
    assert.equal(transport.endpoints.length, 1, "no retry without retry");
    const typed = new ConnectError("127.0.0.1:9", "typed");
    const passing = new FakeTransport().then(() => Promise.reject(typed));
    await assert.rejects(connect({ transport: passing, port: 9 }), (error) => error === typed);
  });

  test("SRS-011 a connect that hangs fails after timeout; should it come up later, it is closed", async () => {
    const late = new FakeServer();
    let arrive!: (connection: Connection) => void;
    const transport = new FakeTransport().then(() => new Promise((resolve) => arrive = resolve));
    await assert.rejects(connect({ transport, timeout: 20 }), {
      name: "ConnectError",
      message: /not connected within 20 ms/,
    });
    arrive(late);
    await late.until(() => late.events.length > 0);
    assert.deepEqual(late.events, ["close"]);
  });

  test("SRS-082 retry tries again every interval until a connect succeeds", async () => {
    const server = new FakeServer();
    const refused = () => Promise.reject(new Error("refused"));
    const transport = new FakeTransport().then(refused, refused, () => Promise.resolve(server));
    const started = performance.now();
    const client = await connect({ transport, retry: { until: 2000, interval: 20 } });
    assert.equal(transport.endpoints.length, 3);
    assert.ok(performance.now() - started >= 38, "waited two intervals");
    client.close();
  });

  test("SRS-082 retry gives up once until has passed, with the last failure", async () => {
    const transport = new FakeTransport().then(() => Promise.reject(new Error("refused")));
    const started = performance.now();
    await assert.rejects(connect({ transport, retry: { until: 100, interval: 30 } }), ConnectError);
    const took = performance.now() - started;
    assert.ok(took >= 60 && took < 1000, `${took} ms`);
    assert.ok(transport.endpoints.length >= 3 && transport.endpoints.length <= 5);
  });

  test("SRS-082 the default retry interval is 100 ms", async () => {
    const transport = new FakeTransport().then(() => Promise.reject(new Error("refused")));
    await assert.rejects(connect({ transport, retry: { until: 250 } }), ConnectError);
    assert.equal(transport.endpoints.length, 3);
  });
});

describe("client over a fake transport: lines", () => {
  test("SRS-015 recvLine gives text, raw bytes and the invalid flag; queued lines come in order", async () => {
    const { client, server } = await connected();
    server.send(new Uint8Array([0x61, 0x0a, 0x62, 0xff, 0x0a]));
    assert.equal(await client.recv(), "a");
    const line = await client.recvLine();
    assert.deepEqual([...line.raw], [0x62, 0xff]);
    assert.equal(line.invalid, true);
    client.close();
  });

  test("SRS-015 a receive that times out says how long it waited; the next line goes to the next receive", async () => {
    const { client, server } = await connected({ timeout: 40 });
    await assert.rejects(client.recv(), {
      name: "TimeoutError",
      message: "no response within 40 ms",
    });
    await assert.rejects(client.recv({ timeout: 10 }), {
      name: "TimeoutError",
      message: "no response within 10 ms",
    });
    server.send("late\n");
    assert.equal(await client.recv(), "late");
    client.close();
  });

  test("SRS-077 an aborted signal rejects with its reason, at once or while waiting", async () => {
    const { client, server } = await connected();
    const reason = new Error("cancelled");
    await assert.rejects(client.recv({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    const cancel = new AbortController();
    const waiting = client.recv({ signal: cancel.signal });
    cancel.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    server.send("next\n");
    assert.equal(await client.recv(), "next");
    client.close();
  });

  test("SRS-077 the timeout can be changed, and must be positive", () => {
    return connected().then(({ client }) => {
      client.timeout = 123;
      assert.equal(client.timeout, 123);
      client.timeout = Infinity;
      assert.equal(client.timeout, Infinity);
      assert.throws(() => client.timeout = 0, RangeError);
      client.close();
    });
  });

  test("SRS-083 with CR as the read terminator each CR ends a line; with CRLF a bare LF does too", async () => {
    const cr = await connected({ handshake: false, readTerminator: "\r" });
    cr.server.send("a\rb\r");
    assert.deepEqual([await cr.client.recv(), await cr.client.recv()], ["a", "b"]);
    cr.client.close();
    const crlf = await connected({ handshake: false, readTerminator: "\r\n" });
    crlf.server.send("a\r\nb\n");
    assert.deepEqual([await crlf.client.recv(), await crlf.client.recv()], ["a", "b"]);
    crlf.client.close();
  });

  test("SRS-015 a response line over maxLineBytes is cut and flagged", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.send("abcdefgh\nok\n");
    const line = await client.recvLine();
    assert.equal(line.text, "abcd");
    assert.equal(line.invalid, true);
    assert.equal(await client.recv(), "ok");
    client.close();
  });

  test("SRS-015 async iteration yields lines until the server closes", async () => {
    const { client, server } = await connected();
    server.send("a\nb\n");
    server.end();
    const lines: string[] = [];
    for await (const line of client) lines.push(line);
    assert.deepEqual(lines, ["a", "b"]);
    assert.equal(client.connected, false);
  });
});

describe("client over a fake transport: requests and queries", () => {
  test("SRS-076 a query fences its command with ping, in one write, and returns the lines before pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("dump");
    await server.until(() => server.written.endsWith("dump\nping\n"));
    server.send("1\n2\npong\n");
    assert.deepEqual(await answer, ["1", "2"]);
    client.close();
  });

  test("SRS-076 request wants exactly one line; otherwise a ProtocolError names them", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const one = client.request("a");
    server.send("A\npong\n");
    assert.equal(await one, "A");
    const two = client.request("b");
    server.send("1\n2\npong\n");
    await assert.rejects(two, {
      name: "ProtocolError",
      message: '"b" was answered with 2 lines, not one: ["1","2"] (query() returns them all)',
    });
    const none = client.request("c");
    server.send("pong\n");
    await assert.rejects(none, ProtocolError);
    client.close();
  });

  test("SRS-076 lines reads a known count without a fence; ping is never fenced", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const written = server.written;
    const two = client.query("pong?", { lines: 2 });
    server.send("pong\nx\n");
    assert.deepEqual(await two, ["pong", "x"]);
    const ping = client.query("ping");
    server.send("pong\n");
    assert.deepEqual(await ping, ["pong"]);
    assert.equal(server.written.slice(written.length), "pong?\nping\n");
    client.close();
  });

  test("SRS-076 after a counted query gave up, the next query resynchronises with a ping first", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("three", { lines: 3, timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const next = client.query("fast");
    await server.until(() => server.written.length > mark);
    assert.equal(server.written.slice(mark), "ping\n");
    server.send("1\n2\n3\npong\n");
    await server.until(() => server.written.endsWith("fast\nping\n"));
    server.send("re:fast\npong\n");
    assert.deepEqual(await next, ["re:fast"]);
    client.close();
  });

  test("SRS-076 clear() sends ping and drops every line up to its pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await client.send("raw");
    server.send("unread\n");
    const clearing = client.clear();
    await server.until(() => server.written.endsWith("raw\nping\n"));
    server.send("also unread\npong\nafter\n");
    await clearing;
    assert.equal(await client.recv(), "after");
    client.close();
  });

  test("SRS-076 concurrent queries take turns: the second is written after the first is answered", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.request("a");
    const second = client.request("b");
    await server.until(() => server.written.endsWith("a\nping\n"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(!server.written.includes("b\n"));
    server.send("A\npong\n");
    await server.until(() => server.written.endsWith("b\nping\n"));
    server.send("B\npong\n");
    assert.deepEqual([await first, await second], ["A", "B"]);
    client.close();
  });

  test("SRS-076 a query's timeout bounds the whole exchange, not each line", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("trickle", { timeout: 100 });
    const started = performance.now();
    const trickle = setInterval(() => server.send("x\n"), 30);
    await assert.rejects(answer, TimeoutError);
    clearInterval(trickle);
    const took = performance.now() - started;
    assert.ok(took < 500, `${took} ms`);
    client.close();
  });

  test("SRS-077 with timeout Infinity a query waits as long as it takes", async () => {
    const { client, server } = await connected({ timeout: 20 });
    server.answerPing = false;
    const answer = client.query("slow", { timeout: Infinity });
    await new Promise((resolve) => setTimeout(resolve, 60));
    server.send("done\npong\n");
    assert.deepEqual(await answer, ["done"]);
    client.close();
  });

  test("SRS-011 ping rejects an answer other than pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const pinging = client.ping();
    server.send("PONG\n");
    await assert.rejects(pinging, {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got "PONG"',
    });
    client.close();
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
