// The client's answers: requests, queries and lines, paired with their commands, fenced,
// never altered, in step after failures; terminators and definite-length blocks; over an
// in-memory transport and over real sockets.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import { BlockFormatError, InvalidResponseError, ProtocolError, TimeoutError } from "./errors.ts";
import { definiteLengthBlock } from "./framing.ts";
import {
  assertSocketsClosed,
  connected,
  deferred,
  FakeServer,
  openSockets,
  settle,
  timeout,
  variedHandler,
  withClient,
  withFakeServer,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("client over sockets: requests and answers", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-013 SRS-015 request sends a command and receives its response", async () => {
    await withClient({}, async (client) => {
      assert.equal(await client.request("cmd01"), "echo:cmd01");
      assert.equal(await client.request("grüße"), "echo:grüße");
    });
  });

  test("SRS-014 send appends the LF and refuses CR or LF in a command", async () => {
    const received: string[] = [];
    await withClient({ handler: (command) => void received.push(command) }, async (client) => {
      await assert.rejects(client.send("two\nlines"), TypeError);
      await assert.rejects(client.send("cr\r"), TypeError);
      await client.send("a b");
      await client.ping();
    });
    assert.deepEqual(received, ["a b"]);
  });

  test("SRS-015 SRS-018 pipelined sends are answered in order, several lines each", async () => {
    const handler = (command: string) => [command, command.toUpperCase()];
    await withClient({ handler }, async (client) => {
      await Promise.all(["a", "b", "c"].map((command) => client.send(command)));
      const lines = [];
      for (let i = 0; i < 6; i++) lines.push(await client.recv());
      assert.deepEqual(lines, ["a", "A", "b", "B", "c", "C"]);
    });
  });

  test("SRS-015 recv times out with a typed error, not an empty string", async () => {
    await withClient({ handler: () => undefined }, async (client) => {
      await client.send("silent");
      const started = Date.now();
      const error = await client.recv({ timeout: 100 }).catch((e) => e);
      const waited = Date.now() - started;
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.timeout, 100);
      assert.ok(waited >= 90 && waited < 1000, `waited ${waited} ms`);
      // The connection is still usable afterwards.
      await client.ping();
    });
  });

  test("SRS-015 recvLine gives the raw bytes and invalid flag of a response", async () => {
    await withFakeServer((socket) => {
      socket.on(
        "data",
        () => socket.write(new Uint8Array([0x70, 0x6f, 0x6e, 0x67, 0x0a, 0x61, 0xff, 0x0a])),
      );
    }, async (port) => {
      const client = await connect({ port });
      try {
        const line = await client.recvLine();
        assert.deepEqual([line.text, line.invalid, line.reason, [...line.raw]], [
          "a",
          true,
          "decode",
          [0x61, 0xff],
        ]);
      } finally {
        client.close();
      }
    });
  });

  test("SRS-015 async iteration yields responses until the server closes", async () => {
    await withClient({ handler: (command) => ["x", command] }, async (client) => {
      await client.send("a");
      await client.send("disconnect");
      const lines: string[] = [];
      for await (const line of client) lines.push(line);
      assert.deepEqual(lines, ["x", "a"]);
    });
  });
});

describe("client over a fake transport: lines", () => {
  test("SRS-015 recvLine gives text, raw bytes and the invalid flag; queued lines come in order", async () => {
    const { client, server } = await connected();
    server.send(new Uint8Array([0x61, 0x0a, 0x62, 0xff, 0x0a]));
    assert.equal(await client.recv(), "a");
    const line = await client.recvLine();
    assert.deepEqual([...line.raw], [0x62, 0xff]);
    assert.equal(line.invalid, true);
    client.close();
  });

  test("SRS-015 a receive that times out says how long it waited; the next line goes to the next receive", async () => {
    const { client, server } = await connected({ timeout: 40 });
    await assert.rejects(client.recv(), {
      name: "TimeoutError",
      message: "no response within 40 ms",
    });
    await assert.rejects(client.recv({ timeout: 10 }), {
      name: "TimeoutError",
      message: "no response within 10 ms",
    });
    server.send("late\n");
    assert.equal(await client.recv(), "late");
    client.close();
  });

  test("SRS-077 an aborted signal rejects with its reason, at once or while waiting", async () => {
    const { client, server } = await connected();
    const reason = new Error("cancelled");
    await assert.rejects(client.recv({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    const cancel = new AbortController();
    const waiting = client.recv({ signal: cancel.signal });
    cancel.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    server.send("next\n");
    assert.equal(await client.recv(), "next");
    client.close();
  });

  test("SRS-077 the timeout can be changed, and must be positive", () => {
    return connected().then(({ client }) => {
      client.timeout = 123;
      assert.equal(client.timeout, 123);
      client.timeout = Infinity;
      assert.equal(client.timeout, Infinity);
      assert.throws(() => client.timeout = 0, RangeError);
      client.close();
    });
  });

  test("SRS-083 SRS-157 with CR as the read terminator each CR ends a line, and an LF is part of one", async () => {
    const cr = await connected({ handshake: false, readTerminator: "\r" });
    cr.server.send("a\rb\nc\r");
    assert.deepEqual([await cr.client.recv(), await cr.client.recv()], ["a", "b\nc"]);
    cr.client.close();
  });

  test("SRS-157 with CRLF as the read terminator only the pair ends a line, also split between reads", async () => {
    const crlf = await connected({ handshake: false, readTerminator: "\r\n" });
    crlf.server.send("a\nb\rc\r");
    crlf.server.send("\nd\r\n");
    assert.deepEqual([await crlf.client.recv(), await crlf.client.recv()], ["a\nb\rc", "d"]);
    crlf.client.close();
  });

  test("SRS-157 with any read terminator CR, LF and CR LF each end one line, a CR LF split between reads too", async () => {
    const any = await connected({ handshake: false, readTerminator: "any" });
    any.server.send("a\rb\nc\r\nd\r");
    any.server.send("\ne\n\n");
    const lines = [];
    for (let i = 0; i < 6; i++) lines.push(await any.client.recv());
    assert.deepEqual(lines, ["a", "b", "c", "d", "e", ""]);
    any.client.close();
  });

  test("SRS-015 a response line over maxLineBytes is cut and flagged", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.send("abcdefgh\nok\n");
    const line = await client.recvLine();
    assert.equal(line.text, "abcd");
    assert.equal(line.invalid, true);
    assert.equal(await client.recv(), "ok");
    client.close();
  });

  test("SRS-015 async iteration yields lines until the server closes", async () => {
    const { client, server } = await connected();
    server.send("a\nb\n");
    server.end();
    const lines: string[] = [];
    for await (const line of client) lines.push(line);
    assert.deepEqual(lines, ["a", "b"]);
    assert.equal(client.connected, false);
  });
});

describe("client over a fake transport: requests and queries", () => {
  test("SRS-076 a query fences its command with ping, in one write, and returns the lines before pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("dump");
    await server.until(() => server.written.endsWith("dump\nping\n"));
    server.send("1\n2\npong\n");
    assert.deepEqual(await answer, ["1", "2"]);
    client.close();
  });

  test("SRS-076 request wants exactly one line; otherwise a ProtocolError names them", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const one = client.request("a");
    server.send("A\npong\n");
    assert.equal(await one, "A");
    const two = client.request("b");
    server.send("1\n2\npong\n");
    await assert.rejects(two, {
      name: "ProtocolError",
      message: '"b" was answered with 2 lines, not one: ["1","2"] (query() returns them all)',
    });
    const none = client.request("c");
    server.send("pong\n");
    await assert.rejects(none, ProtocolError);
    client.close();
  });

  test("SRS-076 lines reads a known count without a fence; ping is never fenced", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const written = server.written;
    const two = client.query("pong?", { lines: 2 });
    server.send("pong\nx\n");
    assert.deepEqual(await two, ["pong", "x"]);
    const ping = client.query("ping");
    server.send("pong\n");
    assert.deepEqual(await ping, ["pong"]);
    assert.equal(server.written.slice(written.length), "pong?\nping\n");
    client.close();
  });

  test("SRS-076 after a counted query gave up, the next query resynchronises with a ping first", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("three", { lines: 3, timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const next = client.query("fast");
    await server.until(() => server.written.length > mark);
    assert.equal(server.written.slice(mark), "ping\n");
    server.send("1\n2\n3\npong\n");
    await server.until(() => server.written.endsWith("fast\nping\n"));
    server.send("re:fast\npong\n");
    assert.deepEqual(await next, ["re:fast"]);
    client.close();
  });

  test("SRS-076 clear() sends ping and drops every line up to its pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await client.send("raw");
    server.send("unread\n");
    const clearing = client.clear();
    await server.until(() => server.written.endsWith("raw\nping\n"));
    server.send("also unread\npong\nafter\n");
    await clearing;
    assert.equal(await client.recv(), "after");
    client.close();
  });

  test("SRS-155 concurrent requests overlap on the wire, each fenced; the answers are paired in order", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.request("a");
    const second = client.query("b");
    const third = client.request("c");
    await server.until(() => server.written.endsWith("a\nping\nb\nping\nc\nping\n"));
    server.send("A\npong\nB1\nB2\npong\nC\npong\n");
    assert.deepEqual([await first, await second, await third], ["A", ["B1", "B2"], "C"]);
    client.close();
  });

  // Not the time that was left for its last receive ("no response within 29.969031 ms").
  test("SRS-076 a query that times out names its own limit", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("q", { timeout: 30 }), (error) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, "no response within 30 ms");
      assert.equal(error.timeout, 30);
      return true;
    });
    client.close();
  });

  test("SRS-076 a query's timeout bounds the whole exchange, not each line", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("trickle", { timeout: 100 });
    const started = performance.now();
    const trickle = setInterval(() => server.send("x\n"), 30);
    await assert.rejects(answer, TimeoutError);
    clearInterval(trickle);
    const took = performance.now() - started;
    assert.ok(took < 500, `${took} ms`);
    client.close();
  });

  test("SRS-077 with timeout Infinity a query waits as long as it takes", async () => {
    const { client, server } = await connected({ timeout: 20 });
    server.answerPing = false;
    const answer = client.query("slow", { timeout: Infinity });
    await timeout(60, undefined);
    server.send("done\npong\n");
    assert.deepEqual(await answer, ["done"]);
    client.close();
  });

  test("SRS-011 ping rejects an answer other than pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const pinging = client.ping();
    server.send("PONG\npong\n");
    await assert.rejects(pinging, {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got ["PONG","pong"]',
    });
    client.close();
  });
});

describe("client over a fake transport: terminators", () => {
  test("SRS-014 SRS-083 the write terminator ends every command, fence and goodbye", async () => {
    const server = new FakeServer();
    server.answerPing = false;
    server.endOnCloseWrite = true;
    server.send("pong\n"); // the handshake's
    const { client } = await connected({ writeTerminator: "\r\n" }, server);
    await client.send("a");
    const answer = client.query("b");
    await server.until(() => server.written.endsWith("ping\r\n"));
    server.send("B\npong\n");
    assert.deepEqual(await answer, ["B"]);
    await assert.rejects(client.query("c", { lines: 1, timeout: 10 }), TimeoutError);
    const clearing = client.clear();
    await server.until(() => server.written.endsWith("c\r\nping\r\n"));
    server.send("C\npong\n");
    await clearing;
    await client[Symbol.asyncDispose]();
    assert.equal(server.written, "ping\r\na\r\nb\r\nping\r\nc\r\nping\r\ndisconnect\r\n");
  });

  test("SRS-083 with the LF read terminator a CR is no line end: a CR before the LF is dropped", async () => {
    const { client, server } = await connected({ handshake: false, readTerminator: "\n" });
    server.send("a\r\nb\rc\n");
    assert.equal(await client.recv(), "a");
    assert.equal(await client.recv(), "b\rc");
    client.close();
  });
});

describe("client over a fake transport: fences", () => {
  test("SRS-076 a late answer left by a query that timed out is dropped before the next call", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("slow", { timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const next = client.request("b");
    server.send("late 1\nlate 2\npong\n");
    await server.until(() => server.written.length > mark);
    assert.equal(server.written.slice(mark), "b\nping\n", "no fence of its own for the catch-up");
    server.send("B\npong\n");
    assert.equal(await next, "B");
    const third = client.query("c");
    await server.until(() => server.written.endsWith("c\nping\n"));
    server.send("C\npong\n");
    assert.deepEqual(await third, ["C"]);
    client.close();
  });

  test("SRS-076 SRS-077 an aborted query leaves its answer to be dropped; the next call's answer is read after it", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const cancel = new AbortController();
    const aborted = client.query("a", { signal: cancel.signal });
    await server.until(() => server.written.endsWith("a\nping\n"));
    const reason = new Error("the user cancelled");
    cancel.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    const next = client.query("b");
    await server.until(() => server.written.endsWith("b\nping\n"));
    server.send("A\npong\nB\npong\n");
    assert.deepEqual(await next, ["B"]);
    client.close();
  });

  test("SRS-076 SRS-152 a pong cut short by maxLineBytes is no fence: the answer is an error that holds its bytes", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.answerPing = false;
    const answer = client.query("q");
    await server.until(() => server.written.endsWith("q\nping\n"));
    server.send("pongpong\npong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof InvalidResponseError);
      assert.equal(error.reason, "too_long");
      assert.equal(decoder.decode(error.raw), "pong");
      return true;
    });
    await assert.rejects(client.query("r", { timeout: 20 }), TimeoutError);
    const next = client.request("s");
    server.send("pongpong\npong\n");
    await server.until(() => server.written.endsWith("s\nping\n"));
    server.send("S\npong\n");
    assert.equal(await next, "S");
    client.close();
  });

  test("SRS-076 after a resynchronisation the next queries go out without another ping", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("three", { lines: 3, timeout: 20 }), TimeoutError);
    const mark = server.written.length;
    const first = client.query("one", { lines: 1 });
    await server.until(() => server.written.length > mark);
    server.send("1\n2\npong\n");
    await server.until(() => server.written.endsWith("one\n"));
    server.send("ONE\n");
    assert.deepEqual(await first, ["ONE"]);
    const second = client.query("two", { lines: 2 });
    server.send("T\nW\n");
    assert.deepEqual(await second, ["T", "W"]);
    assert.equal(server.written.slice(mark), "ping\none\ntwo\n");
    client.close();
  });

  test("SRS-076 only the line pong is a fence: not its start, nor an empty line", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.query("q");
    await server.until(() => server.written.endsWith("q\nping\n"));
    server.send("pon\n\npongs\np\npong\n");
    assert.deepEqual(await answer, ["pon", "", "pongs", "p"]);
    client.close();
  });

  test("SRS-076 a counted query reads exactly its lines; the next line is the next receive's", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const two = client.query("x", { lines: 2, timeout: 500 });
    server.send("1\n2\n3\n");
    assert.deepEqual(await two, ["1", "2"]);
    assert.equal(await client.recv(), "3");
    client.close();
  });

  test("SRS-076 clear() with nothing owed still sends its ping and waits for the pong", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const clearing = client.clear();
    await server.until(() => server.written === "ping\nping\n");
    assert.equal(
      await Promise.race([clearing.then(() => "cleared"), settle().then(() => "waiting")]),
      "waiting",
    );
    server.send("pong\n");
    await clearing;
    assert.deepEqual(server.writes, ["ping\n", "ping\n"], "its ping alone, and nothing after it");
    await assert.rejects(client.clear({ timeout: 20 }), TimeoutError);
    client.close();
  });

  test("SRS-076 a failed call does not stop the calls after it", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const first = client.request("a");
    const second = client.request("b");
    await server.until(() => server.written.endsWith("a\nping\n"));
    server.send("A1\nA2\npong\n");
    await assert.rejects(first, ProtocolError);
    await server.until(() => server.written.endsWith("b\nping\n"));
    server.send("B\npong\n");
    assert.equal(await second, "B");
    client.close();
  });

  test("SRS-011 SRS-077 ping() takes the options of a receive: its signal and its timeout", async () => {
    const { client, server } = await connected({ timeout: 500 });
    server.answerPing = false;
    const reason = new Error("stop");
    await assert.rejects(client.ping({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(client.ping({ timeout: 20 }), {
      name: "TimeoutError",
      message: /^no response within \d/,
    });
    client.close();
  });

  // A ping() (or a counted query whose answer is "pong") that gives up leaves its pong behind,
  // which the next call's catch-up must not take for its own fence.
  test("SRS-076 a ping that timed out does not put the answers after it out of step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.ping({ timeout: 20 }), TimeoutError);
    server.send("pong\n"); // its late answer
    server.answerPing = true;
    server.replies.set("a", "A\n");
    server.replies.set("b", "B\n");
    assert.equal(await client.request("a", { timeout: 500 }), "A");
    assert.equal(await client.request("b", { timeout: 500 }), "B");
    client.close();
  });
  // A late pong is owed to the ping that gave up: the next catch-up reads through it and its own.
  test("SRS-076 after a clear() that timed out the answers stay paired", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.clear({ timeout: 20 }), TimeoutError);
    server.send("pong\n"); // its late answer
    server.answerPing = true;
    server.replies.set("x", "X\n");
    server.replies.set("y", "Y\n");
    assert.deepEqual(await client.query("x", { timeout: 500 }), ["X"]);
    assert.deepEqual(await client.query("y", { timeout: 500 }), ["Y"]);
    assert.equal(server.written, "ping\nping\nping\nx\nping\ny\nping\n");
    client.close();
  });

  test("SRS-076 after a fenced query that timed out while out of step the answers stay paired", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    await assert.rejects(client.query("counted", { lines: 1, timeout: 20 }), TimeoutError);
    const fenced = client.query("a", { timeout: 50 });
    await server.until(() => server.written.endsWith("counted\nping\n"));
    server.send("C\npong\n"); // the counted answer, then the catch-up's pong
    await server.until(() => server.written.endsWith("a\nping\n"));
    await assert.rejects(fenced, TimeoutError);
    server.send("A\npong\n"); // its late answer
    server.answerPing = true;
    server.replies.set("b", "B\n");
    assert.deepEqual(await client.query("b", { timeout: 500 }), ["B"]);
    assert.equal(await client.request("b", { timeout: 500 }), "B");
    client.close();
  });
});

describe("client over a fake transport: answers never altered", () => {
  test("SRS-024 SRS-076 a request whose write fails reads no answer: the next calls get theirs", async () => {
    const { client, server } = await connected();
    server.failWrites = true;
    await assert.rejects(client.request("a"), {
      name: "ConnectionClosedError",
      message: "send failed: the connection is gone",
    });
    server.failWrites = false;
    server.replies.set("b", "B\n");
    assert.equal(await client.request("b", { timeout: 500 }), "B");
    await client.clear({ timeout: 500 });
    assert.equal(await client.request("b", { timeout: 500 }), "B");
    client.close();
  });

  test("SRS-152 an answer that is not UTF-8 is an InvalidResponseError with its bytes; the next call is in step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.request("latin1");
    await server.until(() => server.written.endsWith("latin1\nping\n"));
    server.send(new Uint8Array([0x32, 0x35, 0xb0, 0x43, 0x0a]));
    server.send("pong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof InvalidResponseError);
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.reason, "decode");
      assert.deepEqual([...error.raw], [0x32, 0x35, 0xb0, 0x43]);
      assert.match(error.message, /requestBytes\(\)/);
      return true;
    });
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    server.send(new Uint8Array([0xff, 0x0a]));
    await assert.rejects(client.recv(), InvalidResponseError);
    client.close();
  });

  test("SRS-152 recvLine hands out such lines flagged, with their bytes", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.send(new Uint8Array([0xff, 0x0a, 0x61, 0x62, 0x63, 0x64, 0x65, 0x0a]));
    const bad = await client.recvLine();
    assert.deepEqual([bad.invalid, bad.reason, [...bad.raw]], [true, "decode", [0xff]]);
    const long = await client.recvLine();
    assert.deepEqual([long.invalid, long.reason, long.text], [true, "too_long", "abcd"]);
    client.close();
  });

  test("SRS-152 the default maxLineBytes keeps a 100,000-byte answer whole", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const long = "x".repeat(100_000);
    const answer = client.request("dump");
    server.send(long.slice(0, 65_536));
    server.send(long.slice(65_536) + "\npong\n");
    assert.equal((await answer).length, 100_000);
    client.close();
  });

  test("SRS-161 requestBytes gives the answer line's bytes as they came", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.requestBytes("raw");
    await server.until(() => server.written.endsWith("raw\nping\n"));
    server.send(new Uint8Array([0xb0, 0x00, 0x41, 0x0a]));
    server.send("pong\n");
    assert.deepEqual([...await answer], [0xb0, 0x00, 0x41]);
    client.close();
  });
  test("SRS-014 requestBytes and queryBlock refuse a command with CR or LF, naming it", async () => {
    const { client, server } = await connected();
    for (const call of [client.requestBytes("a\nb"), client.queryBlock("a\rb")]) {
      await assert.rejects(call, {
        name: "TypeError",
        message: /^command must not contain CR or LF/,
      });
    }
    assert.equal(server.written, "ping\n");
    client.close();
  });

  test("SRS-161 requestBytes wants exactly one line, within maxLineBytes", async () => {
    const { client, server } = await connected({ maxLineBytes: 4 });
    server.answerPing = false;
    const cases: [string, object][] = [
      ["1\n2\npong\n", {
        name: "ProtocolError",
        message: '"raw" was answered with 2 lines, not one',
      }],
      ["pong\n", { name: "ProtocolError", message: '"raw" was answered with 0 lines, not one' }],
      ["abcdef\npong\n", { name: "InvalidResponseError", reason: "too_long" }],
    ];
    for (const [answer, error] of cases) {
      const call = client.requestBytes("raw");
      await server.until(() => server.written.endsWith("raw\nping\n"));
      server.writes.length = 0;
      server.send(answer);
      await assert.rejects(call, error);
    }
    server.send("abcd\npong\n");
    assert.deepEqual([...await client.requestBytes("raw")], [0x61, 0x62, 0x63, 0x64]);
    client.close();
  });
});

describe("client over a fake transport: failures leave the client in step", () => {
  test("SRS-153 a ping answered after a banner is a ProtocolError, and every answer after it is in step", async () => {
    const { client, server } = await connected();
    server.send("hello, I am a banner\n");
    await assert.rejects(client.ping(), {
      name: "ProtocolError",
      message: 'expected "pong" to "ping", got ["hello, I am a banner","pong"]',
    });
    server.replies.set("a", "A\n");
    server.replies.set("b", "B\n");
    assert.equal(await client.request("a"), "A");
    assert.equal(await client.request("b"), "B");
    client.close();
  });

  test("SRS-156 a counted query has the connection to itself: the call after it is written once it is answered", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const counted = client.query("two", { lines: 2 });
    const fenced = client.request("next");
    await server.until(() => server.written.endsWith("two\n"));
    await settle();
    assert.ok(!server.written.includes("next"));
    server.send("1\n2\n");
    await server.until(() => server.written.endsWith("next\nping\n"));
    server.send("N\npong\n");
    assert.deepEqual([await counted, await fenced], [["1", "2"], "N"]);
    client.close();
  });
});

describe("client over a fake transport: blocks", () => {
  const block = (data: number[], after = "\n") =>
    new Uint8Array([
      ...encoder.encode(`#${String(data.length).length}${data.length}`),
      ...data,
      ...encoder.encode(after),
    ]);

  test("SRS-159 queryBlock in device mode reads a block whose data holds LF and CR, across reads", async () => {
    const { client, server } = await connected({ handshake: false, readTerminator: "\r\n" });
    const data = [0x0a, 0x0d, 0x0a, 0x00, 0xff, 0x0d];
    const answer = client.queryBlock("CURV?");
    await server.until(() => server.written === "CURV?\n");
    const bytes = block(data, "\r\n");
    for (const byte of bytes) server.send(new Uint8Array([byte]));
    assert.deepEqual([...await answer], data);
    server.replies.set("*IDN?", "ACME\r\n");
    assert.equal(await client.request("*IDN?"), "ACME");
    client.close();
  });

  test("SRS-159 queryBlock with a oneline server fences the block; readBlock reads one after send", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.queryBlock("data");
    await server.until(() => server.written.endsWith("data\nping\n"));
    server.send(block([0x70, 0x6f, 0x6e, 0x67, 0x0a]));
    server.send("pong\n");
    assert.deepEqual([...await answer], [0x70, 0x6f, 0x6e, 0x67, 0x0a]);
    await client.send("raw");
    server.send(block([1, 2, 3]));
    assert.deepEqual([...await client.readBlock()], [1, 2, 3]);
    client.close();
  });

  test("SRS-160 an answer that is not a block is a BlockFormatError holding its line; the next call is in step", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.queryBlock("data");
    await server.until(() => server.written.endsWith("data\nping\n"));
    server.send("ERR -113, undefined header\npong\n");
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof BlockFormatError);
      assert.equal(decoder.decode(error.raw), "ERR -113, undefined header");
      return true;
    });
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    client.close();
  });

  test("SRS-160 SRS-024 a block cut short by the server's close is a ConnectionClosedError, whatever its bytes", async () => {
    const { client, server } = await connected();
    server.answerPing = false;
    const answer = client.queryBlock("data");
    await server.until(() => server.written.endsWith("data\nping\n"));
    server.send("#19\npong\n");
    server.end();
    await assert.rejects(answer, {
      name: "ConnectionClosedError",
      message: "the server closed the connection",
    });
  });

  test("SRS-160 an indefinite #0 block, a block over maxBlockBytes and lines after a block are errors", async () => {
    const { client, server } = await connected({ maxBlockBytes: 4 });
    server.answerPing = false;
    const cases: [string | Uint8Array, RegExp][] = [
      ["#0abc\n", /indefinite-length block \(#0\)/],
      [block([1, 2, 3, 4, 5]), /a block of 5 bytes is over maxBlockBytes \(4\)/],
      [
        new Uint8Array([...block([1]), ...encoder.encode("extra\n")]),
        /followed by more lines: \["extra"\]/,
      ],
      [block([1], "X\n"), /not followed by the terminator/],
    ];
    for (const [answer, message] of cases) {
      const call = client.queryBlock("data");
      await server.until(() => server.written.endsWith("data\nping\n"));
      server.writes.length = 0;
      server.send(answer);
      server.send("pong\n");
      await assert.rejects(call, message);
    }
    server.answerPing = true;
    server.replies.set("next", "N\n");
    assert.equal(await client.request("next"), "N");
    client.close();
  });
});

describe("client: answers paired with their commands", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-076 a late answer to a request that timed out is never taken for the next one's", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      await assert.rejects(client.request("slow", { timeout: 100 }), TimeoutError);
      assert.equal(await client.request("fast"), "re:fast");
      assert.equal(await client.request("after"), "re:after");
    });
  });

  test("SRS-076 a command that answers two lines: request refuses, query returns both, and nothing is left over", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      await assert.rejects(client.request("two"), (error: unknown) => {
        assert.ok(error instanceof ProtocolError);
        assert.match(error.message, /"two" was answered with 2 lines, not one: \["a","b"\]/);
        return true;
      });
      assert.deepEqual(await client.query("two"), ["a", "b"]);
      assert.deepEqual(await client.query("none"), []);
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 a query that gave up leaves its answer to be dropped, also when it was aborted", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      const abort = new AbortController();
      const asked = client.query("slow", { signal: abort.signal });
      abort.abort(new Error("user gave up"));
      await assert.rejects(asked, /user gave up/);
      assert.deepEqual(await client.query("two"), ["a", "b"]);
    });
  });

  test("SRS-076 a command whose own answer is pong: lines reads it without a fence; ping needs none", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      assert.deepEqual(await client.query("pong?", { lines: 1 }), ["pong"]);
      assert.deepEqual(await client.query("ping"), ["pong"]);
      assert.equal(await client.request("ping"), "pong");
      // A lines-query that gave up is followed by a resynchronisation, so the next is exact.
      await assert.rejects(client.query("slow", { lines: 1, timeout: 50 }), TimeoutError);
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 clear() resynchronises after raw sends whose answers were not read", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      await client.send("two");
      await client.send("x");
      await client.clear();
      assert.equal(await client.request("fast"), "re:fast");
    });
  });

  test("SRS-076 concurrent requests each get their own answer", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      const answers = await Promise.all(
        ["slow", "a", "two", "b"].map((command) => client.query(command)),
      );
      assert.deepEqual(answers, [["re:slow"], ["re:a"], ["a", "b"], ["re:b"]]);
    });
  });

  test("SRS-077 recv takes an AbortSignal, and the client's timeout can be changed", async () => {
    await withServer({ handler: variedHandler }, async (server) => {
      await using client = await connect({ port: server.port });
      const abort = new AbortController();
      const waiting = client.recv({ signal: abort.signal, timeout: Infinity });
      abort.abort(new Error("stop"));
      await assert.rejects(waiting, /stop/);
      client.timeout = 50;
      assert.equal(client.timeout, 50);
      await assert.rejects(client.recv(), TimeoutError);
      assert.throws(() => client.timeout = 0, RangeError);
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
