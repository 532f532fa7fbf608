// The sample scripts, run as the user runs them: in a child process of the
// same runtime, against real loopback sockets.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { scriptArgs } from "./script.ts";
import { RawClient } from "../test_util.ts";

const EXIT_MS = 10_000;

interface Run {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(script: string, args: string[]): Run {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, scriptArgs(path, args), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not exit within ${EXIT_MS} ms`));
    }, EXIT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { child, lines, stderr: () => stderr, exited };
}

/** Starts the sample server on a free port; resolves with the port it prints. */
async function startSampleServer(): Promise<Run & { port: number }> {
  const server = run("server.ts", ["--port", "0"]);
  const started = Date.now();
  while (Date.now() - started < EXIT_MS) {
    const match = server.lines.map((line) => /^listening on 127\.0\.0\.1:(\d+)$/.exec(line))
      .find(Boolean);
    if (match) return { ...server, port: Number(match[1]) };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  server.child.kill("SIGKILL");
  throw new Error(`the sample server did not listen: ${server.stderr()}`);
}

describe("sample", () => {
  test("SRS-031 the sample server answers ack, nak and pong, and exits 0 after shutdown", async () => {
    const server = await startSampleServer();
    const client = await RawClient.connect(server.port);
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
    assert.equal(await server.exited, 0);
    assert.deepEqual(server.lines.slice(1), ["shutdown requested", "stopped"]);
  });

  test("SRS-031 the sample server exits 0 on Ctrl-C (SIGINT)", async () => {
    const server = await startSampleServer();
    const sent = Date.now();
    // Not child.kill(): Deno 2.9 then reports the exit as by signal, whatever the status.
    process.kill(server.child.pid!, "SIGINT");
    assert.equal(await server.exited, 0);
    assert.ok(Date.now() - sent < 3000, `took ${Date.now() - sent} ms`);
    assert.equal(server.lines.at(-1), "stopped");
  });

  test("SRS-031 the sample server refuses a bad port with status 2 and a message", async () => {
    const server = run("server.ts", ["--port", "70000"]);
    assert.equal(await server.exited, 2);
    assert.match(server.stderr(), /--port must be an integer from 0 to 65535, got "70000"/);
  });

  test("SRS-032 doit prints both sides of the script and exits 0", async () => {
    const doit = run("doit.ts", ["--port", "0"]);
    assert.equal(await doit.exited, 0, doit.lines.join("\n") + doit.stderr());
    const clientLines = doit.lines.filter((line) => line.startsWith("client"));
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
      assert.ok(doit.lines.some((line) => expected.test(line)), `no line matches ${expected}`);
    }
    assert.deepEqual(doit.lines.slice(-2), [
      "server exited with status 0",
      "doit: all answers as expected",
    ]);
  });

  test("SRS-032 doit exits 1 and says why when the server cannot start", async () => {
    const blocker = await startSampleServer();
    try {
      const doit = run("doit.ts", ["--port", String(blocker.port)]);
      assert.equal(await doit.exited, 1);
      assert.ok(doit.lines.some((line) => /address .*in use/i.test(line)), doit.lines.join("\n"));
      assert.equal(doit.lines.at(-1), "doit: 2 problem(s)");
    } finally {
      process.kill(blocker.child.pid!, "SIGINT");
      await blocker.exited;
    }
  });
});
