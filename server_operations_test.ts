// What operators see and do: hooks as clients come and go, who holds the slot,
// counts, and a graceful shutdown.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ClientInfo, DisconnectReason, HandlerContext } from "./server.ts";
import {
  assertSocketsClosed,
  deferred,
  openSockets,
  RawClient,
  waitUntil,
  within,
  withRawClient,
  withServer,
} from "./test_util.ts";
import { serve } from "./server.ts";
import type { OnelineServer } from "./server.ts";

const socketsAtStart = openSockets();

describe("hooks", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-098 connect, command and disconnect are called in order, built-ins and ping included", async () => {
    const events: string[] = [];
    const clients: ClientInfo[] = [];
    const on = {
      connect(client: ClientInfo) {
        clients.push(client);
        events.push(`connect ${client.id}`);
      },
      command: (command: string, client: ClientInfo, builtin: boolean) =>
        void events.push(`${client.id} ${command}${builtin ? " (built-in)" : ""}`),
      disconnect: (client: ClientInfo, reason: DisconnectReason) =>
        void events.push(`disconnect ${client.id} ${reason}`),
    };
    await withServer({ on }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        assert.deepEqual(clients[0].remoteAddr, {
          transport: "tcp",
          hostname: "127.0.0.1",
          port: client.socket.localPort,
        });
        // Text that reads "ping" from bytes that do not decode is the handler's, not a built-in.
        await client.write(new Uint8Array([0x70, 0x69, 0x6e, 0x67, 0xff, 0x0a]));
        assert.equal(await client.readLine(), "echo:ping");
        await client.write("x\ndisconnect\n");
        assert.equal(await client.untilClosed(), "echo:x\n");
      });
      await withRawClient(server, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
      });
      await waitUntil(() => events.length === 9, "the second client's disconnect");
    });
    assert.deepEqual(events, [
      "connect 1",
      "1 ping (built-in)",
      "1 ping",
      "1 x",
      "1 disconnect (built-in)",
      "disconnect 1 disconnect",
      "connect 2",
      "2 ping (built-in)",
      "disconnect 2 closed",
    ]);
  });

  test("SRS-098 error is called with the failure and its client; a hook that throws is logged and changes nothing", async () => {
    const failures: [unknown, number | undefined][] = [];
    const handler = (command: string) => {
      if (command === "fail") throw new RangeError("no such thing");
      return command;
    };
    const on = {
      error: (error: unknown, client: ClientInfo | undefined) =>
        void failures.push([error, client?.id]),
      command() {
        throw new Error("hook broke");
      },
    };
    await withServer({ handler, on }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("fail\nok\nping\n");
        assert.deepEqual(await client.readLines(2), ["ok", "pong"]);
      });
      assert.equal(failures.length, 1);
      assert.ok(failures[0][0] instanceof RangeError);
      assert.equal((failures[0][0] as Error).message, "no such thing");
      assert.equal(failures[0][1], 1);
      const hookFailures = server.logger.errors.filter((e) =>
        e.message === "the command hook failed"
      );
      assert.equal(hookFailures.length, 3);
      assert.equal((hookFailures[0].error as Error).message, "hook broke");
    });
  });

  test("SRS-111 a result whose then getter throws, or a throwing Proxy, is a handler failure like any other", async () => {
    const failures: unknown[] = [];
    const handler = (command: string) => {
      if (command === "getter") {
        return {
          get then() {
            throw new TypeError("then getter");
          },
        } as unknown as string;
      }
      if (command === "proxy") {
        return new Proxy({}, {
          get() {
            throw new RangeError("proxy");
          },
        }) as unknown as string;
      }
      return command;
    };
    const on = { error: (error: unknown) => void failures.push(error) };
    const onError = (error: unknown) => `failed: ${(error as Error).message}`;
    await withServer({ handler, on, onError }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("getter\nproxy\nok\n");
        assert.deepEqual(await client.readLines(3), ["failed: then getter", "failed: proxy", "ok"]);
      });
      assert.deepEqual(failures.map((error) => (error as Error).constructor), [
        TypeError,
        RangeError,
      ]);
      assert.equal(server.stats.errors, 2);
      assert.deepEqual(server.logger.errors.map((e) => e.message), [
        'handler failed on "getter"',
        'handler failed on "proxy"',
      ]);
    });
  });

  test("SRS-098 hooks are checked at start", async () => {
    await assert.rejects(
      withServer({ on: { connect: "yes" as never } }, () => Promise.resolve()),
      { name: "TypeError", message: 'options.on.connect must be a function, got "yes" (a string)' },
    );
    await assert.rejects(
      withServer({ on: { conect() {} } as never }, () => Promise.resolve()),
      { name: "TypeError", message: /^options\.on\.conect is not an option/ },
    );
  });

  test("SRS-231 for a failed command the on.error hook observes first, then onError answers; only onError's answer is sent", async () => {
    const calls: string[] = [];
    const failure = new Error("broke");
    await withServer({
      handler: (command) => {
        if (command === "fail") throw failure;
        return `ok ${command}`;
      },
      onError: (error, command) => {
        calls.push(`onError ${(error as Error).message} ${command}`);
        return `answered ${command}`;
      },
      on: {
        error: (error, client) => {
          calls.push(`on.error ${(error as Error).message} ${client?.id}`);
          return "ignored" as never;
        },
      },
    }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("fail\nnext\n");
        assert.deepEqual(await client.readLines(2), ["answered fail", "ok next"]);
      });
    });
    assert.deepEqual(calls, ["on.error broke 1", "onError broke fail"]);
  });
});

describe("introspection", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-099 current names the client that holds the slot; waiting counts the others", async () => {
    await withServer({}, async (server) => {
      // Read through a function: an assertion would narrow the getter's type for good.
      const holder = () => server.current;
      assert.equal(holder(), undefined);
      assert.equal(server.waiting, 0);
      const first = await RawClient.connect(server.port!);
      const waiters = [
        await RawClient.connect(server.port!),
        await RawClient.connect(server.port!),
      ];
      try {
        await first.write("ping\n");
        assert.equal(await first.readLine(), "pong");
        assert.equal(holder()?.id, 1);
        assert.equal(holder()?.remoteAddr.transport, "tcp");
        assert.equal(
          (holder()?.remoteAddr as { port: number }).port,
          first.socket.localPort,
        );
        await waitUntil(() => server.waiting === 2, "two clients waiting");
        // A waiter that resets leaves the queue (one that only ends its side may still read).
        waiters[0].reset();
        await waitUntil(() => server.waiting === 1, "the waiter that left leaving the queue");
        await first.write("disconnect\n");
        await first.untilClosed();
        await waiters[1].write("ping\n");
        assert.equal(await waiters[1].readLine(), "pong");
        assert.equal(holder()?.id, 2);
        assert.equal(server.waiting, 0);
      } finally {
        first.destroy();
        for (const waiter of waiters) waiter.destroy();
      }
    });
  });

  test("SRS-099 stats count connections, commands (built-ins too), errors and refusals", async () => {
    const handler = (command: string) => {
      if (command === "fail") throw new Error("failed");
      return command;
    };
    let admit = false;
    const acceptConnection = () => admit;
    await withServer({ handler, acceptConnection }, async (server) => {
      assert.deepEqual(server.stats, { connections: 0, commands: 0, errors: 0, refused: 0 });
      await withRawClient(server, async (refused) => assert.equal(await refused.untilClosed(), ""));
      admit = true;
      await withRawClient(server, async (client) => {
        await client.write("ping\nfail\na\n\n");
        assert.deepEqual(await client.readLines(3), ["pong", "a", ""]);
        // The current client's commands count before its turn ends.
        assert.deepEqual(server.stats, { connections: 1, commands: 4, errors: 1, refused: 1 });
        await client.write("disconnect\n");
        await client.untilClosed();
      });
      await withRawClient(server, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        assert.deepEqual(server.stats, { connections: 2, commands: 6, errors: 1, refused: 1 });
      });
    });
  });
});

describe("graceful shutdown", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-100 shutdown() with an idle client: it gets the end of stream, the server stops, the port is free", async () => {
    const reasons: DisconnectReason[] = [];
    const on = {
      disconnect: (_: ClientInfo, reason: DisconnectReason) => void reasons.push(reason),
    };
    await withServer({ on }, async (server) => {
      const client = await RawClient.connect(server.port!);
      const waiter = await RawClient.connect(server.port!);
      try {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        const stopping = server.shutdown();
        assert.equal(server.running, false);
        // The client sees the end of stream, closes, and the server has stopped.
        assert.equal(await client.untilClosed(), "");
        await stopping;
        assert.deepEqual(reasons, ["server shutdown"]);
        // The waiting client was closed unserved.
        assert.equal(await waiter.untilClosed(), "");
        await assert.rejects(RawClient.connect(server.port!), { code: "ECONNREFUSED" });
      } finally {
        client.destroy();
        waiter.destroy();
      }
    });
  });

  test("SRS-100 shutdown() lets the command under way finish and its answers go out; later commands are not served", async () => {
    const release = deferred();
    const started = deferred();
    const handled: string[] = [];
    const handler = async (command: string, context: HandlerContext) => {
      handled.push(command);
      if (command !== "slow") return `echo:${command}`;
      started.resolve();
      await context.send("working");
      await release.promise;
      return "done";
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("slow\nafter\n");
        await started.promise;
        assert.equal(await client.readLine(), "working");
        const stopping = server.shutdown();
        let stopped = false;
        stopping.then(() => stopped = true);
        release.resolve();
        assert.equal(await client.untilClosed(), "done\n");
        await stopping;
        assert.equal(stopped, true);
        assert.deepEqual(handled, ["slow"]);
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-100 shutdown() with a client that never closes its end ends within closeTimeout", async () => {
    await withServer({ closeTimeout: 100 }, async (server) => {
      // Half-open: it takes the end of stream but never closes, nor sends.
      const client = await RawClient.connect(server.port!, "127.0.0.1", true);
      try {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        await server.shutdown();
        assert.equal(server.running, false);
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-100 close() during shutdown() cuts off a handler that never settles", async () => {
    const started = deferred();
    let signal: AbortSignal | undefined;
    const handler = (_: string, context: HandlerContext) => {
      signal = context.signal;
      started.resolve();
      return new Promise<string>(() => {});
    };
    await withServer({ handler }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        await client.write("hang\n");
        await started.promise;
        const stopping = server.shutdown();
        await server.close();
        await stopping;
        assert.equal(signal?.aborted, true);
        assert.equal(await client.untilClosed(), "");
      } finally {
        client.destroy();
      }
    });
  });

  test("SRS-110 a handler that awaits server.shutdown(): its answer goes out, then the server stops", async () => {
    const reasons: DisconnectReason[] = [];
    const server: OnelineServer = await serve({
      port: 0,
      logger: null,
      on: { disconnect: (_, reason) => void reasons.push(reason) },
      handler: async (command) => {
        if (command !== "stop") return `echo:${command}`;
        await server.shutdown();
        return "stopping";
      },
    });
    const client = await RawClient.connect(server.port!);
    try {
      await client.write("echo a\nstop\n");
      assert.deepEqual(await client.readLines(2), ["echo:echo a", "stopping"]);
      assert.equal(await client.untilClosed(), "");
      await within(5000, server.finished, "the server's stop");
      assert.deepEqual(reasons, ["server shutdown"]);
      assert.equal(server.running, false);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  test("SRS-110 a handler that awaits server.close(): the server stops, the handler's signal is aborted", async () => {
    const aborted = deferred();
    const server: OnelineServer = await serve({
      port: 0,
      logger: null,
      handler: async (_command, context) => {
        context.signal.addEventListener("abort", () => aborted.resolve());
        await server.close();
        return "too late";
      },
    });
    const client = await RawClient.connect(server.port!);
    try {
      await client.write("stop\n");
      await within(5000, server.finished, "the server's stop");
      await aborted.promise;
      assert.equal(await client.untilClosed(), "");
    } finally {
      client.destroy();
      await server.close();
    }
  });

  test("SRS-100 shutdown() of a server with no client stops it; calling it twice is safe", async () => {
    await withServer({}, async (server) => {
      await Promise.all([server.shutdown(), server.shutdown()]);
      assert.equal(server.running, false);
      await server.close();
    });
  });
});
