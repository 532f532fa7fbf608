// Reliability: no client, however hostile or broken, can crash, stall or hold
// the server. Each test plays a peer that misbehaves, then checks that the
// server is still up and serves the next client.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import * as tls from "node:tls";
import { serve } from "./server.ts";
import type { HandlerContext } from "./server.ts";
import { ListenError, TimeoutError } from "./errors.ts";
import { runtimeTransport } from "./runtime.ts";
import type { Connection, Listener, Transport } from "./transport.ts";
import {
  assertServed,
  assertSocketsClosed,
  deferred,
  openSockets,
  RawClient,
  scriptArgs,
  spawnScript,
  startServer,
  Subprocess,
  testdataPath,
  type TestServer,
  testTls,
  timeout,
  untilSteady,
  waitUntil,
  within,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

const { cert, key, ca } = testTls();
const serverTls = { cert, key };

// Holds the server's one slot with a client that has been served.
async function holdSlot(server: TestServer): Promise<RawClient> {
  const holder = await RawClient.connect(server.port!);
  await holder.write("ping\n");
  assert.equal(await holder.readLine(), "pong");
  return holder;
}

// Resolves once `socket` is open, or rejects on its error.
function opened(socket: net.Socket, event = "connect"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve(socket));
    socket.once("error", reject);
  });
}

// Resolves once `socket` has ended its side (or closed).
function closedOrEnded(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once("finish", resolve);
    socket.once("close", resolve);
  });
}

describe("hostile and broken clients", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-065 connect-and-reset storms from another process neither crash nor stall the server", async () => {
    await withServer({}, async (server) => {
      let failure: unknown;
      server.finished.catch((error) => failure = error);
      const storm = spawnScript(testdataPath("reset_storm.ts"), [String(server.port), "800"]);
      const run = await storm.done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /done/);
      await assertServed(server);
      assert.equal(failure, undefined);
      assert.equal(server.running, true);
      assert.deepEqual(server.logger.errors, []);
    });
  });

  test("SRS-065 whatever a connection throws ends that connection only; the server serves on", async () => {
    // A transport whose first connection has no usable address and fails every operation.
    const base = await runtimeTransport();
    const broken: Connection = {
      remoteAddr: { transport: "tcp", hostname: undefined as unknown as string, port: 0 },
      read: () => Promise.reject(new Error("read failed")),
      write: () => Promise.reject(new Error("write failed")),
      closeWrite: () => Promise.reject(new Error("closeWrite failed")),
      watch: () => new Promise(() => {}),
      close: () => {
        throw new Error("close failed");
      },
    };
    const transport: Transport = {
      connect: (endpoint) => base.connect(endpoint),
      async listen(endpoint, limits) {
        const listener = await base.listen(endpoint, limits);
        let first = true;
        const wrapped: Listener = {
          addr: listener.addr,
          close: () => listener.close(),
          accept() {
            if (!first) return listener.accept();
            first = false;
            return Promise.resolve(broken);
          },
        };
        return wrapped;
      },
    };
    await withServer({ transport }, async (server) => {
      let failure: unknown;
      server.finished.catch((error) => failure = error);
      await assertServed(server);
      assert.equal(failure, undefined);
      assert.equal(server.logger.errors.length, 1);
      assert.match(server.logger.errors[0].message, /a connection failed/);
    });
  });

  test("SRS-066 waiting clients that reset are skipped at once and quietly", async () => {
    await withServer({}, async (server) => {
      const holder = await holdSlot(server);
      for (let i = 0; i < 20; i++) {
        const socket = await opened(net.connect({ port: server.port!, host: "127.0.0.1" }));
        socket.resetAndDestroy();
      }
      await holder.write("disconnect\n");
      await assertServed(server, 1000);
      holder.destroy();
      assert.deepEqual(server.logger.errors, []);
    });
  });

  test("SRS-066 a waiting client that sends its commands and ends its side is served at its turn", async () => {
    const handler = (command: string) => `echo:${command}`;
    await withServer({ handler }, async (server) => {
      const holder = await holdSlot(server);
      const client = await RawClient.connect(server.port!, "127.0.0.1", true);
      try {
        // As `printf 'a\nb\nping\n' | nc` does: everything, then the end of stream, while it waits.
        await client.write("a\nb\nping\n");
        client.end();
        await new Promise((resolve) => client.socket.once("finish", resolve));
        await waitUntil(() => server.waiting === 1, "the client waiting");
        await holder.write("disconnect\n");
        assert.deepEqual(await client.readLines(3), ["echo:a", "echo:b", "pong"]);
        assert.equal(await client.untilClosed(), "");
      } finally {
        client.destroy();
        holder.destroy();
      }
    });
  });

  test("SRS-066 a waiting client that sends more than is read ahead loses nothing", async () => {
    const handler = (command: string) => `echo:${command}`;
    await withServer({ handler }, async (server) => {
      const holder = await holdSlot(server);
      const client = await RawClient.connect(server.port!);
      try {
        // About 28 KiB while it waits: more than a waiting connection reads ahead.
        const count = 3000;
        await client.write(Array.from({ length: count }, (_, i) => `c${i}\n`).join(""));
        await waitUntil(() => server.waiting === 1, "the client waiting");
        await holder.write("disconnect\n");
        const lines = await client.readLines(count, 10_000);
        lines.forEach((line, i) => assert.equal(line, `echo:c${i}`));
      } finally {
        client.destroy();
        holder.destroy();
      }
    });
  });

  test("SRS-066 TLS clients that reset or close while they wait do not block the next", async () => {
    await withServer({ tls: serverTls }, async (server) => {
      // TLS over a TCP socket of our own: Node resets only a plain TCP socket.
      const tcpUnder = new Map<net.Socket, net.Socket>();
      const tlsClient = async () => {
        const tcp = net.connect(server.port!, "127.0.0.1");
        const socket = await opened(
          tls.connect({ socket: tcp, ca, servername: "localhost" }),
          "secureConnect",
        );
        tcpUnder.set(socket, tcp);
        return socket;
      };
      const holder = await tlsClient();
      holder.write("ping\n");
      await new Promise((resolve) => holder.once("data", resolve));
      const waiting = await Promise.all(Array.from({ length: 10 }, () => tlsClient()));
      waiting.forEach((socket, i) =>
        i % 2 === 0 ? tcpUnder.get(socket)!.resetAndDestroy() : socket.end()
      );
      await Promise.all(
        waiting.map((socket) => socket.destroyed ? undefined : closedOrEnded(socket)),
      );
      holder.end("disconnect\n");
      const next = await tlsClient();
      try {
        next.write("ping\n");
        const answer = await new Promise<string>((resolve, reject) => {
          next.once("data", (data) => resolve(String(data)));
          next.once("close", () => reject(new Error("closed without an answer")));
          setTimeout(() => reject(new Error("no answer within 3000 ms")), 3000);
        });
        assert.equal(answer, "pong\n");
      } finally {
        next.destroy();
        holder.destroy();
      }
    });
  });

  test("SRS-068 a client that resets while an async handler runs aborts its signal and frees the slot", async () => {
    const started = deferred();
    const aborted = deferred<string>();
    const handler = (command: string, context: HandlerContext) => {
      if (command !== "hang") return command;
      started.resolve();
      return new Promise<undefined>(() => {
        context.signal.addEventListener("abort", () => aborted.resolve("aborted"));
      });
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!);
      await client.write("hang\n");
      await started.promise;
      client.reset();
      assert.equal(await aborted.promise, "aborted");
      await assertServed(server);
    });
  });

  test("SRS-068 a client that only ends its side while a handler runs still gets the answer", async () => {
    const started = deferred();
    const release = deferred();
    let abortedWhileRunning: boolean | undefined;
    const handler = async (command: string, context: HandlerContext) => {
      started.resolve();
      await release.promise;
      abortedWhileRunning = context.signal.aborted;
      return `done:${command}`;
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!, "127.0.0.1", true);
      try {
        await client.write("slow\n");
        await started.promise;
        client.end();
        // The end of stream reaches the server before the answer is released.
        await new Promise((resolve) => client.socket.once("finish", resolve));
        release.resolve();
        assert.equal(await client.readLine(), "done:slow");
        assert.equal(abortedWhileRunning, false);
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-069 a line sent after a handler's first await goes out at once", async () => {
    const release = deferred();
    const handler = async (_command: string, context: HandlerContext) => {
      await Promise.resolve();
      context.send("first");
      await release.promise;
      return "last";
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("go\n");
        assert.equal(await client.readLine(), "first");
        release.resolve();
        assert.equal(await client.readLine(), "last");
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-069 sends count toward maxPendingBytes: awaiting them holds a handler while the client does not read", async () => {
    const total = 200_000;
    let sent = 0;
    const handler = async (_command: string, context: HandlerContext) => {
      for (let i = 0; i < total; i++) {
        await context.send(`${i} ${"s".repeat(100)}`);
        sent++;
      }
      return "end";
    };
    await withServer({ handler, maxPendingBytes: 64 * 1024 }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        client.socket.pause();
        await client.write("flood\n");
        // Wait until the handler stops advancing: it waits for room.
        await untilSteady(() => sent);
        assert.ok(
          sent < total / 2,
          `${sent} of ${total} lines sent to a client that reads nothing`,
        );
        client.socket.resume();
        const lines = await client.readLines(total + 1, 30_000);
        lines.slice(0, total).forEach((line, i) => assert.equal(line, `${i} ${"s".repeat(100)}`));
        assert.equal(lines[total], "end");
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-069 many awaited sends to a reading client all arrive, in order", async () => {
    const total = 100_000;
    const handler = async (_command: string, context: HandlerContext) => {
      for (let i = 0; i < total; i++) await context.send(`${i} ${"s".repeat(100)}`);
      return "end";
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("flood\n");
        const lines = await client.readLines(total + 1, 30_000);
        lines.slice(0, total).forEach((line, i) => assert.equal(line, `${i} ${"s".repeat(100)}`));
        assert.equal(lines[total], "end");
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-070 at most maxWaiting clients wait; more are closed at once, logged once; the waiting are served in order", async () => {
    await withServer({ maxWaiting: 3 }, async (server) => {
      const holder = await holdSlot(server);
      const waiting = [];
      for (let i = 0; i < 3; i++) {
        const client = await RawClient.connect(server.port!);
        await client.write(`w${i}\nping\n`);
        waiting.push(client);
      }
      const refused = await Promise.all(
        [0, 1, 2].map(() => RawClient.connect(server.port!).then((c) => c.untilClosed(2000))),
      );
      assert.deepEqual(refused, ["", "", ""]);
      assert.equal(server.logger.infos.filter((m) => /refusing/.test(m)).length, 1);
      await holder.write("disconnect\n");
      for (const [i, client] of waiting.entries()) {
        assert.deepEqual(await client.readLines(2), [`echo:w${i}`, "pong"]);
        await client.write("disconnect\n");
        await client.untilClosed();
      }
      holder.destroy();
      assert.ok(server.logger.infos.some((m) => /refused 3 client/.test(m)));
    });
  });

  test("SRS-070 a thousand clients can wait their turn", async () => {
    const count = 1000;
    await withServer({}, async (server) => {
      const holder = await holdSlot(server);
      const connects: Promise<RawClient>[] = [];
      for (let i = 0; i < count; i++) connects.push(RawClient.connect(server.port!));
      // All connect while the slot is held (a kernel backlog alone holds far fewer).
      const clients = await Promise.race([
        Promise.all(connects),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("not all clients could connect")), 5000)
        ),
      ]).finally(() => Promise.all(connects).catch(() => []));
      try {
        await Promise.all(clients.map((client) => client.write("ping\ndisconnect\n")));
        await holder.write("disconnect\n");
        const answers = await Promise.all(clients.map((client) => client.untilClosed(30_000)));
        const others = answers.filter((answer) => answer !== "pong\n");
        assert.deepEqual(others, []);
      } finally {
        for (const client of clients) client.destroy();
        holder.destroy();
      }
    });
  });

  test("SRS-070 under a low open-file limit, fewer wait, and the server says so and serves on", async () => {
    const [command, ...args] = [process.execPath, ...scriptArgs(testdataPath("logging_server.ts"))];
    const script = new Subprocess("bash", [
      "-c",
      'ulimit -n 128; exec "$0" "$@"',
      command,
      ...args,
    ]);
    const clients: RawClient[] = [];
    try {
      const port = Number((await script.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
      await script.waitFor(
        /maxWaiting 1024 is more than the open-file limit \(128\) allows: 64 wait/,
      );
      const holder = await RawClient.connect(port);
      await holder.write("ping\n");
      assert.equal(await holder.readLine(), "pong");
      for (let i = 0; i < 90; i++) {
        const client = await RawClient.connect(port);
        await client.write("disconnect\n");
        clients.push(client);
      }
      await script.waitFor(/64 clients wait: refusing more/);
      await holder.write("disconnect\n");
      await holder.untilClosed();
      holder.destroy();
      // Each waiter is either refused at once or served in its turn, and leaves.
      await Promise.all(clients.map((client) => client.untilClosed(10_000)));
      const last = await RawClient.connect(port);
      clients.push(last);
      await last.write("ping\n");
      assert.equal(await last.readLine(10_000), "pong");
    } finally {
      for (const client of clients) client.destroy();
      script.child.kill();
    }
  });

  test("SRS-070 a TLS client that never completes its handshake is dropped after handshakeTimeout", async () => {
    await withServer({ tls: serverTls, handshakeTimeout: 200 }, async (server) => {
      const silent = await RawClient.connect(server.port!);
      try {
        assert.equal(await silent.untilClosed(5000), "");
      } finally {
        silent.destroy();
      }
    });
  });

  test("SRS-071 a connection check that never settles refuses that client after acceptConnectionTimeout", async () => {
    let calls = 0;
    const acceptConnection = () => calls++ === 0 ? new Promise<boolean>(() => {}) : true;
    await withServer({ acceptConnection, acceptConnectionTimeout: 100 }, async (server) => {
      const stuck = await RawClient.connect(server.port!);
      try {
        assert.equal(await stuck.untilClosed(5000), "");
      } finally {
        stuck.destroy();
      }
      await assertServed(server);
      assert.equal(server.logger.errors.length, 1);
      assert.ok(server.logger.errors[0].error instanceof TimeoutError);
    });
  });

  test("SRS-071 a script whose handler never settles stays up; the client's reset frees the slot", async () => {
    const script = spawnScript(testdataPath("hang_server.ts"), []);
    try {
      const port = Number((await script.waitFor(/listening (\d+)/))[1]);
      const first = await RawClient.connect(port);
      await first.write("hang\n");
      await script.waitFor(/hanging/);
      first.reset();
      const second = await RawClient.connect(port);
      await second.write("ping\n");
      assert.equal(await second.readLine(5000), "pong");
      await second.write("shutdown\n");
      await second.untilClosed();
      const run = await script.done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /finished/);
    } finally {
      script.child.kill();
    }
  });
});

describe("found by the red team", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-075 a signal aborted while serve() binds makes it reject, and nothing stays bound", async () => {
    const controller = new AbortController();
    const starting = serve({
      port: 0,
      logger: null,
      handler: () => "x",
      signal: controller.signal,
    });
    controller.abort();
    await assert.rejects(starting, (error: unknown) => (error as Error).name === "AbortError");
  });

  test("SRS-075 a handler that fails with a Symbol or a prototype-less object, and a logger that throws, stop nothing", async () => {
    const handler = (command: string) => {
      if (command === "symbol") return Promise.reject(Symbol("odd"));
      if (command === "bare") throw Object.create(null);
      return command;
    };
    const infos: string[] = [];
    const logger = { info: (message: string) => infos.push(message) };
    await withServer({ handler, logger }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("symbol\nbare\nping\n");
        assert.equal(await client.readLine(), "pong");
      } finally {
        client.destroy();
      }
      assert.ok(infos.some((m) => m.includes("Symbol(odd)")), infos.join("\n"));
      assert.ok(infos.some((m) => m.includes("[object Object]")), infos.join("\n"));
    });
    const throwing = {
      info() {
        throw new Error("logger broke");
      },
    };
    await withServer({ handler, logger: throwing, verbose: true }, async (server) => {
      await assertServed(server);
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("symbol\nok\n");
        assert.equal(await client.readLine(), "ok");
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-075 bytes a client trickles while it waits and while its handler runs all arrive, in order", async () => {
    const count = 600;
    const handler = async (command: string) => {
      await timeout(1, undefined);
      return `echo:${command}`;
    };
    await withServer({ handler }, async (server) => {
      const holder = await holdSlot(server);
      const client = await RawClient.connect(server.port!);
      try {
        // One byte per write, while it waits its turn, then while its handlers run.
        const bytes = Array.from({ length: count }, (_, i) => `c${i}\n`).join("");
        const half = bytes.length >> 1;
        for (const byte of bytes.slice(0, half)) await client.write(byte);
        await holder.write("disconnect\n");
        for (const byte of bytes.slice(half)) await client.write(byte);
        const lines = await client.readLines(count, 20_000);
        lines.forEach((line, i) => assert.equal(line, `echo:c${i}`));
      } finally {
        client.destroy();
        holder.destroy();
      }
    });
  });

  test("SRS-075 close() does not wait for a TLS handshake that stalls, nor for a connection check", async () => {
    const stalled = await startServer({ tls: serverTls, handshakeTimeout: 60_000 });
    const silent = await RawClient.connect(stalled.port!);
    try {
      // The TLS server has the silent connection once a second one is accepted after it.
      const probe = await RawClient.connect(stalled.port!);
      probe.destroy();
      await within(5000, stalled.close(), "close() with a stalled handshake");
    } finally {
      silent.destroy();
    }
    const checking = deferred();
    const acceptConnection = () => {
      checking.resolve();
      return new Promise<boolean>(() => {});
    };
    const checked = await startServer({ acceptConnection, acceptConnectionTimeout: 60_000 });
    const client = await RawClient.connect(checked.port!);
    try {
      await checking.promise;
      await within(5000, checked.close(), "close() during a connection check");
      assert.deepEqual(checked.logger.errors, []);
    } finally {
      client.destroy();
    }
  });

  test("SRS-071 a connection check that returns something other than a boolean refuses, and says so", async () => {
    const acceptConnection = () => 1 as unknown as boolean;
    await withServer({ acceptConnection }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        assert.equal(await client.untilClosed(), "");
      } finally {
        client.destroy();
      }
      assert.equal(server.logger.errors.length, 1);
      assert.match(server.logger.errors[0].message, /returned 1, not a boolean; refused/);
    });
  });
});

describe("failed commands", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  const onError = (error: unknown, command: string) =>
    `error - ${command}: ${error instanceof Error ? error.message : error}`;

  test("SRS-072 onError answers a handler that throws, rejects or answers wrongly", async () => {
    const handler = (command: string) => {
      if (command === "throw") throw new Error("thrown");
      if (command === "reject") return Promise.reject(new Error("rejected"));
      if (command === "wrong") return "two\nlines";
      return command;
    };
    await withServer({ handler, onError }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("throw\nreject\nwrong\nok\n");
        const lines = await client.readLines(4);
        assert.equal(lines[0], "error - throw: thrown");
        assert.equal(lines[1], "error - reject: rejected");
        assert.match(lines[2], /^error - wrong: .*CR or LF/);
        assert.equal(lines[3], "ok");
      } finally {
        client.destroy();
      }
      assert.equal(server.logger.errors.length, 3);
    });
  });

  test("SRS-072 onError answers a handler timeout with a TimeoutError before the close", async () => {
    const handler = () => new Promise<string>(() => {});
    let seen: unknown;
    const onTimeout = (error: unknown) => {
      seen = error;
      return "error - timeout";
    };
    await withServer({ handler, onError: onTimeout, handlerTimeout: 100 }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("slow\n");
        assert.equal(await client.untilClosed(), "error - timeout\n");
        assert.ok(seen instanceof TimeoutError);
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-072 an onError that throws or answers wrongly sends nothing and is logged", async () => {
    const handler = () => {
      throw new Error("boom");
    };
    const failing = (_error: unknown, command: string) => {
      if (command === "a") throw new Error("onError broke");
      return "bad\nline";
    };
    await withServer({ handler, onError: failing }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("a\nb\nping\n");
        assert.equal(await client.readLine(), "pong");
      } finally {
        client.destroy();
      }
      const messages = server.logger.errors.map((e) => e.message);
      assert.equal(messages.length, 4);
      assert.match(messages[1], /onError failed on "a"/);
      assert.match(messages[3], /onError answered "b" wrongly/);
    });
  });
});

describe("listen failures", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-073 a listen failure rejects with ListenError naming the address, on every runtime", async () => {
    const path = "/nonexistent-oneline-dir/server.sock";
    const error = await serve({ path, logger: null, handler: () => undefined }).then(
      () => assert.fail("listened on a path in a missing directory"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ListenError, String(error));
    assert.equal(error.address, path);
    assert.ok(error.message.startsWith(`cannot listen on ${path}: `), error.message);
    assert.ok(error.cause !== undefined);
  });

  test("SRS-073 an address in use is a ListenError too", async () => {
    const first = await startServer();
    try {
      await assert.rejects(startServer({ port: first.port }), ListenError);
    } finally {
      await first.close();
    }
  });
});
