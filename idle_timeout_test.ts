// Idle timeouts (SRS-041, SRS-067), end to end over real sockets: a client that makes no progress
// for idleTimeout (silent, not reading what it is owed, or trickling a line) is disconnected and
// the next one served; one that makes progress, however slowly, is not.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  assertServed,
  assertSocketsClosed,
  openSockets,
  RawClient,
  timeout,
  withRawClient,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

describe("idle timeout", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-041 a silent client is disconnected after the idle timeout; the next is served", async () => {
    await withServer({ idleTimeout: 150, verbose: true }, async (server) => {
      const first = await RawClient.connect(server.port!);
      const second = await RawClient.connect(server.port!);
      try {
        await first.write("ping\n");
        assert.equal(await first.readLine(), "pong");
        const quietSince = Date.now();
        await second.write("ping\n");
        await first.untilClosed(2000);
        const after = Date.now() - quietSince;
        assert.ok(after >= 140 && after < 1500, `closed after ${after} ms`);
        assert.equal(await second.readLine(), "pong");
        assert.ok(server.logger.infos.some((m) => m.endsWith("ended: idle")));
      } finally {
        first.destroy();
        second.destroy();
      }
    });
  });

  test("SRS-041 activity keeps resetting the idle timer", async () => {
    // Pings a quarter of the timeout apart for twice the timeout: a timer that progress did not
    // reset would have cut the client off halfway. The gaps leave room for a loaded machine.
    const idleTimeout = 1000;
    await withServer({ idleTimeout }, async (server) => {
      await withRawClient(server, async (client) => {
        const started = Date.now();
        while (Date.now() - started < 2 * idleTimeout) {
          await timeout(idleTimeout / 4, undefined);
          await client.write("ping\n");
          assert.equal(await client.readLine(), "pong");
        }
        assert.equal(client.closed, false);
      });
    });
  });

  test("SRS-067 a client that never reads what it is owed is disconnected by the idle timeout", async () => {
    const handler = (command: string) => command === "big" ? "x".repeat(20_000_000) : command;
    await withServer({ handler, idleTimeout: 300 }, async (server) => {
      const greedy = await RawClient.connect(server.port!);
      greedy.socket.pause();
      await greedy.write("big\n");
      const next = await RawClient.connect(server.port!);
      try {
        await next.write("ping\n");
        // Served only once the greedy client has been cut off.
        assert.equal(await next.readLine(10_000), "pong");
      } finally {
        greedy.destroy();
        next.destroy();
      }
    });
  });

  test("SRS-067 a client that trickles a line byte by byte is disconnected by the idle timeout", async () => {
    await withServer({ idleTimeout: 300 }, async (server) => {
      const trickler = await RawClient.connect(server.port!);
      let stop = false;
      const trickle = (async () => {
        while (!stop && !trickler.closed) {
          await trickler.write("x").catch(() => {});
          await timeout(30, undefined);
        }
      })();
      try {
        assert.equal(await trickler.untilClosed(10_000), "");
      } finally {
        stop = true;
        await trickle;
        trickler.destroy();
      }
      await assertServed(server);
    });
  });

  test("SRS-067 a client that takes a large answer slowly, but steadily, is not cut off", async () => {
    const handler = () => "y".repeat(8 * 1024 * 1024);
    await withServer({ handler, idleTimeout: 400 }, async (server) => {
      const client = await RawClient.connect(server.port!);
      try {
        client.socket.pause();
        await client.write("big\nping\n");
        // Reads a little at a time: each slice it takes is progress.
        const reading = setInterval(() => {
          client.socket.resume();
          setTimeout(() => client.socket.pause(), 20);
        }, 100);
        try {
          const [answer, pong] = await client.readLines(2, 20_000);
          assert.equal(answer.length, 8 * 1024 * 1024);
          assert.equal(pong, "pong");
        } finally {
          clearInterval(reading);
        }
      } finally {
        client.destroy();
      }
    });
  });
});
