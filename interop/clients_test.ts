// nc, socat and telnet as clients of the server of the runtime running the test: the
// command-line tools the README points people to. Skipped, saying why, where one is missing.

import { after, afterEach, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServeOptions } from "../server.ts";
import { assertSocketsClosed, openSockets, type Run, timeout, withServer } from "../test_util.ts";
import { findProgram, interopTest, killAll, spawnClient } from "./harness.ts";

const socketsAtStart = openSockets();
const nc = findProgram("nc");
const socat = findProgram("socat");
const telnet = findProgram("telnet");

const testdata = (name: string) => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
const tls = {
  cert: fs.readFileSync(testdata("server.pem"), "utf8"),
  key: fs.readFileSync(testdata("server.key"), "utf8"),
};

// How long the handler takes: long enough that the client's end of stream (sent as soon as
// its stdin ends) reaches the server before the answer is written.
const DELAY_MS = 300;

// A handler that records each command and answers it after DELAY_MS.
function delayed(commands: string[]): ServeOptions["handler"] {
  return async (command) => {
    commands.push(command);
    await timeout(DELAY_MS, undefined);
    return `answer to ${command}`;
  };
}

// Runs a client with `input` as its whole stdin, to its end.
function runClient(command: string, args: string[], input: string): Promise<Run> {
  const client = spawnClient(command, args);
  client.child.stdin!.end(input);
  return client.done;
}

describe("nc, socat and telnet as clients", () => {
  afterEach(killAll);
  after(() => assertSocketsClosed(socketsAtStart));

  interopTest(
    "SRS-191 `printf 'SLOW?\\n' | nc -q1`: the answer a handler gives after nc ended its side arrives",
    nc,
    async (path) => {
      const commands: string[] = [];
      await withServer({ handler: delayed(commands) }, async (server) => {
        const run = await runClient(path, ["-q1", "127.0.0.1", String(server.port)], "SLOW?\n");
        assert.deepEqual(commands, ["SLOW?"]);
        assert.equal(run.stdout, "answer to SLOW?\n");
      });
    },
  );

  interopTest(
    "SRS-191 nc -C sends CRLF lines: each is one command, answered in order",
    nc,
    async (path) => {
      const commands: string[] = [];
      await withServer({ handler: delayed(commands) }, async (server) => {
        const args = ["-C", "-q1", "127.0.0.1", String(server.port)];
        const run = await runClient(path, args, "ping\nMEAS:VOLT?\n");
        assert.deepEqual(commands, ["MEAS:VOLT?"]);
        assert.equal(run.stdout, "pong\nanswer to MEAS:VOLT?\n");
      });
    },
  );

  // socat ends its side (shutdown of writing) at the end of its stdin, then reads until the
  // server closes (-t: at most that long).
  const halfClose: [string, Partial<ServeOptions>, (port: number, path: string) => string][] = [
    ["TCP", {}, (port) => `TCP:127.0.0.1:${port}`],
    [
      "TLS",
      { hostname: "127.0.0.1", tls },
      (port) => `OPENSSL:127.0.0.1:${port},cafile=${testdata("ca.pem")}`,
    ],
    ["a Unix socket", {}, (_, path) => `UNIX-CONNECT:${path}`],
  ];
  for (const [transport, options, address] of halfClose) {
    interopTest(
      `SRS-192 socat over ${transport} with stdin at its end (half-close) gets every answer`,
      socat,
      async (path) => {
        const commands: string[] = [];
        const dir = fs.mkdtempSync(join(os.tmpdir(), "oneline-socat-"));
        const socket = join(dir, "server.sock");
        const unix = transport === "a Unix socket";
        try {
          await withServer(
            { handler: delayed(commands), ...options, ...(unix ? { path: socket } : {}) },
            async (server) => {
              const args = ["-t", "5", "-", address(server.port ?? 0, socket)];
              const run = await runClient(path, args, "ping\nFIRST\nSECOND\n");
              assert.deepEqual(commands, ["FIRST", "SECOND"]);
              assert.equal(run.stdout, "pong\nanswer to FIRST\nanswer to SECOND\n", run.stderr);
              assert.equal(run.code, 0, run.stderr);
            },
          );
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }

  interopTest(
    'SRS-193 telnet\'s CR NUL and CR LF line ends are one command each with readTerminator: "any"',
    telnet,
    async (path) => {
      const commands: string[] = [];
      const options = { readTerminator: "any", writeTerminator: "\r\n" } as const;
      await withServer({ handler: delayed(commands), ...options }, async (server) => {
        const client = spawnClient(path, ["127.0.0.1", String(server.port)]);
        // telnet sends a bare CR as CR NUL, and LF as CR LF.
        client.child.stdin!.write("first\rsecond\rthird\n");
        await client.waitFor(/answer to third\r?\n/);
        assert.deepEqual(commands, ["first", "second", "third"]);
        assert.match(
          client.stdout,
          /answer to first\r?\nanswer to second\r?\nanswer to third\r?\n$/,
        );
        client.child.stdin!.end();
        await client.done;
      });
    },
  );
});
