// The client and instruments: device mode, the limits of its calls and of what it holds, and a
// peer that does not read; over an in-memory transport and over real sockets (an instrument
// made with node:net, which every runtime has).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type * as net from "node:net";
import { connect } from "./client.ts";
import type { OnelineClient } from "./client.ts";
import { InvalidResponseError, TimeoutError } from "./errors.ts";
import { definiteLengthBlock } from "./framing.ts";
import {
  connected,
  countingTimers,
  deferred,
  FakeServer,
  settle,
  timeout,
  withFakeServer,
} from "./test_util.ts";

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

describe("client over a fake transport: device mode", () => {
  test("SRS-145 device mode sends only what is asked: request reads one line, query its lines, no ping, no disconnect", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    server.replies.set("*IDN?", "ACME,METER,1\n");
    server.replies.set("LIST?", "a\nb\n");
    server.replies.set("ping", "pong\n");
    const { client } = await connected({ handshake: false }, server);
    assert.equal(await client.request("*IDN?"), "ACME,METER,1");
    assert.deepEqual(await client.query("LIST?", { lines: 2 }), ["a", "b"]);
    assert.deepEqual(await client.query("*IDN?"), ["ACME,METER,1"]);
    await client.ping(); // asked for: sent as it is, one line read
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "*IDN?\nLIST?\n*IDN?\nping\n");
  });

  test("SRS-146 after a call gave up, the next one drops the late answer first and gets its own", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 20 });
    await assert.rejects(client.query("slow?", { lines: 1, timeout: 20 }), TimeoutError);
    server.send("late\n");
    const next = client.request("fast?", { timeout: 2000 });
    await server.until(() => server.written.endsWith("fast?\n"));
    server.send("FAST\n");
    assert.equal(await next, "FAST");
    assert.equal(
      await client.request("again?", { timeout: 2000 }).catch(String),
      "TimeoutError: no response within 2000 ms",
    );
    assert.equal(server.written, "slow?\nfast?\nagain?\n", "nothing but the commands");
    client.close();
  });

  test("SRS-146 a late answer that comes while the next call drains is dropped too", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 1000 });
    await assert.rejects(client.request("slow?", { timeout: 20 }), TimeoutError);
    const next = client.request("fast?", { timeout: 5000 });
    await settle();
    server.send("la");
    server.send("te\n");
    await server.until(() => server.written.endsWith("fast?\n"));
    server.send("FAST\n");
    assert.equal(await next, "FAST");
    client.close();
  });

  test("SRS-146 clear() in device mode writes nothing and drops what comes until the device is quiet", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 20 });
    await client.send("A?");
    await client.send("B?");
    server.send("a\nb\npartial");
    await client.clear();
    server.send("c\n");
    assert.equal(await client.recv(), "c");
    assert.equal(server.written, "A?\nB?\n");
    client.close();
  });

  test("SRS-146 SRS-024 clear() in device mode rejects when the device closes while it waits", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 1000 });
    const clearing = client.clear();
    await settle();
    server.end();
    await assert.rejects(clearing, {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
  });

  test("SRS-147 a device that never goes quiet: the next call gives up within its limit, naming quietTime, and writes nothing", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 100 });
    await assert.rejects(client.request("stream?", { timeout: 20 }), TimeoutError);
    const trickle = setInterval(() => server.send("x\n"), 5);
    try {
      await assert.rejects(client.request("next?", { timeout: 300 }), {
        name: "TimeoutError",
        message: "the device did not stay quiet for 100 ms (quietTime) within 300 ms: it still " +
          "sends what an earlier call left",
      });
    } finally {
      clearInterval(trickle);
    }
    assert.equal(server.written, "stream?\n");
    client.close();
  });

  test("SRS-146 SRS-147 after a catch-up that gave up, the next call catches up again", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 30 });
    await assert.rejects(client.request("A?", { timeout: 20 }), TimeoutError);
    const trickle = setInterval(() => server.send("a\n"), 5);
    try {
      await assert.rejects(client.request("B?", { timeout: 100 }), TimeoutError);
    } finally {
      clearInterval(trickle);
    }
    server.send("late\n");
    const next = client.request("C?", { timeout: 2000 });
    await server.until(() => server.written.endsWith("C?\n"));
    server.send("c\n");
    assert.equal(await next, "c");
    assert.equal(server.written, "A?\nC?\n");
    client.close();
  });

  test("SRS-148 device calls take turns: the second command is written once the first is answered", async () => {
    const { client, server } = await connected({ handshake: false });
    const first = client.request("A?");
    const second = client.request("B?");
    await server.until(() => server.written === "A?\n");
    await settle();
    assert.equal(server.written, "A?\n");
    server.send("a\n");
    await server.until(() => server.written === "A?\nB?\n");
    server.send("b\n");
    assert.deepEqual([await first, await second], ["a", "b"]);
    client.close();
  });

  test("SRS-146 a block query that gave up holds up nothing: the next call catches up and gets its own answer", async () => {
    const { client, server } = await connected({ handshake: false, quietTime: 20 });
    await assert.rejects(client.queryBlock("CURV?", { timeout: 20 }), TimeoutError);
    const next = client.request("B?", { timeout: 1000 });
    await server.until(() => server.written.endsWith("B?\n"));
    server.send("b\n");
    assert.equal(await next, "b");
    assert.equal(server.written, "CURV?\nB?\n");
    client.close();
  });

  test("SRS-153 a failed ping in device mode leaves the next answer in step", async () => {
    const { client, server } = await connected({ handshake: false });
    server.answerPing = false;
    server.replies.set("ping", "ERR -113\n");
    server.replies.set("*IDN?", "ACME\n");
    await assert.rejects(client.ping(), {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got "ERR -113"',
    });
    assert.equal(await client.request("*IDN?"), "ACME");
    client.close();
  });
});

describe("client over a fake transport: limits of the waits", () => {
  test("SRS-015 a receive that gives up while an earlier one still waits leaves the earlier one its line", async () => {
    const { client, server } = await connected();
    const first = client.recv({ timeout: 1000 });
    await assert.rejects(client.recv({ timeout: 10 }), TimeoutError);
    server.send("x\ny\n");
    assert.equal(await first, "x");
    assert.equal(await client.recv({ timeout: 1000 }), "y");
    client.close();
  });

  test("SRS-076 a query's answer may come at any time within its limit", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("q", { timeout: 1000 });
    await timeout(30, undefined);
    server.send("Q\npong\n");
    assert.deepEqual(await answer, ["Q"]);
    client.close();
  });

  test("SRS-076 SRS-077 the catch-up of a call takes its signal", async () => {
    const { client, server } = await connected({ timeout: 2000 });
    server.answerPing = false;
    await assert.rejects(client.query("slow", { timeout: 10 }), TimeoutError);
    const cancel = new AbortController();
    const next = client.query("next", { signal: cancel.signal });
    await settle();
    const reason = new Error("cancelled while catching up");
    cancel.abort(reason);
    await assert.rejects(next, (error) => error === reason);
    client.close();
  });
});

describe("client over a fake transport: limits that hold", () => {
  test("SRS-149 a call's limit counts from the call: waiting for its turn counts, and it never writes", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.query("held", { lines: 1, timeout: 5000 });
    await server.until(() => server.written.endsWith("held\n"));
    await assert.rejects(client.request("next", { timeout: 30 }), {
      name: "TimeoutError",
      message: "no response within 30 ms: the calls before it held the connection all that time",
    });
    server.send("H\n");
    assert.deepEqual(await first, ["H"]);
    await settle();
    assert.equal(server.written, "ping\nheld\n");
    client.close();
  });

  test("SRS-149 a counted query that waits for the answers before it says so when it runs out", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.query("held", { timeout: 5000 });
    await server.until(() => server.written.endsWith("held\nping\n"));
    await assert.rejects(client.query("next", { lines: 1, timeout: 30 }), {
      name: "TimeoutError",
      message: "no response within 30 ms: the calls before it held the connection all that time",
    });
    server.send("H\npong\n");
    assert.deepEqual(await first, ["H"]);
    assert.equal(server.written, "ping\nheld\nping\n");
    client.close();
  });

  test("SRS-150 a queued call whose signal aborts rejects at once and never writes", async () => {
    const { client, server } = await connected({ handshake: false });
    const first = client.request("A?");
    const cancel = new AbortController();
    const second = client.request("B?", { signal: cancel.signal });
    const reason = new Error("not any more");
    cancel.abort(reason);
    await assert.rejects(second, (error) => error === reason);
    server.send("a\n");
    assert.equal(await first, "a");
    server.replies.set("C?", "c\n");
    assert.equal(await client.request("C?"), "c");
    assert.equal(server.written, "A?\nC?\n");
    client.close();
  });

  test("SRS-150 a queued request whose signal aborts never writes, also when requests overlap", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const out = deferred();
    server.hold = out.promise;
    const first = client.request("a");
    await server.until(() => server.written.endsWith("a\nping\n"));
    const cancel = new AbortController();
    const second = client.request("b", { signal: cancel.signal });
    const reason = new Error("not any more");
    cancel.abort(reason);
    await assert.rejects(second, (error) => error === reason);
    server.hold = undefined;
    out.resolve();
    server.send("A\npong\n");
    assert.equal(await first, "A");
    const third = client.request("c", { timeout: 1000 });
    await server.until(() => server.written.endsWith("c\nping\n"));
    server.send("C\npong\n");
    assert.equal(await third, "C");
    assert.equal(server.written, "ping\na\nping\nc\nping\n");
    client.close();
  });

  test("SRS-150 a send that gives up before its turn never writes and holds up no send after it", async () => {
    const { client, server } = await connected();
    const out = deferred();
    server.hold = out.promise;
    const first = client.send("a");
    const cancel = new AbortController();
    const second = client.send("b", { signal: cancel.signal });
    const reason = new Error("not any more");
    cancel.abort(reason);
    await assert.rejects(second, (error) => error === reason);
    await assert.rejects(client.send("c", { timeout: 10 }), {
      name: "TimeoutError",
      message: "no response within 10 ms: the calls before it held the connection all that time",
    });
    server.hold = undefined;
    out.resolve();
    await first;
    await client.send("d", { timeout: 1000 });
    assert.equal(server.written, "ping\na\nd\n");
    client.close();
  });

  test("SRS-151 a write the peer does not take counts toward the limit; close() then ends within closeTimeout", async () => {
    const { client, server } = await connected({ closeTimeout: 50 });
    server.hold = new Promise(() => {});
    await assert.rejects(client.request("big", { timeout: 30 }), {
      name: "TimeoutError",
      message: "not sent within 30 ms: the peer does not read what the client writes",
    });
    await assert.rejects(client.send("more", { timeout: 30 }), {
      name: "TimeoutError",
      message: "no response within 30 ms: the calls before it held the connection all that time",
    });
    const started = performance.now();
    await client[Symbol.asyncDispose]();
    assert.ok(performance.now() - started < 1000, "did not wait on the write");
    assert.ok(server.events.includes("close"));
    assert.deepEqual(server.writes, ["ping\n", "big\nping\n", "disconnect\n"]);
  });
  test("SRS-151 a send, a counted query or a catch-up whose write the peer does not take says so", async () => {
    const calls: ((client: OnelineClient) => Promise<unknown>)[] = [
      (client) => client.send("a", { timeout: 20 }),
      (client) => client.query("b", { lines: 1, timeout: 20 }),
      (client) => client.clear({ timeout: 20 }),
    ];
    for (const call of calls) {
      const { client, server } = await connected({ closeTimeout: 10 });
      server.hold = new Promise(() => {});
      await assert.rejects(call(client), {
        name: "TimeoutError",
        message: "not sent within 20 ms: the peer does not read what the client writes",
      });
      await client[Symbol.asyncDispose]();
    }
  });
});

describe("client over a fake transport: back-pressure", () => {
  // What counts is the bytes received and not taken: "ab\n" is 3.
  test("SRS-081 the client stops reading once maxQueuedBytes are queued, and reads on as they are taken", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 3 });
    assert.equal(server.reads, 1);
    server.send("ab\n");
    server.send("cd\n");
    await settle();
    assert.equal(server.reads, 1, "3 bytes queued: no more reads");
    assert.equal(await client.recv(), "ab");
    await server.until(() => server.reads === 2);
    await settle();
    assert.equal(server.reads, 2);
    assert.equal(await client.recv(), "cd");
    await server.until(() => server.reads === 3);
    client.close();
  });

  test("SRS-081 below maxQueuedBytes the client keeps reading", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 4 });
    server.send("ab\n");
    await server.until(() => server.reads === 2);
    server.send("c\n");
    await settle();
    assert.equal(server.reads, 2);
    client.close();
  });

  test("SRS-081 taking a line resumes reading only once less than maxQueuedBytes is queued", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 6 });
    server.send("ab\ncd\nef\n");
    await settle();
    assert.equal(await client.recv(), "ab");
    await settle();
    assert.equal(server.reads, 1, "6 bytes still queued");
    assert.equal(await client.recv(), "cd");
    await server.until(() => server.reads === 2);
    assert.equal(await client.recv(), "ef");
    client.close();
  });

  test("SRS-081 a line longer than maxQueuedBytes is still read whole", async () => {
    const { client, server } = await connected({ handshake: false, maxQueuedBytes: 3 });
    server.send("abcd");
    server.send("ef\n");
    assert.equal(await client.recv({ timeout: 1000 }), "abcdef");
    client.close();
  });

  // The handshake's read waited for bytes: once it has them, its wait no longer counts.
  test("SRS-081 after a call that waited for bytes the client still stops at maxQueuedBytes", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    const connecting = connected({ maxQueuedBytes: 3 }, server);
    await server.until(() => server.written === "ping\n");
    await settle();
    server.send("pong\n");
    const { client } = await connecting;
    assert.equal(server.reads, 2, "the pong, then waiting");
    server.send("ab\n");
    server.send("cd\n");
    await settle();
    assert.equal(server.reads, 2, "3 bytes queued: no more reads");
    assert.equal(await client.recv(), "ab");
    assert.equal(await client.recv(), "cd");
    client.close();
  });

  test("SRS-146 a catch-up that gives up leaves no timer behind", async () => {
    const { client } = await connected({ handshake: false, quietTime: 5000 });
    const left = await countingTimers(async () => {
      const cancel = new AbortController();
      const clearing = client.clear({ signal: cancel.signal });
      await settle();
      const reason = new Error("enough");
      cancel.abort(reason);
      await assert.rejects(clearing, (error) => error === reason);
    });
    assert.equal(left, 0);
    client.close();
  });

  test("SRS-081 the default maxQueuedBytes lets many lines queue", async () => {
    const { client, server } = await connected({ handshake: false });
    for (let i = 0; i < 10; i++) server.send(`line ${i}\n`);
    await server.until(() => server.reads === 11);
    assert.equal(await client.recv(), "line 0");
    client.close();
  });

  test("SRS-078 SRS-081 a client that stopped reading still reads to the end when it closes", async () => {
    const server = new FakeServer();
    server.endOnCloseWrite = true;
    const { client } = await connected({ handshake: false, maxQueuedBytes: 3 }, server);
    server.send("ab\n");
    await settle();
    assert.equal(server.reads, 1);
    const took = performance.now();
    await client[Symbol.asyncDispose]();
    assert.ok(server.reads >= 2, "read on until the server closed");
    assert.ok(performance.now() - took < 900, "did not wait out the second");
    await assert.rejects(client.recv(), {
      name: "ConnectionClosedError",
      message: "the connection was closed by the client",
    });
  });
});

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
