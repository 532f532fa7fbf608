// Unix domain sockets (SRS-049), on both runtimes: serve({ path }) and
// connect({ path }).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { connect } from "./client.ts";
import type { OnelineClient } from "./client.ts";
import type { HandlerContext } from "./server.ts";
import { AddressInUseError, ConnectError } from "./errors.ts";
import { assertSocketsClosed, hasSettled, openSockets, startServer } from "./test_util.ts";

const socketsAtStart = openSockets();
const directory = fs.mkdtempSync(nodePath.join(os.tmpdir(), "oneline-unix-"));
let sockets = 0;

// A fresh socket path in the test directory.
function socketPath(): string {
  return nodePath.join(directory, `s${sockets++}.sock`);
}

function isSocketFile(path: string): boolean {
  try {
    return fs.lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

// Leaves a socket file nobody listens on at `path`, as a server killed with
// SIGKILL does: a child process of this runtime listens there and is killed.
async function leaveStaleSocket(path: string): Promise<void> {
  const code = `const net = await import("node:net");
net.createServer().listen(${JSON.stringify(path)}, () => console.log("ready"));`;
  const args = "Deno" in globalThis ? ["eval", code] : ["-e", code];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", () => reject(new Error("the child exited before listening")));
  });
  child.kill("SIGKILL");
  await exited;
  assert.ok(isSocketFile(path), "the killed child left no socket file");
}

describe("Unix sockets", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  after(() => fs.rmSync(directory, { recursive: true, force: true }));

  test("SRS-049 serve on a path; a client connects, pings and is answered", async () => {
    const path = socketPath();
    let seen: HandlerContext["remoteAddr"] | undefined;
    const server = await startServer({
      path,
      handler: (command, context) => {
        seen = context.remoteAddr;
        return command === "cmd01" ? "ack" : `echo:${command}`;
      },
    });
    try {
      assert.deepEqual(server.addr, { transport: "unix", path });
      assert.equal(server.port, undefined);
      assert.ok(isSocketFile(path));
      assert.ok(server.logger.infos.includes(`listening on ${path}`));
      const client = await connect({ path });
      try {
        assert.equal(client.remoteAddr.transport, "unix");
        await client.ping();
        assert.equal(await client.request("cmd01"), "ack");
        assert.equal(await client.request("héllo wörld"), "echo:héllo wörld");
        assert.equal(seen?.transport, "unix");
        // Pipelined.
        await Promise.all(Array.from({ length: 200 }, (_, i) => client.send(`c${i}`)));
        for (let i = 0; i < 200; i++) assert.equal(await client.recv(), `echo:c${i}`);
      } finally {
        client.close();
      }
    } finally {
      await server.close();
    }
  });

  test("SRS-049 one client at a time: the second waits until the first leaves", async () => {
    const path = socketPath();
    const server = await startServer({ path, handler: (c) => (c === "cmd01" ? "ack" : "nak") });
    const clients: OnelineClient[] = [];
    try {
      const first = await connect({ path });
      clients.push(first);
      const second = await connect({ path, handshake: false });
      clients.push(second);
      await second.send("cmd01");
      const early = second.recv();
      // The first is answered after the second has asked: the second, not served, has nothing.
      assert.equal(await first.request("cmd01"), "ack");
      assert.equal(await hasSettled(early), false);
      await first.disconnect();
      assert.equal(await early, "ack");
      assert.equal(await second.request("ping"), "pong");
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });

  test("SRS-049 the socket file is removed on close() and after shutdown", async () => {
    const path = socketPath();
    const server = await startServer({ path });
    assert.ok(isSocketFile(path));
    await server.close();
    assert.equal(fs.existsSync(path), false);
    await server.close(); // Idempotent.

    const again = await startServer({ path });
    const client = await connect({ path });
    await client.shutdown();
    client.close();
    await again.finished;
    assert.equal(fs.existsSync(path), false);
  });

  test("SRS-049 a stale socket file (no server behind it) is replaced", async () => {
    const path = socketPath();
    await leaveStaleSocket(path);
    const server = await startServer({ path });
    try {
      const client = await connect({ path });
      assert.equal(await client.request("x"), "echo:x");
      client.close();
    } finally {
      await server.close();
    }
    assert.equal(fs.existsSync(path), false);
  });

  test("SRS-049 two servers starting at once on one stale path: one listens, the other finds it in use", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const path = socketPath();
      await leaveStaleSocket(path);
      const results = await Promise.allSettled([startServer({ path }), startServer({ path })]);
      const started = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
      const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason);
      try {
        assert.equal(started.length, 1, `trial ${trial}: ${started.length} servers listen`);
        assert.ok(failed[0] instanceof AddressInUseError, String(failed[0]));
        const client = await connect({ path });
        assert.equal(await client.request("x"), "echo:x");
        client.close();
      } finally {
        for (const server of started) await server.close();
      }
      assert.equal(fs.existsSync(`${path}.lock`), false);
    }
  });

  test("SRS-049 a path with a live server is in use, and is left alone", async () => {
    const path = socketPath();
    const server = await startServer({ path });
    try {
      await assert.rejects(startServer({ path }), (error: Error) => {
        assert.ok(error instanceof AddressInUseError, String(error));
        assert.equal(error.address, path);
        assert.equal(error.message, `cannot listen on ${path}: address already in use`);
        return true;
      });
      // The first server still owns the path and serves.
      assert.ok(isSocketFile(path));
      const client = await connect({ path });
      assert.equal(await client.request("x"), "echo:x");
      client.close();
    } finally {
      await server.close();
    }
  });

  test("SRS-049 a path holding a file that is not a socket is in use, and is left alone", async () => {
    const path = socketPath();
    fs.writeFileSync(path, "precious");
    await assert.rejects(startServer({ path }), AddressInUseError);
    assert.equal(fs.readFileSync(path, "utf8"), "precious");
    fs.unlinkSync(path);
  });

  test("SRS-049 connecting to a path nobody listens on fails with ConnectError", async () => {
    const missing = socketPath();
    await assert.rejects(connect({ path: missing, timeout: 2000 }), (error: Error) => {
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(error.address, missing);
      return true;
    });
    const stale = socketPath();
    await leaveStaleSocket(stale);
    await assert.rejects(connect({ path: stale, timeout: 2000 }), ConnectError);
  });
});
