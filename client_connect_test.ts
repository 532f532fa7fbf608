// The client's connecting: the handshake, what it tells of the server it reached, its options,
// retry and readiness; over an in-memory transport and over real sockets.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { connect } from "./client.ts";
import type { ConnectOptions } from "./client.ts";
import {
  ConnectError,
  ConnectionClosedError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
} from "./errors.ts";
import type { HandlerContext } from "./server.ts";
import {
  assertSocketsClosed,
  connected,
  FakeServer,
  FakeTransport,
  openSockets,
  settle,
  startServer,
  testTls,
  timeout,
  untilSteady,
  variedHandler,
  withClient,
  withFakeServer,
  withServer,
} from "./test_util.ts";
import type { Connection } from "./transport.ts";

const socketsAtStart = openSockets();

describe("client over sockets: connecting", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-011 connect shakes hands with ping and reports the server's address", async () => {
    await withClient({}, async (client, server) => {
      assert.equal(client.connected, true);
      assert.deepEqual(client.remoteAddr, {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: server.port,
      });
      await client.ping();
    });
  });

  test("SRS-023 a busy server makes the handshake time out with ServerBusyError", async () => {
    const server = await startServer();
    try {
      const first = await connect({ port: server.port });
      const started = Date.now();
      const error = await connect({ port: server.port, timeout: 200 }).catch((e) => e);
      assert.ok(error instanceof ServerBusyError && error instanceof TimeoutError);
      assert.match(error.message, /busy with another client/);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
      assert.ok(Date.now() - started < 1000);
      await first.disconnect();
      const second = await connect({ port: server.port, timeout: 1000 });
      second.close();
    } finally {
      await server.close();
    }
  });

  test("SRS-011 a refused connection is a ConnectError naming the address", async () => {
    const server = await startServer();
    const port = server.port!;
    await server.close();
    const error = await connect({ port }).catch((e) => e);
    assert.ok(error instanceof ConnectError);
    assert.equal(error.address, `127.0.0.1:${port}`);
  });

  test("SRS-011 a handshake answered with anything but pong is a ProtocolError", async () => {
    await withFakeServer(
      (socket) => socket.on("data", () => socket.write("hello\n")),
      async (port) => {
        await assert.rejects(connect({ port }), ProtocolError);
      },
    );
  });

  test("SRS-011 handshake: false connects to any TCP server without a ping", async () => {
    let seen = "";
    let arrived: () => void;
    const hi = new Promise<void>((resolve) => arrived = resolve);
    await withFakeServer(
      (socket) =>
        socket.on("data", (data) => {
          seen += String(data);
          if (seen.endsWith("hi\n")) arrived();
        }),
      async (port) => {
        const client = await connect({ port, handshake: false });
        await client.send("hi");
        // Everything the client sent before "hi" has arrived by now: it must be nothing.
        await hi;
        assert.equal(seen, "hi\n");
        client.close();
      },
    );
  });

  test("SRS-002 wrong client options are TypeError or RangeError", async () => {
    const cases: [unknown, ErrorConstructor][] = [
      [{ port: 0 }, RangeError],
      [{ port: 70000 }, RangeError],
      [{ port: "5001" }, TypeError],
      [{ hostname: 1 }, TypeError],
      [{ timeout: -1 }, RangeError],
      [{ timeout: "1" }, TypeError],
      [{ maxLineBytes: 0 }, RangeError],
      [{ path: "" }, TypeError],
      [null, TypeError],
    ];
    for (const [options, type] of cases) {
      await assert.rejects(connect(options as ConnectOptions), type, JSON.stringify(options));
    }
    await withClient({}, async (client) => {
      // Every async method reports a bad argument as a rejection, never by throwing.
      const calls: [string, () => Promise<unknown>, ErrorConstructor][] = [
        ["recv", () => client.recv({ timeout: 0 }), RangeError],
        ["recvLine", () => client.recvLine({ timeout: -1 }), RangeError],
        ["request", () => client.request("x", { timeout: "1" as unknown as number }), TypeError],
        ["send", () => client.send("a\nb"), TypeError],
        ["ping", () => client.ping({ timeout: 0 }), RangeError],
      ];
      for (const [name, call, type] of calls) {
        let result: Promise<unknown> | undefined;
        assert.doesNotThrow(() => result = call(), name);
        await assert.rejects(result!, type, name);
      }
      // Nothing was sent by the calls that failed their check.
      assert.equal(await client.request("ping"), "pong");
    });
  });
});

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

describe("client over a fake transport: iteration and handshake", () => {
  test("SRS-015 iteration waits as long as it takes, whatever the client's timeout", async () => {
    const { client, server } = await connected({ timeout: 20 });
    const lines = client[Symbol.asyncIterator]();
    const first = lines.next();
    await timeout(60, undefined);
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
    const server = await startServer({ port, handler: variedHandler });
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
