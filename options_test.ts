// The option errors of serve() and connect(), and the address a server
// reports: the same words and the same values on Deno and Bun.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { serve } from "./server.ts";
import type { ServeOptions } from "./server.ts";
import { connect } from "./client.ts";
import type { ConnectOptions } from "./client.ts";
import { startServer, testTls, withClient } from "./test_util.ts";
import type { Address } from "./transport.ts";

const handler = () => undefined;
const { cert, key } = testTls();
const tls = { cert, key };

type Case<T> = [options: T, name: "TypeError" | "RangeError", message: string];

// serve() with each option set, expecting each to be refused with its error.
async function assertServeRefuses(cases: Case<unknown>[]): Promise<void> {
  for (const [options, name, message] of cases) {
    await assert.rejects(serve(options as ServeOptions), { name, message }, message);
  }
}

// connect() likewise; it is refused before any connection is tried.
async function assertConnectRefuses(cases: Case<unknown>[]): Promise<void> {
  for (const [options, name, message] of cases) {
    await assert.rejects(connect(options as ConnectOptions), { name, message }, message);
  }
}

// Whether this machine has an IPv6 loopback to listen on.
function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

const ipv6Loopback = await hasIPv6Loopback();

describe("option errors", () => {
  test("SRS-090 SRS-247 serve() names the option and shows the wrong value: numbers plain, strings quoted, others by type", async () => {
    await assertServeRefuses([
      [
        { handler, port: "5001" },
        "TypeError",
        'options.port must be an integer, got "5001" (a string)',
      ],
      [{ handler, port: 1.5 }, "TypeError", "options.port must be an integer, got 1.5"],
      [{ handler, port: -1 }, "RangeError", "options.port must be from 0 to 65535, got -1"],
      [{ handler, hostname: 127 }, "TypeError", "options.hostname must be a string, got 127"],
      [
        { handler, path: "" },
        "TypeError",
        'options.path must be a non-empty string, got "" (a string)',
      ],
      [{ handler, path: [] }, "TypeError", "options.path must be a non-empty string, got an array"],
      [{}, "TypeError", "options.handler must be a function, got undefined"],
      [
        { handler: "nope" },
        "TypeError",
        'options.handler must be a function, got "nope" (a string)',
      ],
      [
        { bytesHandler: 1 },
        "TypeError",
        "options.bytesHandler must be a function, got 1",
      ],
      [
        { handler, bytesHandler: handler },
        "TypeError",
        "options.handler and options.bytesHandler do not go together: give one",
      ],
      [
        { handler, idleTimeout: "5" },
        "TypeError",
        'options.idleTimeout must be a number of milliseconds, got "5" (a string)',
      ],
      [
        { handler, maxWaiting: null },
        "TypeError",
        "options.maxWaiting must be an integer, got null",
      ],
      [
        { handler, maxLineBytes: 0 },
        "RangeError",
        "options.maxLineBytes must be at least 1, got 0",
      ],
      [
        { handler, lineTooLong: "drop" },
        "TypeError",
        'options.lineTooLong must be "handler" or "close", got "drop" (a string)',
      ],
      [
        { handler, verbose: "yes" },
        "TypeError",
        'options.verbose must be true or false, got "yes" (a string)',
      ],
      [{ handler, keepCR: 1 }, "TypeError", "options.keepCR must be true or false, got 1"],
      [
        { handler, builtins: { shutdown: "no" } },
        "TypeError",
        'options.builtins.shutdown must be true or false, got "no" (a string)',
      ],
      [{ handler, onError: {} }, "TypeError", "options.onError must be a function, got an object"],
      [
        { handler, acceptConnection: true },
        "TypeError",
        "options.acceptConnection must be a function, got a boolean",
      ],
      [
        { handler, signal: {} },
        "TypeError",
        "options.signal must be an AbortSignal, got an object",
      ],
    ]);
  });

  test("SRS-090 connect() and a request name the option and show the wrong value the same way", async () => {
    await assertConnectRefuses([
      [{ port: "5001" }, "TypeError", 'options.port must be an integer, got "5001" (a string)'],
      [{ port: 0 }, "RangeError", "options.port must be from 1 to 65535, got 0"],
      [{ hostname: null }, "TypeError", "options.hostname must be a string, got null"],
      [
        { timeout: "1" },
        "TypeError",
        'options.timeout must be a number of milliseconds, got "1" (a string)',
      ],
      [{ handshake: 1 }, "TypeError", "options.handshake must be true or false, got 1"],
      [
        { disconnectOnClose: "no" },
        "TypeError",
        'options.disconnectOnClose must be true or false, got "no" (a string)',
      ],
      [
        { readTerminator: "\n\n" },
        "TypeError",
        'options.readTerminator must be "\\n", "\\r\\n", "\\r" or "any", got "\\n\\n" (a string)',
      ],
      [
        { maxQueuedBytes: 1n },
        "TypeError",
        "options.maxQueuedBytes must be an integer, got a bigint",
      ],
      [{ tls: "ca" }, "TypeError", 'options.tls must be an object, got "ca" (a string)'],
      [
        { tls: { serverName: 5 } },
        "TypeError",
        "options.tls.serverName must be a non-empty string, got 5",
      ],
      [
        { retry: 5000 },
        "TypeError",
        "options.retry must be an object like { until: 5000 }, got 5000",
      ],
      [null, "TypeError", "connect() options must be an object, got null"],
    ]);
    await withClient({}, async (client) => {
      await assert.rejects(client.request("x", { timeout: "1" as unknown as number }), {
        name: "TypeError",
        message: 'options.timeout must be a number of milliseconds, got "1" (a string)',
      });
      await assert.rejects(client.query("x", { lines: 0.5 }), {
        name: "TypeError",
        message: "options.lines must be an integer, got 0.5",
      });
      // The client is still in step after refused calls.
      assert.equal(await client.request("y"), "echo:y");
    });
  });

  test("SRS-091 serve() refuses an unknown option by name, suggesting the nearest known one", async () => {
    const cert = "x";
    await assertServeRefuses([
      [{ handler, prot: 5001 }, "TypeError", "options.prot is not an option (did you mean port?)"],
      // A misspelt handler is reported as such, not as a missing handler.
      [
        { hanlder: handler },
        "TypeError",
        "options.hanlder is not an option (did you mean handler?)",
      ],
      [
        { handler, keepcr: true },
        "TypeError",
        "options.keepcr is not an option (did you mean keepCR?)",
      ],
      [
        { handler, idle_timeout: 5 },
        "TypeError",
        "options.idle_timeout is not an option (did you mean idleTimeout?)",
      ],
      [{ handler, colour: "red" }, "TypeError", "options.colour is not an option"],
      [{ handler, undefinedToo: undefined }, "TypeError", "options.undefinedToo is not an option"],
      [
        { handler, tls: { cert, key: "x", ca: "x" } },
        "TypeError",
        "options.tls.ca is not an option",
      ],
      [
        { handler, tls: { cert, kye: "x" } },
        "TypeError",
        "options.tls.kye is not an option (did you mean key?)",
      ],
    ]);
  });

  test("SRS-091 connect() and a request refuse an unknown option by name, suggesting the nearest", async () => {
    await assertConnectRefuses([
      [{ prot: 5001 }, "TypeError", "options.prot is not an option (did you mean port?)"],
      [
        { hostName: "x" },
        "TypeError",
        "options.hostName is not an option (did you mean hostname?)",
      ],
      [{ timout: 1 }, "TypeError", "options.timout is not an option (did you mean timeout?)"],
      [{ verbose: true }, "TypeError", "options.verbose is not an option"],
      [
        { retry: { untill: 5000 } },
        "TypeError",
        "options.retry.untill is not an option (did you mean until?)",
      ],
      [
        { tls: { servername: "a" } },
        "TypeError",
        "options.tls.servername is not an option (did you mean serverName?)",
      ],
    ]);
    await withClient({}, async (client) => {
      await assert.rejects(client.query("x", { line: 1 } as never), {
        name: "TypeError",
        message: "options.line is not an option (did you mean lines?)",
      });
      await assert.rejects(client.request("x", { timout: 5 } as never), {
        name: "TypeError",
        message: "options.timout is not an option (did you mean timeout?)",
      });
      assert.equal(await client.request("y"), "echo:y");
    });
  });

  test("SRS-091 every documented option is accepted", async () => {
    const controller = new AbortController();
    // bytesHandler is the other way to give a handler (SRS-247), so it is left out here.
    const options: Required<Omit<ServeOptions, "path" | "tls" | "transport" | "bytesHandler">> = {
      handler,
      hostname: "127.0.0.1",
      port: 0,
      maxWaiting: 8,
      handshakeTimeout: 1000,
      logger: null,
      verbose: false,
      maxLineBytes: 1024,
      keepCR: false,
      readTerminator: "\n",
      writeTerminator: "\n",
      maxPendingBytes: 4096,
      idleTimeout: 1000,
      handlerTimeout: 1000,
      lineTooLong: "handler",
      builtins: { shutdown: false, disconnect: true },
      onError: () => undefined,
      acceptConnection: () => true,
      acceptConnectionTimeout: 1000,
      closeTimeout: 1000,
      on: { connect() {}, disconnect() {}, command() {}, error() {} },
      signal: controller.signal,
    };
    await using server = await serve(options);
    await using client = await connect({
      hostname: "127.0.0.1",
      port: server.port,
      timeout: 2000,
      retry: { until: 1000, interval: 50 },
      handshake: true,
      disconnectOnClose: true,
      readTerminator: "\n",
      writeTerminator: "\n",
      maxLineBytes: 1024,
      maxQueuedBytes: 4096,
    });
    assert.deepEqual(await client.query("x", { timeout: 1000, signal: controller.signal }), []);
  });

  test("SRS-092 a Unix socket path with a hostname, a port or TLS is refused, by serve() and connect()", async () => {
    const socketPath = "/tmp/never.sock";
    const hostname =
      "options.path cannot be combined with options.hostname (a Unix socket has no hostname)";
    const port = "options.path cannot be combined with options.port (a Unix socket has no port)";
    const overTls = "options.path cannot be combined with options.tls (TLS runs over TCP only)";
    await assertServeRefuses([
      [{ handler, path: socketPath, hostname: "127.0.0.1" }, "TypeError", hostname],
      [{ handler, path: socketPath, port: 5001 }, "TypeError", port],
      [{ handler, path: socketPath, port: 0 }, "TypeError", port],
      [{ handler, path: socketPath, tls }, "TypeError", overTls],
    ]);
    await assertConnectRefuses([
      [{ path: socketPath, hostname: "localhost" }, "TypeError", hostname],
      [{ path: socketPath, port: 5001 }, "TypeError", port],
      [{ path: socketPath, tls: {} }, "TypeError", overTls],
    ]);
  });

  test("SRS-092 a hostname or port left undefined beside a path is not given", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "oneline-options-"));
    try {
      const socketPath = path.join(directory, "s.sock");
      await using server = await serve({
        handler: () => "ok",
        logger: null,
        path: socketPath,
        hostname: undefined,
        port: undefined,
      });
      assert.deepEqual(server.addr, { transport: "unix", path: socketPath });
      await using client = await connect({
        path: socketPath,
        hostname: undefined,
        port: undefined,
      });
      assert.equal(await client.request("x"), "ok");
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe("listen address", () => {
  // The address a server reports when asked to bind `hostname` (over TLS with `withTls`).
  async function boundAddress(hostname: string, withTls = false): Promise<Address> {
    await using server = await startServer({ hostname, tls: withTls ? tls : undefined });
    return server.addr;
  }

  test("SRS-093 server.addr names the numeric address bound, whatever name was asked for", async () => {
    const address = await boundAddress("127.0.0.1") as { port: number };
    assert.deepEqual(address, { transport: "tcp", hostname: "127.0.0.1", port: address.port });
    // Where the resolver puts IPv6 first, localhost is ::1.
    for (const withTls of [false, true]) {
      const { hostname } = await boundAddress("localhost", withTls) as { hostname: string };
      assert.ok(["127.0.0.1", "::1"].includes(hostname), `${hostname}, TLS ${withTls}`);
    }
  });

  test("SRS-093 an IPv6 address is reported in its short form", {
    skip: !ipv6Loopback && "no IPv6 loopback",
  }, async () => {
    for (const hostname of ["::1", "0:0:0:0:0:0:0:1"]) {
      assert.equal((await boundAddress(hostname) as { hostname: string }).hostname, "::1");
    }
  });
});
