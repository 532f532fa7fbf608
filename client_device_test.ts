// The client against real sockets: an instrument that is not a oneline server (node:net,
// which every runtime has), a server that does not read, long and binary answers, and many
// requests in flight at once.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type * as net from "node:net";
import { connect } from "./client.ts";
import { definiteLengthBlock } from "./framing.ts";
import { InvalidResponseError, TimeoutError } from "./errors.ts";
import { deferred, withClient, withFakeServer } from "./test_util.ts";

const encoder = new TextEncoder();

// An instrument: answers each command line with what `answer` says, in CR LF lines, and
// records what it was sent.
function instrument(
  seen: string[],
  answer: (command: string, socket: net.Socket) => void,
): (socket: net.Socket) => void {
  return (socket) => {
    let carry = "";
    socket.on("data", (chunk: Uint8Array) => {
      carry += new TextDecoder().decode(chunk);
      for (let end = carry.indexOf("\r\n"); end !== -1; end = carry.indexOf("\r\n")) {
        const command = carry.slice(0, end);
        carry = carry.slice(end + 2);
        seen.push(command);
        answer(command, socket);
      }
    });
  };
}

const CRLF = { handshake: false, readTerminator: "\r\n", writeTerminator: "\r\n" } as const;

describe("client and an instrument (device mode)", () => {
  test("SRS-145 SRS-146 after a query times out, every later call gets its own answer, and nothing else is sent", async () => {
    const seen: string[] = [];
    const late = deferred();
    const device = instrument(seen, (command, socket) => {
      if (command === "SLOW?") late.promise.then(() => socket.write("late\r\n"));
      else socket.write(`${command.toLowerCase()}\r\n`);
    });
    await withFakeServer(device, async (port) => {
      await using meter = await connect({ port, ...CRLF, quietTime: 500 });
      await assert.rejects(meter.query("SLOW?", { lines: 1, timeout: 50 }), TimeoutError);
      const next = meter.request("A?");
      late.resolve(); // the late answer comes while the next call waits for quiet
      assert.equal(await next, "a?");
      assert.equal(await meter.request("B?"), "b?");
      assert.deepEqual(await meter.query("C?"), ["c?"]);
    });
    assert.deepEqual(seen, ["SLOW?", "A?", "B?", "C?"]);
  });

  test("SRS-159 queryBlock reads a block of a megabyte whose data holds CR and LF", async () => {
    const data = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 256);
    const device = instrument([], (command, socket) => {
      if (command === "CURV?") {
        socket.write(definiteLengthBlock(data));
        socket.write("\r\n");
      } else socket.write("ok\r\n");
    });
    await withFakeServer(device, async (port) => {
      await using scope = await connect({ port, ...CRLF });
      assert.deepEqual(await scope.queryBlock("CURV?"), data);
      assert.equal(await scope.request("*OPC?"), "ok");
    });
  });

  test("SRS-152 a 100,000-byte answer comes whole; one that is not UTF-8 is an error with its bytes", async () => {
    const long = "7".repeat(100_000);
    const device = instrument([], (command, socket) => {
      if (command === "LONG?") socket.write(`${long}\r\n`);
      else socket.write(new Uint8Array([0x32, 0x31, 0xb0, 0x43, 0x0d, 0x0a]));
    });
    await withFakeServer(device, async (port) => {
      await using meter = await connect({ port, ...CRLF });
      assert.equal(await meter.request("LONG?"), long);
      await assert.rejects(meter.request("TEMP?"), (error) => {
        assert.ok(error instanceof InvalidResponseError);
        assert.deepEqual([...error.raw], [0x32, 0x31, 0xb0, 0x43]);
        return true;
      });
      assert.deepEqual([...await meter.requestBytes("TEMP?")], [0x32, 0x31, 0xb0, 0x43]);
    });
  });
});

describe("client and a peer that does not read", () => {
  test("SRS-151 a request too big to go out fails within its limit, and await using ends within closeTimeout", async () => {
    // Takes the connection and never reads it: the socket buffers fill up.
    const sockets: net.Socket[] = [];
    await withFakeServer((socket) => {
      socket.pause();
      sockets.push(socket);
    }, async (port) => {
      const big = "x".repeat(32 * 1024 * 1024);
      const started = performance.now();
      {
        await using client = await connect({ port, handshake: false, closeTimeout: 200 });
        await assert.rejects(client.request(big, { timeout: 300 }), {
          name: "TimeoutError",
          message: "not sent within 300 ms: the peer does not read what the client writes",
        });
      }
      const took = performance.now() - started;
      assert.ok(took < 3000, `${took} ms`);
    });
  });
});

describe("client and a oneline server: pipelining", () => {
  test("SRS-155 a thousand concurrent requests each get their own answer", async () => {
    await withClient({}, async (client) => {
      const commands = Array.from({ length: 1000 }, (_, i) => `c${i}`);
      const answers = await Promise.all(commands.map((command) => client.request(command)));
      assert.deepEqual(answers, commands.map((command) => `echo:${command}`));
      assert.equal(await client.request("last"), "echo:last");
    });
  });

  test("SRS-155 a request that gives up among others leaves every other answer paired", async () => {
    const release = deferred();
    const handler = async (command: string) => {
      if (command === "slow") await release.promise;
      return `re:${command}`;
    };
    await withClient({ handler }, async (client) => {
      const before = client.request("a");
      const slow = client.request("slow", { timeout: 50 });
      const after = client.request("b");
      await assert.rejects(slow, TimeoutError);
      release.resolve();
      assert.deepEqual([await before, await after], ["re:a", "re:b"]);
      assert.equal(await client.request("c"), "re:c");
    });
  });
});

describe("client: the block helper with the module's server", () => {
  test("SRS-158 a block built by definiteLengthBlock and sent as a line reads back (data without CR or LF)", async () => {
    const data = encoder.encode("0123456789");
    const handler = () => new TextDecoder().decode(definiteLengthBlock(data));
    await withClient({ handler }, async (client) => {
      assert.deepEqual(await client.queryBlock("CURV?"), data);
    });
  });
});
