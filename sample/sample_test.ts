// The sample scripts, run as the user runs them: in a child process of the
// same runtime, against real loopback sockets.

import process from "node:process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RawClient, spawnScript, type Subprocess } from "../test_util.ts";

const here = (script: string) => fileURLToPath(new URL(script, import.meta.url));
const run = (script: string, args: string[]) => spawnScript(here(script), args);
const lines = (text: string) => text.split("\n").filter((line) => line !== "");

/** Starts the sample server on a free port; resolves with the port it prints. */
async function startSampleServer(): Promise<{ server: Subprocess; port: number }> {
  const server = run("server.ts", ["--port", "0"]);
  const [, port] = await server.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
  return { server, port: Number(port) };
}

describe("sample", () => {
  test("SRS-031 the sample server answers ack, nak and pong, and exits 0 after shutdown", async () => {
    const { server, port } = await startSampleServer();
    const client = await RawClient.connect(port);
    await client.write(
      new Uint8Array([
        ...new TextEncoder().encode("ping\ncmd01\njunk\n\ncmd01\r\n"),
        0xff,
        0xfe,
        0x0a,
        ...new TextEncoder().encode("shutdown\n"),
      ]),
    );
    assert.equal(
      await client.untilClosed(),
      "pong\nack\nnak - unknown cmd\nnak - unknown cmd\nack\nnak - invalid cmd\n",
    );
    const { code, stdout } = await server.done;
    assert.equal(code, 0);
    assert.deepEqual(lines(stdout).slice(1), ["shutdown requested", "stopped"]);
  });

  test("SRS-031 the sample server exits 0 on Ctrl-C (SIGINT)", async () => {
    const { server } = await startSampleServer();
    const sent = Date.now();
    // Not child.kill(): Deno 2.9 then reports the exit as by signal, whatever the status.
    process.kill(server.child.pid!, "SIGINT");
    const { code, stdout } = await server.done;
    assert.equal(code, 0);
    assert.ok(Date.now() - sent < 3000, `took ${Date.now() - sent} ms`);
    assert.equal(lines(stdout).at(-1), "stopped");
  });

  test("SRS-031 the sample server refuses a bad port with status 2 and a message", async () => {
    const { code, stderr } = await run("server.ts", ["--port", "70000"]).done;
    assert.equal(code, 2);
    assert.match(stderr, /options\.port must be from 0 to 65535, got 70000/);
  });

  test("SRS-032 doit prints both sides of the script and exits 0", async () => {
    const { code, stdout, stderr } = await run("doit.ts", ["--port", "0"]).done;
    assert.equal(code, 0, stdout + stderr);
    const printed = lines(stdout);
    const clientLines = printed.filter((line) => line.startsWith("client"));
    assert.deepEqual(clientLines, [
      "client 1 | > ping",
      "client 1 | < pong",
      "client 1 | > cmd01",
      "client 1 | < ack",
      "client 1 | > junk",
      "client 1 | < nak - unknown cmd",
      "client 1 | > disconnect",
      "client 1 | < (connection closed)",
      "client 2 | > ping",
      "client 2 | < pong",
      "client 2 | > shutdown",
      "client 2 | < (connection closed)",
    ]);
    for (const expected of [/^server {3}\| listening on /, /< cmd01$/, /> ack$/, /stopped$/]) {
      assert.ok(printed.some((line) => expected.test(line)), `no line matches ${expected}`);
    }
    assert.deepEqual(printed.slice(-2), [
      "server exited with status 0",
      "doit: all answers as expected",
    ]);
  });

  test("SRS-032 doit exits 1 and says why when the server cannot start", async () => {
    const blocker = await startSampleServer();
    try {
      const { code, stdout } = await run("doit.ts", ["--port", String(blocker.port)]).done;
      assert.equal(code, 1);
      assert.ok(lines(stdout).some((line) => /address .*in use/i.test(line)), stdout);
      assert.equal(lines(stdout).at(-1), "doit: 2 problem(s)");
    } finally {
      process.kill(blocker.server.child.pid!, "SIGINT");
      await blocker.server.done;
    }
  });
});
