// The leaving scenarios are only worth something if they pass a server that behaves and fail one
// that does not: here they run against small node:net servers of known behaviour, on TCP and on
// a Unix socket, rather than against the module's server (tools/attack.ts does that).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Attack, type Outcome, type Target } from "./attack_client.ts";
import { LEAVING_SCENARIOS } from "./attack_leaving.ts";

const CONFIG = { idleTimeoutMs: 1000, handlerTimeoutMs: 3000 };

interface Reference {
  // Keeps serving after the client's end of stream, as the protocol wants.
  halfOpen: boolean;
  // The answer to `stats`, given how many times it was asked before.
  stats?: (asked: number) => string;
}

// Answers every connection at once (no one-at-a-time slot), in order: ping, disconnect, stats,
// slow N, big N, anything else echoed.
function answer(line: string, stats: () => string): Promise<string | null> {
  const [word, count] = line.split(" ");
  if (line === "ping") return Promise.resolve("pong");
  if (line === "disconnect") return Promise.resolve(null);
  if (line === "stats") return Promise.resolve(stats());
  if (word === "slow") {
    return new Promise((resolve) => setTimeout(() => resolve("done"), Number(count)));
  }
  if (word === "big") return Promise.resolve("x".repeat(Number(count)));
  return Promise.resolve(`echo:${line}`);
}

async function withReference(
  kind: "tcp" | "unix",
  reference: Reference,
  body: (attack: Attack) => Promise<void>,
): Promise<void> {
  let asked = 0;
  const stats = () => reference.stats?.(asked++) ?? "waiting=0 connections=0 refused=0";
  const server = net.createServer({ allowHalfOpen: reference.halfOpen }, (socket) => {
    socket.on("error", () => {});
    let chain = Promise.resolve();
    let partial = "";
    socket.on("data", (chunk: Uint8Array) => {
      const lines = (partial + new TextDecoder().decode(chunk)).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        chain = chain.then(async () => {
          const text = await answer(line, stats);
          if (text === null) socket.end();
          else if (socket.writable) socket.write(`${text}\n`);
        });
      }
    });
    socket.on("end", () => chain.then(() => socket.end()));
  });
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "attack-test-"));
  const socketPath = path.join(directory, "s");
  await new Promise<void>((resolve) => {
    if (kind === "unix") server.listen(socketPath, resolve);
    else server.listen(0, "127.0.0.1", resolve);
  });
  const target: Target = kind === "unix"
    ? { kind, path: socketPath }
    : { kind, port: (server.address() as net.AddressInfo).port };
  const attack = new Attack(target);
  try {
    await body(attack);
  } finally {
    attack.stop();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function run(name: string, attack: Attack, size: number): Promise<Outcome> {
  const scenario = LEAVING_SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, name);
  return scenario.run(attack, size, CONFIG);
}

for (const kind of ["tcp", "unix"] as const) {
  describe(`the leaving scenarios against reference servers (${kind})`, () => {
    test("SRS-203 half-close passes a server that answers after the client's end of stream", async () => {
      await withReference(kind, { halfOpen: true }, async (attack) => {
        const outcome = await run("half-close: echo, slow 300, echo", attack, 1);
        assert.deepEqual(outcome.problems, []);
        assert.match(outcome.notes[0], /^29 bytes in \d+ ms$/);
        const big = await run("half-close: 50 answers of 100 kB", attack, 3);
        assert.deepEqual(big.problems, []);
        assert.match(big.notes[0], /^300003 bytes in \d+ ms$/);
      });
    });

    test("SRS-203 half-close fails a server that closes at the client's end of stream", async () => {
      await withReference(kind, { halfOpen: false }, async (attack) => {
        const outcome = await run("half-close: echo, slow 300, echo", attack, 1);
        // The first answer may go out before the server's own end of stream, or not.
        assert.equal(outcome.problems.length, 1);
        assert.match(outcome.problems[0], /^[01]\/3 answers in order, then nothing more$/);
      });
    });

    test("SRS-204 half-close while waiting fails a server that answers before the client's turn", async () => {
      // The reference serves everyone at once: the waiting client is answered while the holder
      // still holds the slot.
      await withReference(kind, { halfOpen: true }, async (attack) => {
        const outcome = await run("half-close while waiting: echo, slow 300, echo", attack, 1);
        assert.equal(outcome.problems.length, 1);
        assert.match(outcome.problems[0], /^\d+ bytes came before its turn$/);
      });
    });

    test("SRS-201 churn fails a server that refuses or keeps counting churners", async () => {
      // Every asker has a turn: the 23 others are churners.
      const stats = (asked: number) =>
        asked === 0
          ? "waiting=0 connections=0 refused=0"
          : `waiting=2 connections=${24 + asked} refused=7`;
      await withReference(kind, { halfOpen: true, stats }, async (attack) => {
        const outcome = await run("churn: connect, close", attack, 20);
        assert.ok(outcome.problems.includes("7 refused: churners counted as waiting"));
        assert.ok(outcome.problems.includes("2 still counted as waiting 2000 ms on"));
        assert.match(
          outcome.notes[1],
          /^23 churners had a turn, 7 refused, 2 waiting after \d+ ms$/,
        );
      });
    });

    test("SRS-201 churn passes a server that counts no churner", async () => {
      await withReference(kind, { halfOpen: true }, async (attack) => {
        const outcome = await run("churn: connect, ping, close", attack, 20);
        // Only timing may fail here (served at once), never the counts.
        assert.deepEqual(outcome.problems.filter((p) => !p.startsWith("the next client")), []);
        assert.match(outcome.notes[0], /^20 cycles in \d+ ms \(\d+\/s\), 0 not connected$/);
      });
    });
  });
}
