import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import type { ConnectOptions } from "./client.ts";
import { ConnectError, ConnectionClosedError, ProtocolError } from "./errors.ts";
import { ServerBusyError, TimeoutError } from "./errors.ts";
import {
  assertSocketsClosed,
  openSockets,
  startServer,
  withClient,
  withFakeServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

describe("client", () => {
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

  test("SRS-013 SRS-015 request sends a command and receives its response", async () => {
    await withClient({}, async (client) => {
      assert.equal(await client.request("cmd01"), "echo:cmd01");
      assert.equal(await client.request("grüße"), "echo:grüße");
    });
  });

  test("SRS-014 send appends the LF and refuses CR or LF in a command", async () => {
    const received: string[] = [];
    await withClient({ handler: (command) => void received.push(command) }, async (client) => {
      await assert.rejects(client.send("two\nlines"), TypeError);
      await assert.rejects(client.send("cr\r"), TypeError);
      await client.send("a b");
      await client.ping();
    });
    assert.deepEqual(received, ["a b"]);
  });

  test("SRS-015 SRS-018 pipelined sends are answered in order, several lines each", async () => {
    const handler = (command: string) => [command, command.toUpperCase()];
    await withClient({ handler }, async (client) => {
      await Promise.all(["a", "b", "c"].map((command) => client.send(command)));
      const lines = [];
      for (let i = 0; i < 6; i++) lines.push(await client.recv());
      assert.deepEqual(lines, ["a", "A", "b", "B", "c", "C"]);
    });
  });

  test("SRS-015 recv times out with a typed error, not an empty string", async () => {
    await withClient({ handler: () => undefined }, async (client) => {
      await client.send("silent");
      const started = Date.now();
      const error = await client.recv({ timeout: 100 }).catch((e) => e);
      const waited = Date.now() - started;
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.timeout, 100);
      assert.ok(waited >= 90 && waited < 1000, `waited ${waited} ms`);
      // The connection is still usable afterwards.
      await client.ping();
    });
  });

  test("SRS-015 recvLine gives the raw bytes and invalid flag of a response", async () => {
    await withFakeServer((socket) => {
      socket.on(
        "data",
        () => socket.write(new Uint8Array([0x70, 0x6f, 0x6e, 0x67, 0x0a, 0x61, 0xff, 0x0a])),
      );
    }, async (port) => {
      const client = await connect({ port });
      try {
        const line = await client.recvLine();
        assert.deepEqual([line.text, line.invalid, line.reason, [...line.raw]], [
          "a",
          true,
          "decode",
          [0x61, 0xff],
        ]);
      } finally {
        client.close();
      }
    });
  });

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

  test("SRS-015 async iteration yields responses until the server closes", async () => {
    await withClient({ handler: (command) => ["x", command] }, async (client) => {
      await client.send("a");
      await client.send("disconnect");
      const lines: string[] = [];
      for await (const line of client) lines.push(line);
      assert.deepEqual(lines, ["x", "a"]);
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
