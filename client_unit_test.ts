// The client over an in-memory transport: the bytes it writes, the lines it
// gives back, its errors and their messages, and how it leaves.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import type { ConnectOptions, OnelineClient } from "./client.ts";
import {
  BlockFormatError,
  ConnectError,
  ConnectionClosedError,
  InvalidResponseError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import type { ConnectEndpoint, Connection, Transport } from "./transport.ts";
import { MemoryConnection } from "./test_util.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A oneline server's side of an in-memory connection: it answers `ping` and the replies set. */
class FakeServer extends MemoryConnection {
  /** Answers `ping` with `pong` as the client writes it. */
  answerPing = true;
  /** Answers to other commands, sent as the client writes them. */
  readonly replies = new Map<string, string>();

  constructor() {
    super({ transport: "tcp", hostname: "192.0.2.7", port: 7000 });
  }

  protected override received(text: string): void {
    for (const line of text.split("\n").slice(0, -1)) {
      if (line === "ping" && this.answerPing) this.send("pong\n");
      const reply = this.replies.get(line);
      if (reply !== undefined) this.send(reply);
    }
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

/**
 * Resolves once every promise reaction queued so far has run: the fake transport is in memory, so
 * whatever the client does in answer to what the test did has happened by then.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `body` while counting the timers started and not yet fired or cleared. */
async function countingTimers(body: () => Promise<void>): Promise<number> {
  const live = new Set<unknown>();
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
  // deno-lint-ignore no-explicit-any
  const spySet = (callback: (...args: any[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSet(() => {
      live.delete(timer);
      callback(...args);
    }, ms);
    live.add(timer);
    return timer;
  };
  const spyClear = (timer: ReturnType<typeof setTimeout> | undefined) => {
    live.delete(timer);
    realClear(timer);
  };
  Object.assign(globalThis, { setTimeout: spySet, clearTimeout: spyClear });
  try {
    await body();
  } finally {
    Object.assign(globalThis, { setTimeout: realSet, clearTimeout: realClear });
  }
  for (const timer of live) realClear(timer as ReturnType<typeof setTimeout>);
  return live.size;
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

  test("SRS-083 SRS-157 with CR as the read terminator each CR ends a line, and an LF is part of one", async () => {
    const cr = await connected({ handshake: false, readTerminator: "\r" });
    cr.server.send("a\rb\nc\r");
    assert.deepEqual([await cr.client.recv(), await cr.client.recv()], ["a", "b\nc"]);
    cr.client.close();
  });

  test("SRS-157 with CRLF as the read terminator only the pair ends a line, also split between reads", async () => {
    const crlf = await connected({ handshake: false, readTerminator: "\r\n" });
    crlf.server.send("a\nb\rc\r");
    crlf.server.send("\nd\r\n");
    assert.deepEqual([await crlf.client.recv(), await crlf.client.recv()], ["a\nb\rc", "d"]);
    crlf.client.close();
  });

  test("SRS-157 with any read terminator CR, LF and CR LF each end one line, a CR LF split between reads too", async () => {
    const any = await connected({ handshake: false, readTerminator: "any" });
    any.server.send("a\rb\nc\r\nd\r");
    any.server.send("\ne\n\n");
    const lines = [];
    for (let i = 0; i < 6; i++) lines.push(await any.client.recv());
    assert.deepEqual(lines, ["a", "b", "c", "d", "e", ""]);
    any.client.close();
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

  test("SRS-155 concurrent requests overlap on the wire, each fenced; the answers are paired in order", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.request("a");
    const second = client.query("b");
    const third = client.request("c");
    await server.until(() => server.written.endsWith("a\nping\nb\nping\nc\nping\n"));
    server.send("A\npong\nB1\nB2\npong\nC\npong\n");
    assert.deepEqual([await first, await second, await third], ["A", ["B1", "B2"], "C"]);
    client.close();
  });

  // Not the time that was left for its last receive ("no response within 29.969031 ms").
  test("SRS-076 a query that times out names its own limit", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("q", { timeout: 30 }), (error) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, "no response within 30 ms");
      assert.equal(error.timeout, 30);
      return true;
    });
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
    server.send("PONG\npong\n");
    await assert.rejects(pinging, {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got ["PONG","pong"]',
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

describe("client over a fake transport: options", () => {
  // Each wrong option, the error it gives, and its message; no connect is tried.
  const wrong: [unknown, ErrorConstructor, string][] = [
    [null, TypeError, "connect() options must be an object, got null"],
    [5, TypeError, "connect() options must be an object, got 5"],
    [{ prot: 1 }, TypeError, "options.prot is not an option (did you mean port?)"],
    [{ port: 0 }, RangeError, "options.port must be from 1 to 65535, got 0"],
    [
      { path: "/x.sock", port: 1 },
      TypeError,
      "options.path cannot be combined with options.port (a Unix socket has no port)",
    ],
    [{ tls: 5 }, TypeError, "options.tls must be an object, got 5"],
    [{ tls: null }, TypeError, "options.tls must be an object, got null"],
    [
      { tls: { caCert: [] } },
      TypeError,
      "options.tls.caCert is not an option (did you mean caCerts?)",
    ],
    [{ tls: { caCerts: "PEM" } }, TypeError, "options.tls.caCerts must be an array of PEM strings"],
    [
      { tls: { caCerts: ["PEM", 1] } },
      TypeError,
      "options.tls.caCerts must be an array of PEM strings",
    ],
    [
      { tls: { serverName: "" } },
      TypeError,
      'options.tls.serverName must be a non-empty string, got "" (a string)',
    ],
    [
      { tls: { serverName: 5 } },
      TypeError,
      "options.tls.serverName must be a non-empty string, got 5",
    ],
    [{ timeout: 0 }, RangeError, "options.timeout must be positive, got 0"],
    [
      { timeout: "1" },
      TypeError,
      'options.timeout must be a number of milliseconds, got "1" (a string)',
    ],
    [
      { handshake: "yes" },
      TypeError,
      'options.handshake must be true or false, got "yes" (a string)',
    ],
    [{ disconnectOnClose: 1 }, TypeError, "options.disconnectOnClose must be true or false, got 1"],
    [{ maxLineBytes: 0 }, RangeError, "options.maxLineBytes must be at least 1, got 0"],
    [{ maxQueuedBytes: 1.5 }, TypeError, "options.maxQueuedBytes must be an integer, got 1.5"],
    [
      { readTerminator: "\n\r" },
      TypeError,
      'options.readTerminator must be "\\n", "\\r\\n", "\\r" or "any", got "\\n\\r" (a string)',
    ],
    [
      { writeTerminator: "" },
      TypeError,
      'options.writeTerminator must be "\\n", "\\r\\n" or "\\r", got "" (a string)',
    ],
    [{ retry: 5000 }, TypeError, "options.retry must be an object like { until: 5000 }, got 5000"],
    [{ retry: null }, TypeError, "options.retry must be an object like { until: 5000 }, got null"],
    [
      { retry: { until: 100, intervall: 5 } },
      TypeError,
      "options.retry.intervall is not an option (did you mean interval?)",
    ],
    [
      { retry: { until: Infinity } },
      RangeError,
      "options.retry.until must be positive and finite, got Infinity",
    ],
    [{ retry: { interval: 5 } }, TypeError, "options.retry.until is needed"],
    [
      { retry: { until: 100, interval: Infinity } },
      RangeError,
      "options.retry.interval must be positive and finite, got Infinity",
    ],
  ];
  for (const [options, type, message] of wrong) {
    test(`SRS-002 SRS-090 SRS-091 connect(${JSON.stringify(options)}) is refused: ${message}`, async () => {
      const transport = new FakeTransport().then(() => Promise.resolve(new FakeServer()));
      const given = options !== null && typeof options === "object"
        ? { transport, ...options }
        : options;
      await assert.rejects(connect(given as ConnectOptions), (error) => {
        assert.ok(error instanceof type, `${error}`);
        assert.equal((error as Error).message, message);
        return true;
      });
      assert.equal(transport.endpoints.length, 0, "no connect is tried");
    });
  }

  test("SRS-002 the values at the edges of what is allowed are taken", async () => {
    const { client } = await connected({
      timeout: Infinity,
      tls: { caCerts: [], serverName: "example.test" },
      retry: { until: 1, interval: 1 },
      readTerminator: "\r\n",
      writeTerminator: "\r",
      maxLineBytes: 1,
      maxQueuedBytes: 1,
      handshake: false,
      disconnectOnClose: true,
    });
    assert.equal(client.timeout, Infinity);
    client.close();
  });

  test("SRS-077 SRS-090 SRS-091 the options of a receive, query or clear are checked; nothing is sent", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const refusals: [() => Promise<unknown>, ErrorConstructor, string][] = [
      [
        () => client.recv(null as unknown as object),
        TypeError,
        "options must be an object, got null",
      ],
      [
        () => client.recvLine(7 as unknown as object),
        TypeError,
        "options must be an object, got 7",
      ],
      [
        () => client.recv({ timeOut: 5 } as object),
        TypeError,
        "options.timeOut is not an option (did you mean timeout?)",
      ],
      [() => client.recv({ timeout: -1 }), RangeError, "options.timeout must be positive, got -1"],
      [
        () => client.recv({ signal: {} as AbortSignal }),
        TypeError,
        "options.signal must be an AbortSignal, got an object",
      ],
      [
        () => client.query("q", { lines: 0 }),
        RangeError,
        "options.lines must be at least 1, got 0",
      ],
      [
        () => client.request("q", { lines: 1.5 }),
        TypeError,
        "options.lines must be an integer, got 1.5",
      ],
      [
        () => client.query("q", { signal: 1 as unknown as AbortSignal }),
        TypeError,
        "options.signal must be an AbortSignal, got 1",
      ],
      [() => client.clear({ timeout: 0 }), RangeError, "options.timeout must be positive, got 0"],
      [() => client.query("a\nb"), TypeError, 'command must not contain CR or LF: "a\\nb"'],
      [() => client.request("a\rb"), TypeError, 'command must not contain CR or LF: "a\\rb"'],
      [() => client.send("a\r\n"), TypeError, 'command must not contain CR or LF: "a\\r\\n"'],
    ];
    for (const [call, type, message] of refusals) {
      await assert.rejects(call(), (error) => {
        assert.ok(error instanceof type, `${error}`);
        assert.equal((error as Error).message, message);
        return true;
      });
    }
    await settle();
    assert.equal(server.written, "ping\n");
    assert.throws(() => client.timeout = 0, {
      name: "RangeError",
      message: "timeout must be positive, got 0",
    });
    assert.equal(client.timeout, 5000);
    client.close();
  });

  test("SRS-011 SRS-077 the timeout given to connect is the client's default limit", async () => {
    const { client, server } = await connected({ timeout: 30 });
    assert.equal(client.timeout, 30);
    await assert.rejects(client.recv(), {
      name: "TimeoutError",
      message: "no response within 30 ms",
    });
    server.answerPing = false;
    await assert.rejects(client.query("q"), TimeoutError);
    client.close();
  });
});

describe("client over a fake transport: terminators", () => {
  test("SRS-014 SRS-083 the write terminator ends every command, fence and goodbye", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    server.endOnCloseWrite = true;
    server.send("pong\n"); // the handshake's
    const { client } = await connected({ writeTerminator: "\r\n" }, server);
    await client.send("a");
    const answer = client.query("b");
    await server.until(() => server.written.endsWith("ping\r\n"));
    server.send("B\npong\n");
    assert.deepEqual(await answer, ["B"]);
    await assert.rejects(client.query("c", { lines: 1, timeout: 10 }), TimeoutError);
    const clearing = client.clear();
    await server.until(() => server.written.endsWith("c\r\nping\r\n"));
    server.send("C\npong\n");
    await clearing;
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\r\na\r\nb\r\nping\r\nc\r\nping\r\ndisconnect\r\n");
  });

  test("SRS-083 with the LF read terminator a CR is no line end: a CR before the LF is dropped", async () => {
    const { client, server } = await connected({ handshake: false, readTerminator: "\n" });
    server.send("a\r\nb\rc\n");
    assert.equal(await client.recv(), "a");
    assert.equal(await client.recv(), "b\rc");
    client.close();
  });
});

describe("client over a fake transport: fences", () => {
  test("SRS-076 a late answer left by a query that timed out is dropped before the next call", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("slow", { timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const next = client.request("b");
    server.send("late 1\nlate 2\npong\n");
    await server.until(() => server.written.length > mark);
    assert.equal(server.written.slice(mark), "b\nping\n", "no fence of its own for the catch-up");
    server.send("B\npong\n");
    assert.equal(await next, "B");
    const third = client.query("c");
    await server.until(() => server.written.endsWith("c\nping\n"));
    server.send("C\npong\n");
    assert.deepEqual(await third, ["C"]);
    client.close();
  });

  test("SRS-076 SRS-077 an aborted query leaves its answer to be dropped; the next call's answer is read after it", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const cancel = new AbortController();
    const aborted = client.query("a", { signal: cancel.signal });
    await server.until(() => server.written.endsWith("a\nping\n"));
    const reason = new Error("the user cancelled");
    cancel.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    const next = client.query("b");
    await server.until(() => server.written.endsWith("b\nping\n"));
    server.send("A\npong\nB\npong\n");
    assert.deepEqual(await next, ["B"]);
    client.close();
  });

  test("SRS-076 SRS-152 a pong cut short by maxLineBytes is no fence: the answer is an error that holds its bytes", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.answerPing = false;
    const answer = client.query("q");
    await server.until(() => server.written.endsWith("q\nping\n"));
    server.send("pongpong\npong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof InvalidResponseError);
      assert.equal(error.reason, "too_long");
      assert.equal(decoder.decode(error.raw), "pong");
      return true;
    });
    await assert.rejects(client.query("r", { timeout: 20 }), TimeoutError);
    const next = client.request("s");
    server.send("pongpong\npong\n");
    await server.until(() => server.written.endsWith("s\nping\n"));
    server.send("S\npong\n");
    assert.equal(await next, "S");
    client.close();
  });

  test("SRS-076 after a resynchronisation the next queries go out without another ping", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("three", { lines: 3, timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const first = client.query("one", { lines: 1 });
    await server.until(() => server.written.length > mark);
    server.send("1\n2\npong\n");
    await server.until(() => server.written.endsWith("one\n"));
    server.send("ONE\n");
    assert.deepEqual(await first, ["ONE"]);
    const second = client.query("two", { lines: 2 });
    server.send("T\nW\n");
    assert.deepEqual(await second, ["T", "W"]);
    assert.equal(server.written.slice(mark), "ping\none\ntwo\n");
    client.close();
  });

  test("SRS-076 a counted query reads exactly its lines; the next line is the next receive's", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const two = client.query("x", { lines: 2, timeout: 500 });
    server.send("1\n2\n3\n");
    assert.deepEqual(await two, ["1", "2"]);
    assert.equal(await client.recv(), "3");
    client.close();
  });

  test("SRS-076 clear() with nothing owed still sends its ping and waits for the pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const clearing = client.clear();
    await server.until(() => server.written === "ping\nping\n");
    assert.equal(
      await Promise.race([clearing.then(() => "cleared"), settle().then(() => "waiting")]),
      "waiting",
    );
    server.send("pong\n");
    await clearing;
    await assert.rejects(client.clear({ timeout: 20 }), TimeoutError);
    client.close();
  });

  test("SRS-076 a failed call does not stop the calls after it", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.request("a");
    const second = client.request("b");
    await server.until(() => server.written.endsWith("a\nping\n"));
    server.send("A1\nA2\npong\n");
    await assert.rejects(first, ProtocolError);
    await server.until(() => server.written.endsWith("b\nping\n"));
    server.send("B\npong\n");
    assert.equal(await second, "B");
    client.close();
  });

  test("SRS-011 SRS-077 ping() takes the options of a receive: its signal and its timeout", async () => {
    const { client, server } = await connected({ timeout: 500 });
    server.answerPing = false;
    const reason = new Error("stop");
    await assert.rejects(client.ping({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(client.ping({ timeout: 20 }), {
      name: "TimeoutError",
      message: /^no response within \d/,
    });
    client.close();
  });

  // A ping() (or a counted query whose answer is "pong") that gives up leaves its pong behind,
  // which the next call's catch-up must not take for its own fence.
  test("SRS-076 a ping that timed out does not put the answers after it out of step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.ping({ timeout: 20 }), TimeoutError);
    server.send("pong\n"); // its late answer
    server.answerPing = true;
    server.replies.set("a", "A\n");
    server.replies.set("b", "B\n");
    assert.equal(await client.request("a", { timeout: 500 }), "A");
    assert.equal(await client.request("b", { timeout: 500 }), "B");
    client.close();
  });
});

describe("client over a fake transport: back-pressure", () => {
  // What counts is the bytes received and not taken: "ab\n" is 3.
  test("SRS-081 the client stops reading once maxQueuedBytes are queued, and reads on as they are taken", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 3 });
    assert.equal(server.reads, 1);
    server.send("ab\n");
    server.send("cd\n");
    await settle();
    assert.equal(server.reads, 1, "3 bytes queued: no more reads");
    assert.equal(await client.recv(), "ab");
    await server.until(() => server.reads === 2);
    await settle();
    assert.equal(server.reads, 2);
    assert.equal(await client.recv(), "cd");
    await server.until(() => server.reads === 3);
    client.close();
  });

  test("SRS-081 below maxQueuedBytes the client keeps reading", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 4 });
    server.send("ab\n");
    await server.until(() => server.reads === 2);
    server.send("c\n");
    await settle();
    assert.equal(server.reads, 2);
    client.close();
  });

  test("SRS-081 taking a line resumes reading only once less than maxQueuedBytes is queued", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 6 });
    server.send("ab\ncd\nef\n");
    await settle();
    assert.equal(await client.recv(), "ab");
    await settle();
    assert.equal(server.reads, 1, "6 bytes still queued");
    assert.equal(await client.recv(), "cd");
    await server.until(() => server.reads === 2);
    assert.equal(await client.recv(), "ef");
    client.close();
  });

  test("SRS-081 the default maxQueuedBytes lets many lines queue", async () => {
    const { client, server } = await connected({ handshake: false });
    for (let i = 0; i < 10; i++) server.send(`line ${i}\n`);
    await server.until(() => server.reads === 11);
    assert.equal(await client.recv(), "line 0");
    client.close();
  });

  test("SRS-078 SRS-081 a client that stopped reading still reads to the end when it closes", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({ handshake: false, maxQueuedBytes: 3 }, server);
    server.send("ab\n");
    await settle();
    assert.equal(server.reads, 1);
    const took = performance.now();
    await client[Symbol.asyncDispose]();
    assert.ok(server.reads >= 2, "read on until the server closed");
    assert.ok(performance.now() - took < 900, "did not wait out the second");
    await assert.rejects(client.recv(), {
      name: "ConnectionClosedError",
      message: "the connection was closed by the client",
    });
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

  test("SRS-079 the client closes its socket once the server has closed", async () => {
    const { client, server } = await connected();
    server.end();
    await server.until(() => server.events.includes("close"));
    assert.equal(client.connected, false);
    assert.deepEqual(server.events, ["close"]);
    client.close();
  });
});

describe("client over a fake transport: iteration and handshake", () => {
  test("SRS-015 iteration waits as long as it takes, whatever the client's timeout", async () => {
    const { client, server } = await connected({ timeout: 20 });
    const lines = client[Symbol.asyncIterator]();
    const first = lines.next();
    await new Promise((resolve) => setTimeout(resolve, 60));
    server.send("late\n");
    assert.deepEqual(await first, { value: "late", done: false });
    server.end();
    assert.deepEqual(await lines.next(), { value: undefined, done: true });
  });

  test("SRS-080 SRS-011 SRS-154 a handshake answered with something else is a ProtocolError saying what to do; the client leaves politely", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    server.endOnCloseWrite = true;
    server.send("hello\n");
    await assert.rejects(connected({}, server), {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got "hello": if 127.0.0.1:5001 is an instrument, ' +
        "not a oneline server, connect with handshake: false",
    });
    assert.equal(server.written, "ping\ndisconnect\n");
    assert.equal(server.events[0], "closeWrite");
    assert.ok(server.events.includes("close"), "closed before connect rejected");
  });

  test("SRS-023 SRS-080 SRS-154 ServerBusyError names the address and the handshake's limit, and what to do for a device", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    await assert.rejects(connected({ timeout: 30, port: 7001 }, server), (error) => {
      assert.ok(error instanceof ServerBusyError);
      assert.equal(error.timeout, 30);
      assert.match(
        error.message,
        /^server at 127\.0\.0\.1:7001 accepted the connection but did not answer ping within 30 ms/,
      );
      assert.match(
        error.message,
        /for a device that does not answer ping, connect with handshake: false\)$/,
      );
      return true;
    });
    server.end();
  });

  test("SRS-080 the ConnectionClosedError of a handshake keeps its cause", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    server.end();
    await assert.rejects(connected({}, server), (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.ok(error.cause instanceof ConnectionClosedError);
      assert.equal(error.cause.message, "the server closed the connection");
      return true;
    });
  });
});

describe("client over a fake transport: limits of the waits", () => {
  test("SRS-015 a receive that gives up while an earlier one still waits leaves the earlier one its line", async () => {
    const { client, server } = await connected();
    const first = client.recv({ timeout: 1000 });
    await assert.rejects(client.recv({ timeout: 10 }), TimeoutError);
    server.send("x\ny\n");
    assert.equal(await first, "x");
    assert.equal(await client.recv({ timeout: 1000 }), "y");
    client.close();
  });

  test("SRS-076 a query's answer may come at any time within its limit", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("q", { timeout: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    server.send("Q\npong\n");
    assert.deepEqual(await answer, ["Q"]);
    client.close();
  });

  test("SRS-076 SRS-077 the catch-up of a call takes its signal", async () => {
    const { client, server } = await connected({ timeout: 2000 });
    server.answerPing = false;
    await assert.rejects(client.query("slow", { timeout: 10 }), TimeoutError);
    const cancel = new AbortController();
    const next = client.query("next", { signal: cancel.signal });
    await settle();
    const reason = new Error("cancelled while catching up");
    cancel.abort(reason);
    await assert.rejects(next, (error) => error === reason);
    client.close();
  });
});

describe("client over a fake transport: device mode", () => {
  test("SRS-145 device mode sends only what is asked: request reads one line, query its lines, no ping, no disconnect", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    server.replies.set("*IDN?", "ACME,METER,1\n");
    server.replies.set("LIST?", "a\nb\n");
    server.replies.set("ping", "pong\n");
    const { client } = await connected({ handshake: false }, server);
    assert.equal(await client.request("*IDN?"), "ACME,METER,1");
    assert.deepEqual(await client.query("LIST?", { lines: 2 }), ["a", "b"]);
    assert.deepEqual(await client.query("*IDN?"), ["ACME,METER,1"]);
    await client.ping(); // asked for: sent as it is, one line read
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "*IDN?\nLIST?\n*IDN?\nping\n");
  });

  test("SRS-146 after a call gave up, the next one drops the late answer first and gets its own", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 20 });
    await assert.rejects(client.query("slow?", { lines: 1, timeout: 20 }), TimeoutError);
    server.send("late\n");
    const next = client.request("fast?", { timeout: 2000 });
    await server.until(() => server.written.endsWith("fast?\n"));
    server.send("FAST\n");
    assert.equal(await next, "FAST");
    assert.equal(
      await client.request("again?", { timeout: 2000 }).catch(String),
      "TimeoutError: no response within 2000 ms",
    );
    assert.equal(server.written, "slow?\nfast?\nagain?\n", "nothing but the commands");
    client.close();
  });

  test("SRS-146 a late answer that comes while the next call drains is dropped too", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 1000 });
    await assert.rejects(client.request("slow?", { timeout: 20 }), TimeoutError);
    const next = client.request("fast?", { timeout: 5000 });
    await settle();
    server.send("la");
    server.send("te\n");
    await server.until(() => server.written.endsWith("fast?\n"));
    server.send("FAST\n");
    assert.equal(await next, "FAST");
    client.close();
  });

  test("SRS-146 clear() in device mode writes nothing and drops what comes until the device is quiet", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 20 });
    await client.send("A?");
    await client.send("B?");
    server.send("a\nb\npartial");
    await client.clear();
    server.send("c\n");
    assert.equal(await client.recv(), "c");
    assert.equal(server.written, "A?\nB?\n");
    client.close();
  });

  test("SRS-147 a device that never goes quiet: the next call gives up within its limit, naming quietTime, and writes nothing", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 100 });
    await assert.rejects(client.request("stream?", { timeout: 20 }), TimeoutError);
    const trickle = setInterval(() => server.send("x\n"), 5);
    try {
      await assert.rejects(client.request("next?", { timeout: 300 }), {
        name: "TimeoutError",
        message: "the device did not stay quiet for 100 ms (quietTime) within 300 ms: it still " +
          "sends what an earlier call left",
      });
    } finally {
      clearInterval(trickle);
    }
    assert.equal(server.written, "stream?\n");
    client.close();
  });

  test("SRS-148 device calls take turns: the second command is written once the first is answered", async () => {
    const { client, server } = await connected({ handshake: false });
    const first = client.request("A?");
    const second = client.request("B?");
    await server.until(() => server.written === "A?\n");
    await settle();
    assert.equal(server.written, "A?\n");
    server.send("a\n");
    await server.until(() => server.written === "A?\nB?\n");
    server.send("b\n");
    assert.deepEqual([await first, await second], ["a", "b"]);
    client.close();
  });

  test("SRS-153 a failed ping in device mode leaves the next answer in step", async () => {
    const { client, server } = await connected({ handshake: false });
    server.answerPing = false;
    server.replies.set("ping", "ERR -113\n");
    server.replies.set("*IDN?", "ACME\n");
    await assert.rejects(client.ping(), {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got "ERR -113"',
    });
    assert.equal(await client.request("*IDN?"), "ACME");
    client.close();
  });
});

describe("client over a fake transport: limits that hold", () => {
  test("SRS-149 a call's limit counts from the call: waiting for its turn counts, and it never writes", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.query("held", { lines: 1, timeout: 5000 });
    await server.until(() => server.written.endsWith("held\n"));
    await assert.rejects(client.request("next", { timeout: 30 }), {
      name: "TimeoutError",
      message: "no response within 30 ms: the calls before it held the connection all that time",
    });
    server.send("H\n");
    assert.deepEqual(await first, ["H"]);
    await settle();
    assert.equal(server.written, "ping\nheld\n");
    client.close();
  });

  test("SRS-150 a queued call whose signal aborts rejects at once and never writes", async () => {
    const { client, server } = await connected({ handshake: false });
    const first = client.request("A?");
    const cancel = new AbortController();
    const second = client.request("B?", { signal: cancel.signal });
    const reason = new Error("not any more");
    cancel.abort(reason);
    await assert.rejects(second, (error) => error === reason);
    server.send("a\n");
    assert.equal(await first, "a");
    server.replies.set("C?", "c\n");
    assert.equal(await client.request("C?"), "c");
    assert.equal(server.written, "A?\nC?\n");
    client.close();
  });

  test("SRS-151 a write the peer does not take counts toward the limit; close() then ends within closeTimeout", async () => {
    const { client, server } = await connected({ closeTimeout: 50 });
    server.hold = new Promise(() => {});
    await assert.rejects(client.request("big", { timeout: 30 }), {
      name: "TimeoutError",
      message: "not sent within 30 ms: the peer does not read what the client writes",
    });
    await assert.rejects(client.send("more", { timeout: 30 }), {
      name: "TimeoutError",
      message: "no response within 30 ms: the calls before it held the connection all that time",
    });
    const started = performance.now();
    await client[Symbol.asyncDispose]();
    assert.ok(performance.now() - started < 1000, "did not wait on the write");
    assert.ok(server.events.includes("close"));
    assert.deepEqual(server.writes, ["ping\n", "big\nping\n", "disconnect\n"]);
  });
});

describe("client over a fake transport: answers never altered", () => {
  test("SRS-152 an answer that is not UTF-8 is an InvalidResponseError with its bytes; the next call is in step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.request("latin1");
    await server.until(() => server.written.endsWith("latin1\nping\n"));
    server.send(new Uint8Array([0x32, 0x35, 0xb0, 0x43, 0x0a]));
    server.send("pong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof InvalidResponseError);
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.reason, "decode");
      assert.deepEqual([...error.raw], [0x32, 0x35, 0xb0, 0x43]);
      assert.match(error.message, /requestBytes\(\)/);
      return true;
    });
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    server.send(new Uint8Array([0xff, 0x0a]));
    await assert.rejects(client.recv(), InvalidResponseError);
    client.close();
  });

  test("SRS-152 recvLine hands out such lines flagged, with their bytes", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.send(new Uint8Array([0xff, 0x0a, 0x61, 0x62, 0x63, 0x64, 0x65, 0x0a]));
    const bad = await client.recvLine();
    assert.deepEqual([bad.invalid, bad.reason, [...bad.raw]], [true, "decode", [0xff]]);
    const long = await client.recvLine();
    assert.deepEqual([long.invalid, long.reason, long.text], [true, "too_long", "abcd"]);
    client.close();
  });

  test("SRS-152 the default maxLineBytes keeps a 100,000-byte answer whole", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const long = "x".repeat(100_000);
    const answer = client.request("dump");
    server.send(long.slice(0, 65_536));
    server.send(long.slice(65_536) + "\npong\n");
    assert.equal((await answer).length, 100_000);
    client.close();
  });

  test("SRS-161 requestBytes gives the answer line's bytes as they came", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.requestBytes("raw");
    await server.until(() => server.written.endsWith("raw\nping\n"));
    server.send(new Uint8Array([0xb0, 0x00, 0x41, 0x0a]));
    server.send("pong\n");
    assert.deepEqual([...await answer], [0xb0, 0x00, 0x41]);
    client.close();
  });
});

describe("client over a fake transport: failures leave the client in step", () => {
  test("SRS-153 a ping answered after a banner is a ProtocolError, and every answer after it is in step", async () => {
    const { client, server } = await connected();
    server.send("hello, I am a banner\n");
    await assert.rejects(client.ping(), {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got ["hello, I am a banner","pong"]',
    });
    server.replies.set("a", "A\n");
    server.replies.set("b", "B\n");
    assert.equal(await client.request("a"), "A");
    assert.equal(await client.request("b"), "B");
    client.close();
  });

  test("SRS-156 a counted query has the connection to itself: the call after it is written once it is answered", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const counted = client.query("two", { lines: 2 });
    const fenced = client.request("next");
    await server.until(() => server.written.endsWith("two\n"));
    await settle();
    assert.ok(!server.written.includes("next"));
    server.send("1\n2\n");
    await server.until(() => server.written.endsWith("next\nping\n"));
    server.send("N\npong\n");
    assert.deepEqual([await counted, await fenced], [["1", "2"], "N"]);
    client.close();
  });
});

describe("client over a fake transport: blocks", () => {
  const block = (data: number[], after = "\n") =>
    new Uint8Array([
      ...encoder.encode(`#${String(data.length).length}${data.length}`),
      ...data,
      ...encoder.encode(after),
    ]);

  test("SRS-159 queryBlock in device mode reads a block whose data holds LF and CR, across reads", async () => {
    const { client, server } = await connected({ handshake: false, readTerminator: "\r\n" });
    const data = [0x0a, 0x0d, 0x0a, 0x00, 0xff, 0x0d];
    const answer = client.queryBlock("CURV?");
    await server.until(() => server.written === "CURV?\n");
    const bytes = block(data, "\r\n");
    for (const byte of bytes) server.send(new Uint8Array([byte]));
    assert.deepEqual([...await answer], data);
    server.replies.set("*IDN?", "ACME\r\n");
    assert.equal(await client.request("*IDN?"), "ACME");
    client.close();
  });

  test("SRS-159 queryBlock with a oneline server fences the block; readBlock reads one after send", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.queryBlock("data");
    await server.until(() => server.written.endsWith("data\nping\n"));
    server.send(block([0x70, 0x6f, 0x6e, 0x67, 0x0a]));
    server.send("pong\n");
    assert.deepEqual([...await answer], [0x70, 0x6f, 0x6e, 0x67, 0x0a]);
    await client.send("raw");
    server.send(block([1, 2, 3]));
    assert.deepEqual([...await client.readBlock()], [1, 2, 3]);
    client.close();
  });

  test("SRS-160 an answer that is not a block is a BlockFormatError holding its line; the next call is in step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.queryBlock("data");
    await server.until(() => server.written.endsWith("data\nping\n"));
    server.send("ERR -113, undefined header\npong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof BlockFormatError);
      assert.equal(decoder.decode(error.raw), "ERR -113, undefined header");
      return true;
    });
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    client.close();
  });

  test("SRS-160 an indefinite #0 block, a block over maxBlockBytes and lines after a block are errors", async () => {
    const { client, server } = await connected({ maxBlockBytes: 4 });
    server.answerPing = false;
    const cases: [string | Uint8Array, RegExp][] = [
      ["#0abc\n", /indefinite-length block \(#0\)/],
      [block([1, 2, 3, 4, 5]), /a block of 5 bytes is over maxBlockBytes \(4\)/],
      [
        new Uint8Array([...block([1]), ...encoder.encode("extra\n")]),
        /followed by more lines: \["extra"\]/,
      ],
      [block([1], "X\n"), /not followed by the terminator/],
    ];
    for (const [answer, message] of cases) {
      const call = client.queryBlock("data");
      await server.until(() => server.written.endsWith("data\nping\n"));
      server.writes.length = 0;
      server.send(answer);
      server.send("pong\n");
      await assert.rejects(call, message);
    }
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    client.close();
  });
});
