import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type * as net from "node:net";
import { serve } from "./server.ts";
import type { HandlerContext, ServeOptions } from "./server.ts";
import { AddressInUseError, UnsolicitedResponseError } from "./errors.ts";
import { runtimeTransport } from "./runtime.ts";
import type { Connection, Transport } from "./transport.ts";
import {
  assertSocketsClosed,
  openSockets,
  RawClient,
  startServer,
  type TestServer,
  timeout,
  waitUntil,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

// Runs `body` with raw clients that are always destroyed afterwards.
async function withClients(
  server: TestServer,
  count: number,
  body: (...clients: RawClient[]) => Promise<void>,
): Promise<void> {
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await RawClient.connect(server.port!));
    await body(...clients);
  } finally {
    for (const client of clients) client.destroy();
  }
}

interface Seen {
  command: string;
  invalid: boolean;
  reason: string | undefined;
  raw: number[];
}

// A handler that records what it gets and answers `echo:<command>`.
function recordingHandler() {
  const seen: Seen[] = [];
  const handler = (command: string, context: HandlerContext) => {
    seen.push({ command, invalid: context.invalid, reason: context.reason, raw: [...context.raw] });
    return `echo:${command}`;
  };
  return { seen, handler };
}

const encode = (text: string) => new TextEncoder().encode(text);

describe("server start and options", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-026 SRS-028 start resolves once listening on 127.0.0.1 and reports port 0's real port", async () => {
    await withServer({}, async (server) => {
      assert.equal(server.addr.transport, "tcp");
      assert.equal((server.addr as { hostname: string }).hostname, "127.0.0.1");
      assert.ok(server.port! > 0 && server.port! < 65536);
      assert.equal(server.running, true);
      // No wait between start and connect: it is listening already.
      await withClients(server, 1, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
      });
    });
  });

  test("SRS-001 wrong options fail at start with TypeError or RangeError", async () => {
    const handler = () => undefined;
    const cases: [unknown, ErrorConstructor][] = [
      [{}, TypeError],
      [{ handler: "nope" }, TypeError],
      [{ handler, port: -1 }, RangeError],
      [{ handler, port: 65536 }, RangeError],
      [{ handler, port: 1.5 }, TypeError],
      [{ handler, port: "5001" }, TypeError],
      [{ handler, hostname: 127 }, TypeError],
      [{ handler, maxLineBytes: 0 }, RangeError],
      [{ handler, logger: {} }, TypeError],
      [{ handler, path: "" }, TypeError],
      [{ handler, tls: { cert: "x" } }, TypeError],
      [null, TypeError],
    ];
    for (const [options, type] of cases) {
      await assert.rejects(serve(options as ServeOptions), type, JSON.stringify(options));
    }
  });

  test("SRS-025 a port in use makes start reject with an error naming the address", async () => {
    await withServer({}, async (server) => {
      const error = await serve({ port: server.port, handler: () => undefined, logger: null })
        .then(() => assert.fail("started twice on one port"), (e) => e);
      assert.ok(error instanceof AddressInUseError);
      assert.equal(error.address, `127.0.0.1:${server.port}`);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${server.port}.*in use`));
    });
  });

  test("SRS-027 close() is idempotent and stops the listener", async () => {
    const server = await startServer();
    const port = server.port!;
    await Promise.all([server.close(), server.close()]);
    await server.close();
    assert.equal(server.running, false);
    await assert.rejects(RawClient.connect(port), { code: "ECONNREFUSED" });
  });

  test("SRS-027 an AbortSignal closes the server", async () => {
    const controller = new AbortController();
    const server = await startServer({ signal: controller.signal });
    controller.abort();
    await server.finished;
    assert.equal(server.running, false);
    const aborted = AbortSignal.abort();
    await assert.rejects(startServer({ signal: aborted }), { name: "AbortError" });
  });

  test("SRS-027 `await using` closes the server at the end of the scope", async () => {
    let port: number;
    {
      await using server = await startServer();
      port = server.port!;
    }
    await assert.rejects(RawClient.connect(port), { code: "ECONNREFUSED" });
  });
});

describe("built-in commands", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-004 ping is answered with pong and never reaches the handler", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        await client.write("ping\nping\n");
        assert.deepEqual(await client.readLines(2), ["pong", "pong"]);
      });
    });
    assert.deepEqual(seen, []);
  });

  test("SRS-004 SRS-005 SRS-006 near misses of the built-in names go to the handler", async () => {
    const nearMisses = [
      "Ping",
      "pingx",
      "ping ",
      " ping",
      "pin",
      "shutdowns",
      "sxxxxxxx",
      "disconnec",
      "DISCONNECT",
      "shutdowN",
    ];
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write(nearMisses.map((line) => `${line}\n`).join("") + "ping\n");
        const answers = await client.readLines(nearMisses.length + 1);
        assert.deepEqual(answers, [...nearMisses.map((line) => `echo:${line}`), "pong"]);
      });
      assert.equal(server.running, true);
    });
    assert.deepEqual(seen.map((line) => line.command), nearMisses);
  });

  test("SRS-004 SRS-006 a built-in cut by the line cap is no built-in: it reaches the handler flagged too long", async () => {
    const reasons: (string | undefined)[] = [];
    const handler = (command: string, context: HandlerContext) => {
      reasons.push(context.reason);
      return `echo:${command}`;
    };
    await withServer({ handler, maxLineBytes: 4 }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("shutdown\npingx\nping\n");
        assert.deepEqual(await client.readLines(3), ["echo:shut", "echo:ping", "pong"]);
      });
      assert.equal(server.running, true);
    });
    assert.deepEqual(reasons, ["too_long", "too_long"]);
  });

  test("SRS-005 disconnect writes earlier responses, closes, and drops what follows", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("a\nping\ndisconnect\nb\n");
        assert.equal(await client.untilClosed(), "echo:a\npong\n");
      });
      // The server goes on serving the next client.
      await withClients(server, 1, async (client) => {
        await client.write("c\n");
        assert.equal(await client.readLine(), "echo:c");
      });
      assert.equal(server.running, true);
    });
    assert.deepEqual(seen.map((s) => s.command), ["a", "c"]);
  });

  test("SRS-006 shutdown closes the connection, stops listening and resolves finished", async () => {
    const { seen, handler } = recordingHandler();
    const server = await startServer({ handler });
    const port = server.port!;
    try {
      await withClients(server, 1, async (client) => {
        await client.write("a\nshutdown\n");
        assert.equal(await client.untilClosed(), "echo:a\n");
      });
      await server.finished;
      assert.equal(server.running, false);
      await assert.rejects(RawClient.connect(port), { code: "ECONNREFUSED" });
    } finally {
      await server.close();
    }
    assert.deepEqual(seen.map((s) => s.command), ["a"]);
  });

  test("SRS-006 shutdown also turns away clients waiting for their turn", async () => {
    await withServer({}, async (server) => {
      await withClients(server, 2, async (first, second) => {
        await second.write("ping\n");
        await first.write("shutdown\n");
        await first.untilClosed();
        await second.untilClosed();
        assert.equal(second.text(), "");
      });
      await server.finished;
    });
  });
});

describe("commands and the handler", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-008 other lines go to the handler, which may answer zero, one or more lines", async () => {
    const handler = (command: string, context: HandlerContext) => {
      if (command === "none") return undefined;
      if (command === "null") return null;
      if (command === "many") return ["one", "two", "three"];
      if (command === "send") {
        context.send("first");
        return "second";
      }
      return `echo:${command}`;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("none\nnull\nmany\nsend\nx\n");
        assert.deepEqual(await client.readLines(6), [
          "one",
          "two",
          "three",
          "first",
          "second",
          "echo:x",
        ]);
      });
    });
  });

  test("SRS-008 empty lines and non-ASCII reach the handler as they are", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("\ngrüße ✓\n");
        assert.deepEqual(await client.readLines(2), ["echo:", "echo:grüße ✓"]);
      });
    });
    assert.deepEqual(seen.map((s) => [s.command, s.invalid]), [["", false], ["grüße ✓", false]]);
  });

  test("SRS-007 SRS-008 in a batch of many lines each line decodes on its own", async () => {
    const ascii = Array.from({ length: 10 }, (_, i) => `cmd${i}`);
    const batches: { bytes: Uint8Array; expected: [string, boolean][] }[] = [
      // All ASCII: the whole read is decoded once.
      { bytes: encode(ascii.join("\n") + "\n"), expected: ascii.map((c) => [c, false]) },
      // One non-ASCII line, one undecodable line: no line's text may shift.
      {
        bytes: new Uint8Array([
          ...encode(ascii.slice(0, 5).join("\n") + "\ngrüße\n"),
          0x61,
          0xff,
          0x0a,
          ...encode(ascii.slice(5).join("\n") + "\n"),
        ]),
        expected: [
          ...ascii.slice(0, 5).map((c): [string, boolean] => [c, false]),
          ["grüße", false],
          ["a", true],
          ...ascii.slice(5).map((c): [string, boolean] => [c, false]),
        ],
      },
    ];
    for (const { bytes, expected } of batches) {
      const { seen, handler } = recordingHandler();
      await withServer({ handler }, async (server) => {
        await withClients(server, 1, async (client) => {
          await client.write(bytes);
          assert.deepEqual(
            await client.readLines(expected.length),
            expected.map(([command]) => `echo:${command}`),
          );
        });
      });
      assert.deepEqual(seen.map((s) => [s.command, s.invalid]), expected);
    }
  });

  test("SRS-009 a command sent one byte per write is one command", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        for (const byte of encode("cmd01\nping\n")) await client.write(new Uint8Array([byte]));
        assert.deepEqual(await client.readLines(2), ["echo:cmd01", "pong"]);
      });
    });
    assert.deepEqual(seen.map((s) => s.command), ["cmd01"]);
  });

  test("SRS-018 SRS-010 pipelined commands are answered strictly in order", async () => {
    await withServer({}, async (server) => {
      await withClients(server, 1, async (client) => {
        const commands = Array.from({ length: 2000 }, (_, i) => i % 3 === 0 ? "ping" : `c${i}`);
        await client.write(commands.join("\n") + "\n");
        const expected = commands.map((c) => c === "ping" ? "pong" : `echo:${c}`);
        assert.deepEqual(await client.readLines(commands.length, 5000), expected);
      });
    });
  });

  test("SRS-010 the responses of one read go out in one write", async () => {
    // Count the server's reads and writes through a wrapped transport.
    const counts = { reads: 0, writes: 0, bytes: 0 };
    const base = await runtimeTransport();
    const counting: Transport = {
      connect: (endpoint) => base.connect(endpoint),
      async listen(endpoint, limits) {
        const listener = await base.listen(endpoint, limits);
        return {
          addr: listener.addr,
          close: () => listener.close(),
          async accept() {
            const connection = await listener.accept();
            if (!connection) return null;
            const counted: Connection = {
              remoteAddr: connection.remoteAddr,
              close: () => connection.close(),
              closeWrite: () => connection.closeWrite(),
              watch: () => connection.watch(),
              async read() {
                const chunk = await connection.read();
                if (chunk) counts.reads++;
                return chunk;
              },
              write(data) {
                counts.writes++;
                counts.bytes += data.length;
                return connection.write(data);
              },
            };
            return counted;
          },
        };
      },
    };
    await withServer({ transport: counting }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("ping\nx\n".repeat(100));
        assert.equal((await client.readLines(200)).length, 200);
      });
    });
    assert.equal(counts.bytes, 100 * "pong\necho:x\n".length);
    assert.ok(counts.writes <= counts.reads, `${counts.writes} writes for ${counts.reads} reads`);
  });

  test("SRS-016 CRLF lines read as LF lines; keepCR keeps the CR", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("ping\r\ncmd01\r\n");
        assert.deepEqual(await client.readLines(2), ["pong", "echo:cmd01"]);
      });
    });
    await withServer({ handler, keepCR: true }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("ping\r\ncmd01\r\nping\n");
        // Both echoes hold the CR, so the server refuses them; only the LF ping is answered.
        assert.deepEqual(await client.readLines(1), ["pong"]);
        assert.equal(client.text(), "");
      });
      assert.equal(server.logger.errors.length, 2);
    });
    assert.deepEqual(seen.map((s) => s.command), ["cmd01", "ping\r", "cmd01\r"]);
  });

  test("SRS-007 a line that does not decode is delivered flagged, with its raw bytes", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write(new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0x0a]));
        assert.equal(await client.readLine(), "echo:ab");
      });
    });
    assert.deepEqual(seen, [{
      command: "ab",
      invalid: true,
      reason: "decode",
      raw: [0x61, 0xff, 0xfe, 0x62],
    }]);
  });

  test("SRS-008 a handler may keep context.raw: later reads do not overwrite it", async () => {
    const raws: Uint8Array[] = [];
    const handler = (command: string, context: HandlerContext) => {
      raws.push(context.raw);
      return command.slice(0, 1);
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        for (const letter of "abc") {
          await client.write(`${letter.repeat(1000)}\n`);
          assert.equal(await client.readLine(), letter);
        }
      });
    });
    assert.deepEqual(raws.map((raw) => new TextDecoder().decode(raw)), [
      "a".repeat(1000),
      "b".repeat(1000),
      "c".repeat(1000),
    ]);
  });

  test("SRS-008 context.raw first read after the handler has finished throws HandlerFinishedError", async () => {
    const contexts: HandlerContext[] = [];
    await withServer({ handler: (_, context) => void contexts.push(context) }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("a\nping\n");
        assert.equal(await client.readLine(), "pong");
      });
    });
    assert.throws(() => contexts[0].raw, {
      name: "HandlerFinishedError",
      message: "context.raw is only available while the handler runs",
    });
  });

  test("SRS-017 a line over the cap reaches the handler cut and flagged; the next is served", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler, maxLineBytes: 16 }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("x".repeat(100_000) + "\ncmd01\n");
        assert.deepEqual(await client.readLines(2), [`echo:${"x".repeat(16)}`, "echo:cmd01"]);
      });
    });
    assert.deepEqual(seen.map((s) => [s.command, s.reason, s.raw.length]), [
      ["x".repeat(16), "too_long", 16],
      ["cmd01", undefined, 5],
    ]);
  });

  test("SRS-017 an over-long line that looks like a built-in is not one", async () => {
    const { seen, handler } = recordingHandler();
    await withServer({ handler, maxLineBytes: 4 }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("pingpong\nping\n");
        assert.deepEqual(await client.readLines(2), ["echo:ping", "pong"]);
      });
    });
    assert.deepEqual(seen.map((s) => s.reason), ["too_long"]);
  });

  test("SRS-037 binary garbage does not disturb the server", async () => {
    let handled = 0;
    await withServer({ handler: () => void handled++ }, async (server) => {
      await withClients(server, 1, async (client) => {
        const garbage = new Uint8Array(256 * 1024);
        let seed = 7;
        for (let i = 0; i < garbage.length; i++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          garbage[i] = seed >> 16;
        }
        const lines = garbage.filter((b) => b === 0x0a).length;
        await client.write(garbage);
        await client.write("\nping\n");
        assert.equal(await client.readLine(5000), "pong");
        assert.equal(handled, lines + 1);
      });
    });
  });

  test("SRS-020 a handler that throws or rejects is logged and the client is still served", async () => {
    const handler = async (command: string) => {
      if (command === "throw") throw new Error("boom");
      if (command === "reject") return await Promise.reject(new Error("bang"));
      return "ok";
    };
    const syncThrow = (command: string) => {
      if (command === "throw") throw new Error("boom");
      return "ok";
    };
    for (const h of [handler, syncThrow]) {
      await withServer({ handler: h }, async (server) => {
        await withClients(server, 1, async (client) => {
          await client.write("throw\nreject\nfine\n");
          assert.equal(await client.readLine(), "ok");
          if (h === syncThrow) assert.equal(await client.readLine(), "ok");
        });
        const messages = server.logger.errors.map((e) => (e.error as Error).message);
        assert.deepEqual(messages, h === handler ? ["boom", "bang"] : ["boom"]);
      });
    }
  });

  test("SRS-029 async handlers keep the order of responses, sends included", async () => {
    const handler = async (command: string, context: HandlerContext) => {
      const ms = Number(command);
      context.send(`start ${ms}`);
      await timeout(ms, undefined);
      context.send(`middle ${ms}`);
      return `end ${ms}`;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("30\n0\nping\n10\n");
        assert.deepEqual(await client.readLines(10), [
          "start 30",
          "middle 30",
          "end 30",
          "start 0",
          "middle 0",
          "end 0",
          "pong",
          "start 10",
          "middle 10",
          "end 10",
        ]);
      });
    });
  });

  test("SRS-029 earlier responses are sent while a slow async handler runs", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const handler = async (command: string) => {
      if (command === "slow") await gate;
      return command;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("fast\nslow\n");
        assert.equal(await client.readLine(), "fast");
        release();
        assert.equal(await client.readLine(), "slow");
      });
    });
  });

  test("SRS-021 sending after the handler has finished throws UnsolicitedResponseError", async () => {
    const contexts: HandlerContext[] = [];
    const handler = (command: string, context: HandlerContext) => {
      contexts.push(context);
      return command;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("a\n");
        assert.equal(await client.readLine(), "a");
        assert.throws(() => contexts[0].send("late"), UnsolicitedResponseError);
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
        assert.equal(client.text(), "");
      });
    });
  });

  test("SRS-022 a response with CR or LF is refused with TypeError", async () => {
    const errors: unknown[] = [];
    const handler = (command: string, context: HandlerContext) => {
      if (command === "send") {
        try {
          context.send("two\nlines");
        } catch (error) {
          errors.push(error);
        }
        return "after";
      }
      if (command === "return") return ["fine", "bad\r"];
      return command;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("send\nreturn\nnext\n");
        // Nothing of the refused return value goes out, not even its good line.
        assert.deepEqual(await client.readLines(2), ["after", "next"]);
      });
      assert.ok(errors[0] instanceof TypeError);
      assert.equal(server.logger.errors.length, 1);
      assert.ok(server.logger.errors[0].error instanceof TypeError);
    });
  });

  test("SRS-022 a single-string response with CR or LF is refused, whatever its length", async () => {
    const long = "x".repeat(5000);
    const refused = ["a\nb", "a\rb", "\r", "é\n", `${long}\n${long}`, `${long}\r`];
    const handler = (command: string) => {
      const index = Number(command);
      return Number.isInteger(index) ? refused[index] : command;
    };
    await withServer({ handler }, async (server) => {
      await withClients(server, 1, async (client) => {
        const commands = refused.map((_, index) => `${index}\n`).join("");
        await client.write(`${commands}é ok\n${long}\n`);
        assert.deepEqual(await client.readLines(2), ["é ok", long]);
        assert.equal(client.text(), "");
      });
      assert.equal(server.logger.errors.length, refused.length);
      for (const [index, logged] of server.logger.errors.entries()) {
        assert.ok(logged.error instanceof TypeError);
        assert.match(String(logged.error), /must not contain CR or LF/);
        assert.match(logged.message, new RegExp(`^handler answered "${index}" wrongly`));
      }
    });
  });

  test("SRS-008 the context carries the peer address and a signal aborted at disconnect", async () => {
    const contexts: HandlerContext[] = [];
    await withServer({ handler: (_, context) => void contexts.push(context) }, async (server) => {
      await withClients(server, 1, async (client) => {
        await client.write("x\nping\n");
        await client.readLine();
        const local = client.socket.address() as net.AddressInfo;
        assert.deepEqual(contexts[0].remoteAddr, {
          transport: "tcp",
          hostname: "127.0.0.1",
          port: local.port,
        });
        assert.equal(contexts[0].signal.aborted, false);
        await client.write("disconnect\n");
        await client.untilClosed();
      });
      await waitUntil(() => contexts[0].signal.aborted, "aborting the handler's signal");
    });
  });
});

describe("one client at a time", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-003 a second client waits, then is served when the first disconnects", async () => {
    await withServer({}, async (server) => {
      await withClients(server, 2, async (first, second) => {
        await first.write("ping\n");
        assert.equal(await first.readLine(), "pong");
        await second.write("ping\n");
        // The first is answered after the second has asked: the second, not served, has nothing.
        await first.write("still here\n");
        assert.equal(await first.readLine(), "echo:still here");
        assert.equal(second.text(), "");
        await first.write("disconnect\n");
        await first.untilClosed();
        assert.equal(await second.readLine(), "pong");
      });
    });
  });

  const leaves: [string, (client: RawClient) => Promise<void> | void][] = [
    ["closes without disconnect", (client) => client.end()],
    ["resets the connection", (client) => client.reset()],
    ["leaves half a line behind", async (client) => {
      await client.write("half a li");
      client.end();
    }],
    ["vanishes mid-way through a large write", (client) => {
      client.socket.write(new Uint8Array(4 * 1024 * 1024).fill(0x61));
      client.reset();
    }],
  ];
  for (const [how, leave] of leaves) {
    test(`SRS-019 SRS-037 the next client is served at once when one ${how}`, async () => {
      await withServer({}, async (server) => {
        await withClients(server, 2, async (first, second) => {
          await first.write("ping\n");
          assert.equal(await first.readLine(), "pong");
          await second.write("ping\n");
          const left = Date.now();
          await leave(first);
          assert.equal(await second.readLine(), "pong");
          assert.ok(Date.now() - left < 1000, `served after ${Date.now() - left} ms`);
        });
        assert.equal(server.running, true);
        assert.deepEqual(server.logger.errors, []);
      });
    });
  }

  test("SRS-019 a client killed while the server writes a large response frees the slot", async () => {
    const big = "y".repeat(60_000);
    await withServer({ handler: () => Array(100).fill(big) }, async (server) => {
      await withClients(server, 2, async (first, second) => {
        await first.write("big\nbig\nbig\n");
        await second.write("ping\n");
        first.reset();
        assert.equal(await second.readLine(5000), "pong");
      });
    });
  });
});

describe("stopping", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-027 close() ends the current connection, even with a handler pending", async () => {
    let signal: AbortSignal | undefined;
    const never = (_: string, context: HandlerContext) => {
      signal = context.signal;
      return new Promise<string>(() => {});
    };
    const server = await startServer({ handler: never });
    await withClients(server, 1, async (client) => {
      await client.write("hang\n");
      await waitUntil(() => signal !== undefined, "calling the handler");
      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 1000);
      await client.untilClosed();
      assert.equal(signal!.aborted, true);
    });
  });

  test("SRS-044 start, close and start again on the same port", async () => {
    const first = await startServer();
    const port = first.port!;
    await first.close();
    const second = await startServer({ port });
    try {
      await withClients(second, 1, async (client) => {
        await client.write("ping\n");
        assert.equal(await client.readLine(), "pong");
      });
    } finally {
      await second.close();
    }
  });

  test("SRS-044 many servers on many ports in one process", async () => {
    const servers = await Promise.all(Array.from({ length: 20 }, () => startServer()));
    try {
      assert.equal(new Set(servers.map((s) => s.port)).size, 20);
      await Promise.all(servers.map((server) =>
        withClients(server, 1, async (client) => {
          await client.write("who\n");
          assert.equal(await client.readLine(), "echo:who");
        })
      ));
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
