import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "./server.ts";
import type { HandlerContext, ServeOptions } from "./server.ts";
import type { Address } from "./transport.ts";
import {
  assertSocketsClosed,
  openSockets,
  RawClient,
  startServer,
  untilSteady,
  withRawClient,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

describe("backpressure", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-040 a client that stops reading stops the server reading; nothing is lost", async () => {
    const response = "r".repeat(10 * 1024);
    let handled = 0;
    const handler = (command: string) => {
      handled++;
      return `${command} ${response}`;
    };
    await withServer({ handler, maxPendingBytes: 64 * 1024 }, async (server) => {
      await withRawClient(server, async (client) => {
        client.socket.pause();
        const commands = 4000; // 40 MiB of responses: far beyond any socket buffer
        const payload = Array.from({ length: commands }, (_, i) => `c${i}`).join("\n") + "\n";
        client.socket.write(payload);
        const stalled = await untilSteady(() => handled);
        assert.ok(stalled < commands, `handled all ${stalled} commands with nobody reading`);
        client.socket.resume();
        const lines = await client.readLines(commands, 20_000);
        assert.equal(handled, commands);
        lines.forEach((line, i) => assert.equal(line, `c${i} ${response}`));
      });
    });
  });
});

describe("timeouts", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-042 a handler that never settles is cut off: its sends go out, then the connection closes", async () => {
    const contexts: HandlerContext[] = [];
    const handler = (command: string, context: HandlerContext) => {
      contexts.push(context);
      if (command !== "hang") return command;
      context.send("working");
      return new Promise<string>(() => {});
    };
    await withServer({ handler, handlerTimeout: 100 }, async (server) => {
      const first = await RawClient.connect(server.port!);
      const second = await RawClient.connect(server.port!);
      try {
        await first.write("a\nhang\nb\n");
        const started = Date.now();
        assert.equal(await first.untilClosed(3000), "a\nworking\n");
        assert.ok(Date.now() - started < 1500);
        assert.equal(contexts[1].signal.aborted, true);
        assert.throws(() => contexts[1].send("late"), { name: "UnsolicitedResponseError" });
        assert.match(server.logger.errors[0].message, /did not settle within 100 ms/);
        await second.write("ping\n");
        assert.equal(await second.readLine(), "pong");
      } finally {
        first.destroy();
        second.destroy();
      }
    });
  });
});

describe("over-long lines", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test('SRS-043 lineTooLong "close" answers an error line and closes at once', async () => {
    let handled = 0;
    await withServer(
      { maxLineBytes: 8, lineTooLong: "close", handler: () => void handled++ },
      async (server) => {
        await withRawClient(server, async (client) => {
          await client.write("ok\nping\n" + "z".repeat(64));
          // No LF has come yet: the server does not wait for one.
          assert.equal(await client.untilClosed(), "pong\nerror - line too long (over 8 bytes)\n");
          assert.equal(handled, 1);
        });
      },
    );
  });

  test("SRS-017 SRS-040 a 16 MiB line without LF neither grows memory nor blocks ping", async () => {
    let seen: { reason?: string; rawLength: number } | undefined;
    const handler = (_: string, context: HandlerContext) => {
      seen = { reason: context.reason, rawLength: context.raw.length };
      return "too long";
    };
    await withServer({ maxLineBytes: 1024, handler }, async (server) => {
      await withRawClient(server, async (client) => {
        const block = new Uint8Array(1024 * 1024).fill(0x41);
        for (let i = 0; i < 16; i++) await client.write(block);
        await client.write("\nping\n");
        assert.deepEqual(await client.readLines(2, 10_000), ["too long", "pong"]);
        assert.equal(seen?.reason, "too_long");
        assert.equal(seen?.rawLength, 1024);
      });
    });
  });
});

describe("closing while the client still sends", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  // The server closes while the client's bytes are still arriving: closing
  // with bytes unread would make the kernel send a reset, which can make the
  // client drop responses it has not read yet.
  const trailing = "z".repeat(4 * 1024 * 1024);

  test("SRS-005 responses before a disconnect all arrive, however much follows it", async () => {
    await withServer({}, async (server) => {
      for (let round = 0; round < 5; round++) {
        await withRawClient(server, async (client) => {
          client.write("a\n".repeat(1000) + "disconnect\n" + trailing).catch(() => {});
          assert.equal(await client.untilClosed(5000), "echo:a\n".repeat(1000));
        });
      }
    });
  });

  test('SRS-043 lineTooLong "close": the error line arrives while the client still sends', async () => {
    await withServer({ maxLineBytes: 8, lineTooLong: "close" }, async (server) => {
      for (let round = 0; round < 5; round++) {
        await withRawClient(server, async (client) => {
          client.write("ok\n" + trailing).catch(() => {});
          assert.equal(
            await client.untilClosed(5000),
            "echo:ok\nerror - line too long (over 8 bytes)\n",
          );
        });
      }
    });
  });

  test("SRS-019 after disconnect the next client is served while the first still closes", async () => {
    await withServer({ closeTimeout: 60_000 }, async (server) => {
      const first = await RawClient.connect(server.port!, "127.0.0.1", true);
      const second = await RawClient.connect(server.port!);
      try {
        // The first keeps sending after its disconnect and never closes: the server lingers on it.
        await first.write("disconnect\n" + "z".repeat(1024));
        await second.write("ping\n");
        assert.equal(await second.readLine(5000), "pong");
        assert.equal(first.closed, false);
      } finally {
        first.destroy();
        second.destroy();
      }
    });
  });

  test("SRS-019 a client that never closes after disconnect is cut off after closeTimeout", async () => {
    // Well below the default of a second, so that a server ignoring the option fails the test.
    const closeTimeout = 100;
    await withServer({ closeTimeout }, async (server) => {
      const client = await RawClient.connect(server.port!, "127.0.0.1", true);
      try {
        await client.write("disconnect\n");
        const started = Date.now();
        // Once the server has closed its socket, a write meets it and is answered with a reset
        // (the kernel takes the first such write; a later one fails).
        const writing = setInterval(() => client.write("late\n").catch(() => {}), 20);
        try {
          assert.equal(await client.untilClosed(10_000), "");
        } finally {
          clearInterval(writing);
        }
        const lasted = Date.now() - started;
        assert.ok(lasted >= closeTimeout - 20 && lasted < 900, `cut off after ${lasted} ms`);
      } finally {
        client.destroy();
      }
    });
  });
});

describe("who may connect, and what they may do", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-046 with shutdown and disconnect turned off, both lines go to the handler", async () => {
    const handler = (command: string) => `handled ${command}`;
    await withServer(
      { handler, builtins: { shutdown: false, disconnect: false } },
      async (server) => {
        await withRawClient(server, async (client) => {
          await client.write("shutdown\ndisconnect\nping\n");
          assert.deepEqual(await client.readLines(3), [
            "handled shutdown",
            "handled disconnect",
            "pong",
          ]);
        });
        assert.equal(server.running, true);
      },
    );
  });

  test("SRS-046 turning off one built-in leaves the other working", async () => {
    await withServer({ builtins: { shutdown: false } }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("shutdown\ndisconnect\n");
        assert.equal(await client.untilClosed(), "echo:shutdown\n");
      });
      assert.equal(server.running, true);
    });
  });

  test("SRS-047 the connection check refuses a peer; the next one is served", async () => {
    const asked: Address[] = [];
    let allow = false;
    const acceptConnection = (address: Address) => {
      asked.push(address);
      return allow;
    };
    await withServer({ acceptConnection }, async (server) => {
      await withRawClient(server, async (refused) => {
        await refused.write("ping\n");
        assert.equal(await refused.untilClosed(), "");
      });
      allow = true;
      await withRawClient(server, async (accepted) => {
        await accepted.write("ping\n");
        assert.equal(await accepted.readLine(), "pong");
      });
      assert.equal(asked.length, 2);
      assert.equal(asked[0].transport === "tcp" && asked[0].hostname, "127.0.0.1");
      assert.ok(
        server.logger.infos.some((m) => /refused connection from 127\.0\.0\.1:\d+/.test(m)),
      );
    });
  });

  test("SRS-047 an async check that throws refuses the connection and is logged", async () => {
    const acceptConnection = () => Promise.reject(new Error("lookup failed"));
    await withServer({ acceptConnection }, async (server) => {
      await withRawClient(server, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.untilClosed(), "");
      });
      assert.equal((server.logger.errors[0].error as Error).message, "lookup failed");
    });
  });

  test("SRS-001 the hardening options are checked at start", async () => {
    const handler = () => undefined;
    const cases: [Partial<ServeOptions> | Record<string, unknown>, ErrorConstructor][] = [
      [{ idleTimeout: 0 }, RangeError],
      [{ idleTimeout: "5" }, TypeError],
      [{ handlerTimeout: -1 }, RangeError],
      [{ handlerTimeout: Infinity }, RangeError],
      [{ maxPendingBytes: 1.5 }, TypeError],
      [{ maxPendingBytes: 0 }, RangeError],
      [{ lineTooLong: "drop" }, TypeError],
      [{ builtins: { ping: false } }, TypeError],
      [{ builtins: { shutdown: "no" } }, TypeError],
      [{ acceptConnection: true }, TypeError],
    ];
    for (const [extra, type] of cases) {
      await assert.rejects(
        serve({ port: 0, handler, logger: null, ...extra } as ServeOptions),
        type,
        JSON.stringify(extra),
      );
    }
  });
});

describe("faults", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-044 close() while a client is connected, then start again on the same port", async () => {
    const server = await startServer();
    const port = server.port!;
    const client = await RawClient.connect(port);
    try {
      await client.write("ping\n");
      assert.equal(await client.readLine(), "pong");
      await server.close();
      await client.untilClosed();
    } finally {
      client.destroy();
    }
    await withServer({ port }, async (again) => {
      await withRawClient(again, async (next) => {
        await next.write("ping\n");
        assert.equal(await next.readLine(), "pong");
      });
    });
  });
});
