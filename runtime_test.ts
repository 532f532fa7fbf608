// Which socket layer each runtime gets, and a round trip through it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "./client.ts";
import { ConnectError, ConnectionClosedError } from "./errors.ts";
import { runtimeTransport } from "./runtime.ts";
import * as main from "./mod.ts";
import * as seam from "./transport.ts";
import type { Connection } from "./transport.ts";
import { testdataPath, withServer } from "./test_util.ts";

const onDeno = "Deno" in globalThis;
const onBun = process.versions.bun !== undefined;

async function pingThroughRuntimeTransport(): Promise<void> {
  await withServer({}, async (server) => {
    await using client = await connect({ port: server.port });
    assert.equal(await client.request("hello"), "echo:hello");
  });
}

// The runtime's transport, listening on a free loopback port.
async function listenOnFreePort() {
  const transport = await runtimeTransport();
  const limits = { maxWaiting: 16, handshakeTimeout: 10_000, closeTimeout: 1000, onRefused() {} };
  const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
  const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
  return { transport, listener, port };
}

describe("runtime", () => {
  test("SRS-033 on Deno the server and client run on Deno's own sockets", {
    skip: !onDeno,
  }, async () => {
    const { denoTransport } = await import("./_transport/deno.ts");
    assert.equal(await runtimeTransport(), denoTransport);
    await pingThroughRuntimeTransport();
  });

  test("SRS-034 on Bun the server and client run on Bun's own sockets", {
    skip: !onBun,
  }, async () => {
    const { bunTransport } = await import("./_transport/bun.ts");
    assert.equal(await runtimeTransport(), bunTransport);
    await pingThroughRuntimeTransport();
  });

  test("SRS-064 a read's bytes stay intact while other connections read, as ended connections' buffers are reused", async () => {
    const { transport, listener, port } = await listenOnFreePort();
    const read = (connection: Connection) => connection.readTransient?.() ?? connection.read();
    // Compares contents only (Bun hands out Buffers).
    const assertBytes = (actual: Uint8Array | null, expected: Uint8Array) =>
      assert.deepEqual(actual && new Uint8Array(actual), expected);
    try {
      // Rounds, so that later connections get the read buffers of earlier ones.
      for (let round = 0; round < 4; round++) {
        const clients: Connection[] = [];
        const served: Connection[] = [];
        for (let i = 0; i < 2; i++) {
          clients.push(await transport.connect({ hostname: "127.0.0.1", port }));
          served.push((await listener.accept())!);
        }
        const sent = [0x61 + round, 0x71 + round].map((letter, i) =>
          new Uint8Array(100 + 10 * i).fill(letter)
        );
        await clients[0].write(sent[0]);
        await clients[1].write(sent[1]);
        const first = await read(served[0]);
        assertBytes(first, sent[0]);
        // The second connection's read must not land in the first one's buffer.
        assertBytes(await read(served[1]), sent[1]);
        assertBytes(first, sent[0]);
        for (const client of clients) client.close();
        assert.equal(await read(served[0]), null);
        assert.equal(await read(served[1]), null);
      }
    } finally {
      await listener.close();
    }
  });

  test("SRS-074 writes called without waiting go out whole and in call order; a closed connection rejects them", async () => {
    const { transport, listener, port } = await listenOnFreePort();
    try {
      const client = await transport.connect({ hostname: "127.0.0.1", port });
      const served = (await listener.accept())!;
      // Big enough that the socket cannot take the first at once: the others must wait for it.
      const chunks = [0x61, 0x62, 0x63].map((letter) =>
        new Uint8Array(4 * 1024 * 1024).fill(letter)
      );
      const writes = Promise.all(chunks.map((chunk) => served.write(chunk)));
      const received: number[] = [];
      let total = 0;
      while (total < 3 * 4 * 1024 * 1024) {
        const chunk = await client.read();
        assert.notEqual(chunk, null);
        // Run-length of letters, to compare order without keeping 12 MiB of numbers.
        for (const byte of chunk!) if (received.at(-1) !== byte) received.push(byte);
        total += chunk!.length;
      }
      await writes;
      assert.deepEqual(received, [0x61, 0x62, 0x63]);
      served.close();
      await assert.rejects(served.write(new Uint8Array(1)), ConnectionClosedError);
      client.close();
    } finally {
      await listener.close();
    }
  });

  test("SRS-074 a connect that fails is a ConnectError naming the address, with the cause", async () => {
    const { transport, listener, port } = await listenOnFreePort();
    await listener.close();
    const error = await transport.connect({ hostname: "127.0.0.1", port }).then(
      () => assert.fail("connected to a closed port"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConnectError, String(error));
    assert.ok(error.message.startsWith(`cannot connect to 127.0.0.1:${port}: `), error.message);
    assert.notEqual(error.cause, undefined);
  });
});

describe("the transport seam's export", () => {
  test("SRS-232 the seam is the ./transport export and runtimeTransport the ./runtime one, not the main module's", () => {
    for (const file of ["./deno.json", "./package.json"]) {
      const config = JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8"));
      assert.equal(config.exports["./transport"], "./transport.ts", file);
      assert.equal(config.exports["./runtime"], "./runtime.ts", file);
    }
    // The seam names no implementation.
    assert.equal("runtimeTransport" in seam, false);
    assert.equal("runtimeTransport" in main, false);
    assert.equal(typeof seam.formatAddress, "function");
  });
});

describe("least privilege on Deno", () => {
  // `script` gives the child a terminal, where Deno would prompt for any permission it lacks.
  const canRun = onDeno && existsSync("/usr/bin/script");
  const name = "SRS-112 a TCP server and client run with --allow-net alone: no prompt, no warning";
  if (!canRun) {
    test(name, { skip: "needs Deno and /usr/bin/script (a terminal for Deno's prompts)" });
  } else {test(name, async () => {
      const program = testdataPath("net_only.ts");
      const command = `${JSON.stringify(process.execPath)} run --allow-net ${
        JSON.stringify(program)
      }`;
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          "/usr/bin/script",
          ["-qec", command, "/dev/null"],
          { timeout: 20_000 },
          (error, stdout, stderr) => error ? reject(error) : resolve(stdout + stderr),
        );
      });
      assert.match(output, /ok over TCP with --allow-net alone/);
      assert.doesNotMatch(output, /requests|permission|Warning/i);
    });}
});
