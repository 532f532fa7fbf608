// The session driven through an in-memory connection: what goes on the wire, in
// which writes and in what order, what is logged, and how the session ends.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "./session.ts";
import type { SessionObserver } from "./session.ts";
import type { SessionSettings } from "./server_settings.ts";
import { BUILTINS } from "./builtins.ts";
import { TimeoutError, UnsolicitedResponseError } from "../errors.ts";
import type { BytesHandler, Handler, HandlerContext } from "../handler.ts";
import { deferred, FakeClock, hasSettled, MemoryConnection } from "../test_util.ts";
import { systemClock } from "../_util/clock.ts";

const PEER = "192.0.2.1:4000";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connection that offers transient reads, as the Deno transport does. */
class TransientConnection extends MemoryConnection {
  transientReads = 0;
  readTransient(): Promise<Uint8Array | null> {
    this.transientReads++;
    return super.read();
  }
}

/** A connection whose writes fail while its reading side has not noticed yet (a broken pipe). */
function brokenPipe(): MemoryConnection {
  const connection = new MemoryConnection();
  connection.failWrites = true;
  return connection;
}

interface Started {
  connection: MemoryConnection;
  session: Session;
  run: Promise<string>;
  logs: string[];
  errors: { message: string; error: unknown }[];
  /** What the observer was told of failures. */
  failures: unknown[];
}

// A session's settings, with a text or bytes handler as serve() takes them.
type TestSettings = Partial<Omit<SessionSettings, "handler">> & {
  handler?: Handler;
  bytesHandler?: BytesHandler;
};

function start(
  { handler = (command) => `echo:${command}`, bytesHandler, ...options }: TestSettings = {},
  connection: MemoryConnection = new MemoryConnection(),
  observer: Partial<SessionObserver> = {},
  beforeRun?: (session: Session) => void,
): Started {
  const logs: string[] = [];
  const errors: { message: string; error: unknown }[] = [];
  const failures: unknown[] = [];
  const session = new Session(connection, {
    handler: bytesHandler === undefined
      ? { decodes: true, handle: handler }
      : { decodes: false, handle: bytesHandler },
    log: (message) => logs.push(message),
    logError: (message, error) => errors.push({ message, error }),
    verbose: false,
    maxLineBytes: 64,
    keepCR: false,
    readTerminator: "\n",
    responseTerminator: new Uint8Array([0x0a]),
    builtins: BUILTINS,
    idleTimeout: undefined,
    handlerTimeout: undefined,
    maxPendingBytes: 1024 * 1024,
    lineTooLong: "handler",
    onError: undefined,
    closeTimeout: 1000,
    clock: systemClock,
    ...options,
  }, { failed: (error) => failures.push(error), ...observer });
  beforeRun?.(session);
  return { connection, session, run: session.run(), logs, errors, failures };
}

describe("session: lines and answers", () => {
  test("SRS-004 SRS-010 SRS-018 built-ins and handler answers keep the order of the lines, one write per read", async () => {
    const { connection, session, run } = start();
    assert.equal(session.peer, PEER);
    connection.send("a\nping\nb\n");
    await connection.until(() => connection.writes.length === 1);
    connection.send("ping\nping\nc\n");
    await connection.until(() => connection.writes.length === 2);
    assert.deepEqual(connection.writes, ["echo:a\npong\necho:b\n", "pong\npong\necho:c\n"]);
    connection.end();
    assert.equal(await run, "closed");
    await session.closed;
    assert.deepEqual(connection.events, ["close"], "a client that left gets no end of stream");
  });

  test("SRS-009 SRS-010 long reads, decoded whole, give each line its own text, a carried line too", async () => {
    const { connection, run } = start();
    // Under the helper's 64-byte line cap, two per read make a read of 64 bytes or more.
    const long = "z".repeat(40);
    // A read of 64 bytes or more is decoded whole: each line is its slice of that text.
    connection.send(`a\n${long}\n${long}\nbc`);
    // The carried "bc" is completed by a long read: its text comes from its own bytes.
    connection.send(`d\n${long}\n${long}\ne\n`);
    connection.end();
    assert.equal(await run, "closed");
    const twice = `echo:${long}\necho:${long}\n`;
    assert.equal(connection.written, `echo:a\n${twice}echo:bcd\n${twice}echo:e\n`);
  });

  test("SRS-007 SRS-008 the lines of a long ASCII read are valid; answering nothing is no failure", async () => {
    const invalid: boolean[] = [];
    const { connection, run, errors } = start({
      handler: (command, context) => {
        invalid.push(context.invalid);
        return command === "q" ? undefined : "ok";
      },
    });
    const long = "z".repeat(40);
    connection.send(`q\n${long}\n${long}\n`);
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "ok\nok\n");
    assert.deepEqual(invalid, [false, false, false]);
    assert.deepEqual(errors, []);
  });

  test("SRS-247 SRS-248 a bytes handler gets each line's bytes, flagged only when too long; its failure is told as text", async () => {
    const seen: [string, string | undefined][] = [];
    const told: string[] = [];
    const boom = new Error("boom");
    const { connection, run, errors } = start({
      bytesHandler: (command, context) => {
        assert.equal(command, context.raw);
        seen.push([new TextDecoder().decode(command), context.reason]);
        if (command[0] === 0x66) throw boom; // "f…"
        return command[0] === 0x62 ? [command, "text"] : command; // "b…"
      },
      onError: (_error, command) => (told.push(command), "nak"),
    });
    const bytes = (text: string) => new Uint8Array([...text].map((c) => c.charCodeAt(0)));
    connection.send(bytes("a\xff\nbx\nf\xffail\nping\n"));
    connection.send(`${"y".repeat(70)}\n`);
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, `a\uFFFD\nbx\ntext\nnak\npong\n${"y".repeat(64)}\n`);
    assert.deepEqual(seen, [
      ["a\uFFFD", undefined],
      ["bx", undefined],
      ["f\uFFFDail", undefined],
      ["y".repeat(64), "too_long"],
    ]);
    assert.deepEqual(told, ["fail"]);
    assert.deepEqual(errors, [{ message: 'handler failed on "fail"', error: boom }]);
  });

  test("SRS-247 SRS-045 with verbose logs a bytes handler's lines in and out as text, still unflagged", async () => {
    const reasons: (string | undefined)[] = [];
    const { connection, run, logs } = start({
      verbose: true,
      bytesHandler: (command, context) => (reasons.push(context.reason), command),
    });
    connection.send(new Uint8Array([0x61, 0xff, 0x62, 0x0a]));
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(reasons, [undefined]);
    assert.deepEqual(logs.filter((line) => line.includes(" < ") || line.includes(" > ")), [
      `${PEER} < ab`,
      `${PEER} > ab`,
    ]);
  });

  test("SRS-009 SRS-016 a line over two reads is one line; a CR before the LF is dropped", async () => {
    const seen: string[] = [];
    const { connection, run } = start({
      handler: (command, context) => {
        seen.push(`${command}:${context.reason}`);
        return "ok";
      },
    });
    connection.send("pi");
    connection.send("ng\r\nx");
    connection.send("y\r\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "pong\nok\n");
    assert.deepEqual(seen, ["xy:undefined"]);
  });

  test("SRS-004 SRS-017 a ping cut by the line cap is no ping: the handler gets it, flagged", async () => {
    const seen: unknown[] = [];
    const { connection, run } = start({
      maxLineBytes: 4,
      handler: (command, context) => {
        seen.push([command, context.invalid, context.reason, decoder.decode(context.raw)]);
        return "h";
      },
    });
    connection.send("pingpong\nping\n");
    connection.send("pingx");
    connection.send("\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "h\npong\nh\n");
    assert.deepEqual(seen, [["ping", true, "too_long", "ping"], [
      "ping",
      true,
      "too_long",
      "ping",
    ]]);
  });

  test("SRS-007 a line that is not UTF-8 reaches the handler flagged, its bad bytes dropped", async () => {
    const seen: unknown[] = [];
    const { connection, run } = start({
      handler: (command, context) => {
        seen.push([command, context.reason, [...context.raw]]);
        return undefined;
      },
    });
    connection.send(new Uint8Array([0x61, 0xff, 0x0a, 0xc3, 0xa9, 0x0a]));
    connection.send(new Uint8Array([0x62, 0xc3]));
    connection.send(new Uint8Array([0x0a]));
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(seen, [
      ["a", "decode", [0x61, 0xff]],
      ["é", undefined, [0xc3, 0xa9]],
      ["b", "decode", [0x62, 0xc3]],
    ]);
    assert.equal(connection.written, "");
  });

  test("SRS-007 SRS-017 a line over the cap whose cut is not UTF-8 is flagged too_long", async () => {
    const seen: unknown[] = [];
    const { connection, run } = start({
      maxLineBytes: 4,
      handler: (command, context) => {
        seen.push([command, context.reason, [...context.raw]]);
        return "h";
      },
    });
    connection.send(new Uint8Array([0x61, 0xff, 0x62, 0x63, 0x64, 0x65, 0x0a]));
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(seen, [["abc", "too_long", [0x61, 0xff, 0x62, 0x63]]]);
    assert.equal(connection.written, "h\n");
  });

  test("SRS-008 SRS-021 a handler answers nothing, one line or several; its sends come first", async () => {
    const { connection, run } = start({
      handler: (command, context) => {
        if (command === "none") return null;
        if (command === "many") return ["1", "2"];
        context.send("sent");
        return "returned";
      },
    });
    connection.send("none\nmany\none\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.writes, ["1\n2\nsent\nreturned\n"]);
  });

  test("SRS-010 answers of nothing or of several lines join the others of the read in one write", async () => {
    const { connection, run } = start({
      handler: (command) =>
        command === "none" ? undefined : command === "many" ? ["1", "2"] : command,
    });
    connection.send("x\nnone\ny\nmany\nz\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.writes, ["x\ny\n1\n2\nz\n"]);
  });

  test("SRS-017 a line that outgrows the cap over several reads still reaches the handler, cut", async () => {
    const seen: unknown[] = [];
    const { connection, run } = start({
      maxLineBytes: 4,
      handler: (command, context) => (seen.push([command, context.reason]), "h"),
    });
    connection.send("pingpong");
    connection.send("pong");
    connection.send("\nping\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(seen, [["ping", "too_long"]]);
    assert.equal(connection.written, "h\npong\n");
  });

  test("SRS-008 the handler gets the peer, and a signal aborted when the session ends", async () => {
    let context: HandlerContext | undefined;
    const { connection, run } = start({
      handler: (_command, ctx) => {
        context = ctx;
        return "ok";
      },
    });
    connection.send("x\ndisconnect\n");
    assert.equal(await run, "disconnect");
    assert.deepEqual(context!.remoteAddr, connection.remoteAddr);
    assert.equal(context!.signal.aborted, true);
    assert.equal(connection.written, "ok\n");
  });

  test("SRS-046 a built-in turned off goes to the handler", async () => {
    const { connection, run } = start({ builtins: BUILTINS.slice(0, 1) });
    connection.send("disconnect\nshutdown\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "echo:disconnect\necho:shutdown\n");
  });

  test("SRS-010 transient reads are used where the transport has them", async () => {
    const { connection, run } = start({}, new TransientConnection());
    connection.send("ping\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "pong\n");
    assert.equal((connection as TransientConnection).transientReads, 2);
    assert.equal(connection.reads, 2);
  });
});

describe("session: how it ends", () => {
  test("SRS-005 disconnect writes the answers before it, ends the stream, and drops what follows", async () => {
    const seen: string[] = [];
    const { connection, session, run } = start({
      handler: (command) => (seen.push(command), `echo:${command}`),
    });
    connection.send("a\nping\ndisconnect\nb\n");
    assert.equal(await run, "disconnect");
    assert.equal(connection.written, "echo:a\npong\n");
    await connection.until(() => connection.events.length > 0);
    assert.deepEqual(connection.events, ["closeWrite"]);
    connection.send("c\n");
    connection.end();
    await session.closed;
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
    assert.deepEqual(seen, ["a"]);
    assert.equal(connection.written, "echo:a\npong\n");
  });

  test("SRS-006 shutdown ends the session the same way", async () => {
    const { connection, session, run } = start();
    connection.send("a\nshutdown\n");
    assert.equal(await run, "shutdown");
    connection.end();
    await session.closed;
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
    assert.equal(connection.written, "echo:a\n");
  });

  test("SRS-019 SRS-221 a client that never closes after disconnect is closed after closeTimeout", async () => {
    const clock = new FakeClock();
    const { connection, session, run } = start({ closeTimeout: 30, clock });
    connection.send("disconnect\n");
    assert.equal(await run, "disconnect");
    await clock.tick(29);
    assert.equal(await hasSettled(session.closed), false);
    assert.deepEqual(connection.events, ["closeWrite"]);
    await clock.tick(1);
    assert.equal(await hasSettled(session.closed), true);
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
  });

  test("SRS-019 SRS-041 SRS-221 after disconnect the idle timeout no longer applies: the client has closeTimeout to leave", async () => {
    const clock = new FakeClock();
    const { connection, session, run } = start({ idleTimeout: 20, closeTimeout: 200, clock });
    connection.send("disconnect\n");
    assert.equal(await run, "disconnect");
    assert.deepEqual(clock.pending, [200]);
    await clock.tick(199);
    assert.deepEqual(connection.events, ["closeWrite"]);
    await clock.tick(1);
    assert.equal(await hasSettled(session.closed), true);
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
  });

  test("SRS-027 stop() ends the session at once; the first reason is the one reported", async () => {
    const { connection, session, run } = start();
    connection.send("a\n");
    await connection.until(() => connection.writes.length === 1);
    session.stop("stopped");
    session.stop("idle");
    assert.equal(await run, "stopped");
    await session.closed;
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-027 SRS-100 finish() right after stop() sends no end of stream", async () => {
    const { connection, session, run } = start();
    connection.send("ping\n");
    // Answered, and waiting for the client again.
    await connection.until(() => connection.reads === 2);
    session.stop("stopped");
    session.finish();
    assert.equal(await run, "stopped");
    await session.closed;
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-027 SRS-098 a handler that starts after the session was stopped gets an aborted signal and is not answered", async () => {
    const aborted: boolean[] = [];
    let started: Started | undefined = undefined;
    started = start(
      {
        verbose: true,
        handler: (command, ctx) => {
          aborted.push(ctx.signal.aborted);
          return command === "sync" ? "not sent" : Promise.resolve("not sent either");
        },
      },
      undefined,
      { command: () => started!.session.stop("stopped") },
    );
    const { connection, run, logs } = started;
    connection.send("async\n");
    assert.equal(await run, "stopped");
    assert.deepEqual(aborted, [true]);
    assert.deepEqual(logs, [`${PEER} < async`]);
    assert.equal(connection.written, "");

    const aborted2: boolean[] = [];
    let second: Started | undefined = undefined;
    second = start(
      {
        handler: (_command, ctx) => {
          aborted2.push(ctx.signal.aborted);
          return "ok";
        },
      },
      undefined,
      { command: () => second!.session.stop("stopped") },
    );
    second.connection.send("sync\n");
    assert.equal(await second.run, "stopped");
    assert.deepEqual(aborted2, [true]);
  });

  test("SRS-019 a write to a client that reset ends the session as closed, logged when verbose", async () => {
    const { connection, run, logs } = start({ verbose: true });
    connection.send("a\n");
    // The reset comes before the answer is written: the write fails.
    connection.reset();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.events, ["close"]);
    assert.equal(logs.at(-1), `${PEER} failed: ConnectionClosedError: broken pipe`);
  });

  test("SRS-019 a write to a client that reset is not logged without verbose", async () => {
    const { connection, run, logs, errors } = start({}, brokenPipe());
    connection.send("a\n");
    assert.equal(await run, "closed");
    assert.deepEqual(logs, []);
    assert.deepEqual(errors, []);
  });

  test("SRS-043 lineTooLong close: a whole line over the cap is answered with an error, then the end", async () => {
    const { connection, run } = start({ lineTooLong: "close", maxLineBytes: 8 });
    connection.send(`a\n${"x".repeat(9)}\nb\n`);
    assert.equal(await run, "line too long");
    assert.equal(connection.written, "echo:a\nerror - line too long (over 8 bytes)\n");
    await connection.until(() => connection.events.length > 0);
    assert.deepEqual(connection.events, ["closeWrite"]);
  });

  test("SRS-043 lineTooLong close: a line that outgrows the cap in the middle of a read is refused then", async () => {
    const { connection, run } = start({ lineTooLong: "close", maxLineBytes: 8 });
    connection.send(`a\n${"x".repeat(12)}`);
    assert.equal(await run, "line too long");
    assert.deepEqual(connection.writes, ["echo:a\nerror - line too long (over 8 bytes)\n"]);
  });

  test("SRS-043 lineTooLong close is not triggered by a line that fits the cap exactly", async () => {
    const { connection, run } = start({ lineTooLong: "close", maxLineBytes: 8 });
    connection.send("x".repeat(8));
    connection.send("\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, `echo:${"x".repeat(8)}\n`);
  });
});

/** A connection whose read fails in a way no client causes: a bug of the server's. */
class FaultyConnection extends MemoryConnection {
  override read(): Promise<Uint8Array | null> {
    return Promise.reject(new TypeError("a bug"));
  }
}

describe("session: logs", () => {
  test("SRS-045 verbose logs every line in and every line out, built-ins included", async () => {
    const { connection, run, logs } = start({
      verbose: true,
      handler: (command, context) => {
        context.send("s");
        return command === "two" ? ["1", "2"] : "r";
      },
    });
    connection.send("ping\ncmd\ntwo\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "pong\ns\nr\ns\n1\n2\n");
    assert.deepEqual(logs, [
      `${PEER} < ping`,
      `${PEER} > pong`,
      `${PEER} < cmd`,
      `${PEER} > s`,
      `${PEER} > r`,
      `${PEER} < two`,
      `${PEER} > s`,
      `${PEER} > 1`,
      `${PEER} > 2`,
    ]);
  });

  test("SRS-220 a failure that is not the client leaving is a bug: logged and reported, and the session ends as closed", async () => {
    const { connection, run, logs, errors, failures } = start({}, new FaultyConnection());
    assert.equal(await run, "closed");
    assert.equal(errors.length, 1);
    assert.equal(errors[0].message, `${PEER}: the session failed`);
    assert.ok(errors[0].error instanceof TypeError);
    assert.deepEqual(failures, [errors[0].error]);
    assert.deepEqual(logs, []);
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-045 without verbose nothing is logged", async () => {
    const { connection, run, logs } = start();
    // The second ping waits behind a command: it is answered in turn, not on the fast path.
    connection.send("ping\ncmd\nping\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "pong\necho:cmd\npong\n");
    assert.deepEqual(logs, []);
  });
});

describe("session: failures and onError", () => {
  test("SRS-020 a handler that throws is logged and the next line is served", async () => {
    const boom = new Error("boom");
    const { connection, run, errors } = start({
      handler: (command) => {
        if (command === "bad") throw boom;
        return command;
      },
    });
    connection.send("bad\ngood\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "good\n");
    assert.deepEqual(errors, [{ message: 'handler failed on "bad"', error: boom }]);
  });

  test("SRS-072 onError answers for a handler that throws, rejects or answers wrongly", async () => {
    const told: unknown[] = [];
    const { connection, run, errors } = start({
      handler: (command) => {
        if (command === "throw") throw new Error("thrown");
        if (command === "reject") return Promise.reject(new Error("rejected"));
        if (command === "lf") return "a\nb";
        return 42 as unknown as string[];
      },
      onError: (error, command) => {
        told.push([command, (error as Error).message]);
        return command === "lf" ? ["e1", "e2"] : `error:${command}`;
      },
    });
    connection.send("throw\nreject\nlf\nnumber\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "error:throw\nerror:reject\ne1\ne2\nerror:number\n");
    assert.deepEqual(told, [
      ["throw", "thrown"],
      ["reject", "rejected"],
      ["lf", 'response must not contain CR or LF: "a\\nb"'],
      [
        "number",
        "a handler must return a string, a Uint8Array, an array of them or nothing, got 42",
      ],
    ]);
    assert.deepEqual(errors.map((e) => e.message), [
      'handler failed on "throw"',
      'handler failed on "reject"',
      'handler answered "lf" wrongly; nothing sent',
      'handler answered "number" wrongly; nothing sent',
    ]);
  });

  test("SRS-072 an onError that throws or answers wrongly sends nothing and is logged", async () => {
    const failure = new Error("onError broke");
    const { connection, run, errors } = start({
      handler: (command) => {
        throw new Error(command);
      },
      onError: (_error, command) => {
        if (command === "a") throw failure;
        if (command === "b") return ["ok", "x\ry"];
        return "c\n";
      },
    });
    connection.send("a\nb\nc\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "");
    assert.deepEqual(errors.map((e) => e.message), [
      'handler failed on "a"',
      'onError failed on "a"',
      'handler failed on "b"',
      'onError answered "b" wrongly; nothing sent',
      'handler failed on "c"',
      'onError answered "c" wrongly; nothing sent',
    ]);
    assert.equal(errors[1].error, failure);
    assert.ok(errors[3].error instanceof TypeError);
  });

  test("SRS-021 a send after the handler threw throws UnsolicitedResponseError", async () => {
    let context: HandlerContext | undefined;
    const { connection, run, errors } = start({
      handler: (command, ctx) => {
        if (command !== "bad") return command;
        context = ctx;
        throw new Error("bad");
      },
    });
    connection.send("bad\n");
    await connection.until(() => errors.length === 1);
    assert.throws(() => context!.send("late"), UnsolicitedResponseError);
    connection.send("next\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "next\n");
  });

  test("SRS-021 a send after the handler returned throws UnsolicitedResponseError", async () => {
    let context: HandlerContext | undefined;
    const { connection, run } = start({
      handler: (_command, ctx) => {
        context = ctx;
        return "ok";
      },
    });
    connection.send("x\n");
    await connection.until(() => connection.writes.length === 1);
    assert.throws(() => context!.send("late"), UnsolicitedResponseError);
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "ok\n");
  });
});

describe("session: async handlers", () => {
  test("SRS-029 earlier answers go out while an async handler runs; later lines wait for it", async () => {
    const slow = deferred<string>();
    const { connection, run } = start({
      handler: (command) => command === "slow" ? slow.promise : `echo:${command}`,
    });
    connection.send("a\nslow\nping\nb\n");
    await connection.until(() => connection.writes.length === 1);
    assert.deepEqual(connection.writes, ["echo:a\n"]);
    slow.resolve("done");
    await connection.until(() => connection.written === "echo:a\ndone\npong\necho:b\n");
    assert.equal(connection.writes[0], "echo:a\n");
    connection.end();
    assert.equal(await run, "closed");
  });

  test("SRS-069 lines an async handler sends go out at once, those of one turn in one write", async () => {
    const go = deferred<void>();
    let context: HandlerContext | undefined;
    const { connection, run } = start({
      handler: async (_command, ctx) => {
        context = ctx;
        ctx.send("one");
        ctx.send("two");
        await go.promise;
        ctx.send("three");
        return "end";
      },
    });
    connection.send("x\n");
    await connection.until(() => connection.writes.length === 1);
    assert.deepEqual(connection.writes, ["one\ntwo\n"]);
    go.resolve();
    await connection.until(() => connection.writes.length === 3);
    assert.deepEqual(connection.writes, ["one\ntwo\n", "three\n", "end\n"]);
    assert.throws(() => context!.send("late"), UnsolicitedResponseError);
    connection.end();
    assert.equal(await run, "closed");
  });

  test("SRS-069 a send over maxPendingBytes resolves only once the client took the bytes", async () => {
    const release = deferred<void>();
    const order: string[] = [];
    const { connection, run } = start({
      maxPendingBytes: 8,
      handler: async (_command, ctx) => {
        await ctx.send("1234567").then(() => order.push("under"));
        // The first line is being written, and held: the second waits behind it.
        const over = ctx.send("abcdefgh").then(() => order.push("over"));
        await connection.until(() => connection.writes.length === 1);
        await new Promise((resolve) => setTimeout(resolve, 0));
        order.push("released");
        connection.hold = undefined;
        release.resolve();
        await over;
        return undefined;
      },
    });
    connection.hold = release.promise;
    connection.send("x\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(order, ["under", "released", "over"]);
    assert.deepEqual(connection.writes, ["1234567\n", "abcdefgh\n"]);
  });

  test("SRS-069 a send whose flush finds the client gone ends the session; the handler's signal aborts", async () => {
    let signal: AbortSignal | undefined;
    const { connection, run } = start({
      handler: async (_command, ctx) => {
        signal = ctx.signal;
        await Promise.resolve();
        connection.reset();
        await ctx.send("lost");
        return "never";
      },
    });
    connection.send("x\n");
    assert.equal(await run, "closed");
    assert.equal(signal!.aborted, true);
    assert.equal(connection.written, "");
  });

  test("SRS-069 a send that brings the buffer to exactly maxPendingBytes resolves once the client took it", async () => {
    const release = deferred<void>();
    const order: string[] = [];
    const { connection, run } = start({
      maxPendingBytes: 8,
      handler: async (_command, ctx) => {
        await Promise.resolve();
        await ctx.send("ab");
        order.push("under");
        // The first line is taken out to be written: the buffer holds this one, 8 bytes.
        await ctx.send("1234567");
        order.push("at max");
        return undefined;
      },
    });
    connection.hold = release.promise;
    connection.send("x\n");
    await connection.until(() => connection.writes.length === 1);
    order.push("released");
    connection.hold = undefined;
    release.resolve();
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(order, ["under", "released", "at max"]);
    assert.equal(connection.written, "ab\n1234567\n");
  });

  test("SRS-069 SRS-074 a line sent while an earlier one is still being written waits for it", async () => {
    const release = deferred<void>();
    let whileHeld: string[] = [];
    const { connection, run } = start({
      handler: async (_command, ctx) => {
        await Promise.resolve();
        ctx.send("a");
        await connection.until(() => connection.writes.length === 1);
        ctx.send("b");
        // Every microtask has run: a second writer would have written by now.
        await new Promise((resolve) => setTimeout(resolve, 0));
        whileHeld = [...connection.writes];
        connection.hold = undefined;
        release.resolve();
        return "c";
      },
    });
    connection.hold = release.promise;
    connection.send("x\n");
    await connection.until(() => connection.written === "a\nb\nc\n");
    assert.deepEqual(whileHeld, ["a\n"]);
    connection.end();
    assert.equal(await run, "closed");
  });

  test("SRS-069 a send whose write fails ends the session before the send resolves", async () => {
    let abortedAfterSend: boolean | undefined;
    const { connection, run } = start({
      maxPendingBytes: 1,
      handler: async (_command, ctx) => {
        await Promise.resolve();
        await ctx.send("lost");
        abortedAfterSend = ctx.signal.aborted;
        return "never";
      },
    }, brokenPipe());
    connection.send("x\n");
    assert.equal(await run, "closed");
    await connection.until(() => abortedAfterSend !== undefined);
    assert.equal(abortedAfterSend, true);
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-068 a client that resets while an async handler runs aborts its signal at once", async () => {
    const never = deferred<string>();
    let signal: AbortSignal | undefined;
    const { connection, run } = start({
      handler: (_command, ctx) => (signal = ctx.signal, never.promise),
    });
    connection.send("x\n");
    await connection.until(() => signal !== undefined);
    connection.reset();
    assert.equal(await run, "closed");
    assert.equal(signal!.aborted, true);
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-068 after a first async handler, a reset during the second still ends the session", async () => {
    const second = deferred<string>();
    let calls = 0;
    const { connection, run } = start({
      handler: () => ++calls === 1 ? Promise.resolve("first") : second.promise,
    });
    connection.send("a\n");
    await connection.until(() => connection.writes.length === 1);
    connection.send("b\n");
    await connection.until(() => calls === 2);
    connection.reset();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "first\n");
  });

  test("SRS-027 stop() while an async handler runs aborts it and ends the session as stopped", async () => {
    let signal: AbortSignal | undefined;
    const { connection, session, run } = start({
      handler: (_command, ctx) => (signal = ctx.signal, new Promise<string>(() => {})),
    });
    connection.send("x\n");
    await connection.until(() => signal !== undefined);
    session.stop("stopped");
    assert.equal(await run, "stopped");
    assert.equal(signal!.aborted, true);
  });

  test("SRS-020 an async handler that rejects is logged; a late settle after the end is ignored", async () => {
    const late = deferred<string>();
    let calls = 0;
    const { connection, session, run, errors } = start({
      handler: (command) => {
        calls++;
        return command === "late" ? late.promise : Promise.reject(new Error(command));
      },
    });
    connection.send("bad\n");
    await connection.until(() => errors.length === 1);
    assert.equal(errors[0].message, 'handler failed on "bad"');
    connection.send("late\n");
    await connection.until(() => calls === 2);
    session.stop("stopped");
    assert.equal(await run, "stopped");
    late.resolve("too late");
    await late.promise;
    assert.equal(connection.written, "");
    assert.equal(errors.length, 1);
  });

  test("SRS-020 an answer or a failure that comes after the session ended is neither sent, logged nor reported", async () => {
    for (const settle of ["resolve", "reject"]) {
      const late = deferred<string>();
      const { connection, session, run, logs, errors, failures } = start({
        verbose: true,
        handler: () => late.promise,
      });
      connection.send("x\n");
      await connection.until(() => logs.length === 1);
      session.stop("stopped");
      assert.equal(await run, "stopped");
      if (settle === "resolve") late.resolve("too late");
      else late.reject(new Error("too late"));
      await late.promise.catch(() => {});
      assert.deepEqual(logs, [`${PEER} < x`]);
      assert.deepEqual(errors, []);
      assert.deepEqual(failures, []);
      assert.equal(connection.written, "");
    }
  });
});

describe("session: timeouts", () => {
  test("SRS-042 SRS-221 a handler that never settles: its sends and onError's answer go out, then the end", async () => {
    const clock = new FakeClock();
    const { connection, session, run, errors } = start({
      clock,
      handlerTimeout: 20,
      handler: (_command, ctx) => {
        ctx.send("partial");
        return new Promise<string>(() => {});
      },
      onError: (error) => `onError:${(error as TimeoutError).timeout}`,
    });
    connection.send("stuck\n");
    await clock.tick(19);
    assert.equal(errors.length, 0);
    assert.equal(connection.written, "partial\n");
    await clock.tick(1);
    assert.equal(await run, "handler timeout");
    assert.equal(connection.written, "partial\nonError:20\n");
    assert.equal(errors[0].message, 'handler did not settle within 20 ms on "stuck"');
    assert.ok(errors[0].error instanceof TimeoutError);
    assert.equal((errors[0].error as TimeoutError).message, "handler timed out");
    assert.equal((errors[0].error as TimeoutError).timeout, 20);
    connection.end();
    await session.closed;
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
  });

  test("SRS-042 SRS-069 SRS-221 a handler that settles while its timeout's answers are written is answered; the next one's sends still go out at once", async () => {
    const release = deferred<void>();
    const first = deferred<string>();
    const go = deferred<void>();
    const done = deferred<string>();
    const clock = new FakeClock();
    const { connection, run, errors } = start({
      clock,
      handlerTimeout: 250,
      closeTimeout: 60_000,
      handler: async (command, ctx) => {
        await Promise.resolve();
        if (command === "slow") {
          ctx.send("partial");
          return first.promise;
        }
        ctx.send("n1");
        await go.promise;
        ctx.send("n2");
        return done.promise;
      },
    });
    connection.hold = release.promise;
    connection.send("slow\nnext\n");
    await connection.until(() => connection.writes.length === 1);
    // The timeout runs out while "partial" is still being written: its flush waits.
    await clock.tick(250);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].message, 'handler did not settle within 250 ms on "slow"');
    first.resolve("answer");
    connection.hold = undefined;
    release.resolve();
    await connection.until(() => connection.written === "partial\nanswer\nn1\n");
    // Every pending callback has run, the timeout's end of flush included.
    await new Promise((resolve) => setTimeout(resolve, 0));
    go.resolve();
    await connection.until(() => connection.written === "partial\nanswer\nn1\nn2\n");
    done.resolve("end");
    await connection.until(() => connection.written.endsWith("end\n"));
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(errors.length, 1);
  });

  test("SRS-042 SRS-221 a handler that settles in time is not cut off, nor is the session later", async () => {
    const clock = new FakeClock();
    const { connection, run, errors } = start({
      clock,
      handlerTimeout: 100,
      handler: () => Promise.resolve("quick"),
    });
    connection.send("a\n");
    await connection.until(() => connection.writes.length === 1);
    assert.deepEqual(clock.pending, []);
    await clock.tick(150);
    connection.send("b\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "quick\nquick\n");
    assert.deepEqual(errors, []);
  });

  test("SRS-042 SRS-221 a client that does not take the last answers after a handler timeout is cut off", async () => {
    const clock = new FakeClock();
    const { connection, run } = start({
      clock,
      handlerTimeout: 20,
      closeTimeout: 30,
      handler: () => new Promise<string>(() => {}),
      onError: () => "timed out",
    });
    connection.hold = new Promise(() => {});
    connection.send("stuck\n");
    await clock.tick(20);
    assert.equal(connection.written, "timed out\n");
    // closeTimeout counts from the timeout.
    assert.deepEqual(clock.pending, [50]);
    await clock.tick(29);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "handler timeout");
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-041 SRS-221 a silent client is disconnected after the idle timeout", async () => {
    const clock = new FakeClock();
    const { connection, run } = start({ idleTimeout: 30, clock });
    await clock.tick(29);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
    assert.deepEqual(connection.events, ["close"]);
  });

  test("SRS-041 SRS-221 lines keep the session alive; the idle time counts from the last one", async () => {
    const clock = new FakeClock();
    const { connection, run } = start({ idleTimeout: 150, clock });
    for (let i = 0; i < 4; i++) {
      await clock.tick(50);
      connection.send("ping\n");
    }
    // The last line came at 200: the session ends at 350, not before.
    await clock.tick(149);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
    assert.equal(clock.now(), 350);
    assert.equal(connection.written, "pong\n".repeat(4));
  });

  test("SRS-041 SRS-067 SRS-221 bytes without a whole line are no progress, at first or after a line", async () => {
    for (const first of ["", "ping\n"]) {
      const clock = new FakeClock();
      const { connection, run } = start({ idleTimeout: 100, clock });
      connection.send(first);
      for (let i = 0; i < 2; i++) {
        await clock.tick(40);
        connection.send("x");
      }
      await clock.tick(19);
      assert.equal(await hasSettled(run), false);
      await clock.tick(1);
      assert.equal(await run, "idle");
      assert.equal(connection.written, first === "" ? "" : "pong\n");
    }
  });

  test("SRS-041 SRS-221 the idle timeout ends the session that long after the last line, not later", async () => {
    // A line that is not answered: the line alone is the progress.
    const clock = new FakeClock();
    const { connection, run } = start({ idleTimeout: 300, handler: () => undefined, clock });
    // The line comes a third of the way into the first period: the check then finds the client
    // quiet for less than the timeout, and waits only for the time left.
    await clock.tick(100);
    connection.send("quiet\n");
    await clock.tick(200);
    assert.deepEqual(clock.pending, [400]);
    await clock.tick(99);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
  });

  test("SRS-067 SRS-221 a client that takes a large answer slowly but steadily is not idle", async () => {
    const big = "z".repeat(600 * 1024);
    const clock = new FakeClock();
    const { connection, run } = start({
      clock,
      idleTimeout: 300,
      maxLineBytes: 1024 * 1024,
      handler: () => big,
    });
    let release = deferred<void>();
    connection.hold = release.promise;
    connection.send("x\n");
    for (let slice = 1; slice <= 3; slice++) {
      await connection.until(() => connection.writes.length === slice);
      // The client takes each 256 KiB slice in 150 ms: longer than the idle timeout in all.
      await clock.tick(150);
      const taken = release;
      release = deferred<void>();
      connection.hold = release.promise;
      taken.resolve();
    }
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(clock.now(), 450);
    assert.equal(connection.written.length, big.length + 1);
  });

  test("SRS-067 SRS-221 a first read without a whole line is no progress", async () => {
    const clock = new FakeClock();
    const { connection, run } = start({ idleTimeout: 300, clock });
    await clock.tick(200);
    connection.send("x");
    // Counted from the bytes, the session would last until 500.
    await clock.tick(99);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
  });

  test("SRS-041 SRS-221 the time an async handler takes is not the client's idleness", async () => {
    const answer = deferred<string>();
    const clock = new FakeClock();
    const { connection, run } = start({ idleTimeout: 40, handler: () => answer.promise, clock });
    connection.send("x\n");
    await clock.tick(150);
    answer.resolve("late");
    await connection.until(() => connection.writes.length === 1);
    assert.equal(connection.written, "late\n");
    // Idle time counts from the answer, at 150.
    await clock.tick(39);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
    assert.equal(clock.now(), 190);
  });

  test("SRS-067 SRS-221 a client that does not take a handler's sends is idle, though the handler runs", async () => {
    let signal: AbortSignal | undefined;
    const clock = new FakeClock();
    const { connection, run } = start({
      clock,
      idleTimeout: 40,
      maxPendingBytes: 4,
      handler: async (_command, ctx) => {
        signal = ctx.signal;
        // After the first await: the handler runs while the client does not take its send.
        await Promise.resolve();
        await ctx.send("12345");
        return "never";
      },
    });
    connection.hold = new Promise(() => {});
    connection.send("x\n");
    await clock.tick(39);
    assert.equal(await hasSettled(run), false);
    await clock.tick(1);
    assert.equal(await run, "idle");
    assert.equal(signal!.aborted, true);
    assert.equal(connection.written, "12345\n");
  });

  test("SRS-067 SRS-134 a large answer goes out in 256 KiB slices, with an idle timeout or without", async () => {
    const big = "z".repeat(600 * 1024);
    for (const idleTimeout of [60_000, undefined]) {
      const { connection, session, run } = start({
        idleTimeout,
        maxLineBytes: 1024 * 1024,
        handler: () => big,
      });
      connection.send("x\n");
      await connection.until(() => connection.written.length === big.length + 1);
      session.stop("stopped");
      assert.equal(await run, "stopped");
      assert.deepEqual(
        connection.writes.map((w) => w.length),
        [256 * 1024, 256 * 1024, 88 * 1024 + 1],
      );
    }
  });

  test("SRS-067 an answer of exactly one 256 KiB slice goes out in one write", async () => {
    const line = "z".repeat(256 * 1024 - 1);
    const { connection, session, run } = start({
      idleTimeout: 60_000,
      maxLineBytes: 1024 * 1024,
      handler: () => line,
    });
    connection.send("x\n");
    await connection.until(() => connection.written.length === 256 * 1024);
    connection.end();
    assert.equal(await run, "closed");
    await session.closed;
    assert.deepEqual(connection.writes.map((w) => w.length), [256 * 1024]);
  });
});

describe("session: backpressure", () => {
  test("SRS-040 answers reaching maxPendingBytes are written before the next line is served", async () => {
    const { connection, run } = start({ maxPendingBytes: 10, handler: () => "123456789" });
    connection.send("a\nb\nc\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.writes, ["123456789\n", "123456789\n", "123456789\n"]);
  });

  test("SRS-040 answers under maxPendingBytes wait for the end of the read", async () => {
    const { connection, run } = start({ maxPendingBytes: 20, handler: () => "12345678" });
    connection.send("a\nb\nc\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.writes, ["12345678\n12345678\n12345678\n"]);
  });

  test("SRS-040 pings are answered at once only while under maxPendingBytes", async () => {
    const { connection, run } = start({ maxPendingBytes: 10 });
    connection.send("ping\nping\nping\nping\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(connection.writes, ["pong\npong\npong\n", "pong\n"]);
  });
});

describe("session: what the server learns, and finishing", () => {
  test("SRS-045 an observer of commands is told every line, pings included, in order", async () => {
    const commands: string[] = [];
    const { connection, session, run, logs } = start({}, undefined, {
      command: (text, builtin) => commands.push(builtin ? `${text} (built-in)` : text),
    });
    // The fourth line reads "ping" once its undecodable byte is left out: the handler's.
    connection.send("ping\nx\nping\n");
    connection.send(new Uint8Array([0x70, 0x69, 0x6e, 0x67, 0xff, 0x0a]));
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(commands, ["ping (built-in)", "x", "ping (built-in)", "ping"]);
    assert.deepEqual(logs, [], "an observer of commands does not make the session log");
    assert.equal(connection.written, "pong\necho:x\npong\necho:ping\n");
    assert.equal(session.commands, 4);
  });

  test("SRS-020 the observer is told of each failed command", async () => {
    const boom = new Error("boom");
    const { connection, run, failures } = start({
      handler: () => {
        throw boom;
      },
    });
    connection.send("a\nb\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(failures, [boom, boom]);
  });

  test("SRS-100 finish() while the session waits for the client sends the end of stream at once", async () => {
    const { connection, session, run } = start();
    connection.send("ping\n");
    // The answer is written and the session reads again: no command is under way.
    await connection.until(() => connection.reads === 2);
    session.finish();
    assert.deepEqual(connection.events, ["closeWrite"]);
    session.finish();
    assert.deepEqual(connection.events, ["closeWrite"]);
    connection.send("x\n");
    connection.end();
    assert.equal(await run, "server shutdown");
    await session.closed;
    assert.equal(connection.written, "pong\n", "what the client sent after the end is not served");
    assert.equal(connection.events.at(-1), "close");
  });

  test("SRS-100 finish(): a client that then closes ends the session as server shutdown", async () => {
    const { connection, session, run } = start();
    await connection.until(() => connection.reads === 1);
    session.finish();
    connection.end();
    assert.equal(await run, "server shutdown");
    await session.closed;
    assert.equal(connection.events[0], "closeWrite");
    assert.equal(connection.events.at(-1), "close");
  });

  test("SRS-100 finish() before the session runs: it serves nothing and closes politely", async () => {
    const connection = new MemoryConnection();
    const { session, run } = start({}, connection, {}, (session) => {
      session.finish();
      assert.deepEqual(connection.events, [], "no end of stream before the session runs");
    });
    assert.equal(await run, "server shutdown");
    assert.deepEqual(connection.events, ["closeWrite"]);
    connection.end();
    await session.closed;
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
    assert.equal(connection.reads, 1, "only the polite close reads");
  });

  test("SRS-006 finish() lets the command under way answer, then serves no more", async () => {
    const slow = deferred<string>();
    const { connection, session, run } = start({
      handler: (command) => command === "slow" ? slow.promise : `echo:${command}`,
    });
    connection.send("a\nslow\nb\n");
    await connection.until(() => connection.writes.length === 1);
    session.finish();
    assert.deepEqual(connection.events, []);
    slow.resolve("done");
    assert.equal(await run, "server shutdown");
    assert.equal(connection.written, "echo:a\ndone\n");
    await connection.until(() => connection.events.length > 0);
    assert.deepEqual(connection.events, ["closeWrite"]);
  });

  test("SRS-100 SRS-221 finish(): a client that never closes is closed after closeTimeout", async () => {
    const clock = new FakeClock();
    const { connection, session, run } = start({ closeTimeout: 30, clock });
    connection.send("ping\n");
    await connection.until(() => connection.reads === 2);
    session.finish();
    await clock.tick(29);
    assert.equal(await hasSettled(run), false);
    assert.deepEqual(connection.events, ["closeWrite"]);
    await clock.tick(1);
    assert.equal(await run, "server shutdown");
    await session.closed;
    assert.deepEqual(connection.events, ["closeWrite", "close"]);
  });

  test("SRS-100 SRS-220 handling: while the handler is called, and while an async one runs", async () => {
    const seen: boolean[] = [];
    const answer = deferred<string>();
    let session: Session | undefined;
    const started = start(
      {
        handler: (command) => {
          seen.push(session!.handling);
          return command === "async" ? answer.promise : "sync";
        },
      },
      undefined,
      undefined,
      (s) => session = s,
    );
    const { connection, run } = started;
    assert.equal(session!.handling, false);
    connection.send("a\nasync\n");
    await connection.until(() => connection.writes.length === 1);
    assert.equal(session!.handling, true);
    answer.resolve("done");
    await connection.until(() => connection.written === "sync\ndone\n");
    assert.equal(session!.handling, false);
    assert.deepEqual(seen, [true, true]);
    connection.end();
    assert.equal(await run, "closed");
  });

  test("SRS-100 SRS-221 finish(): once the client has left, or the session is stopped, no timer is left", async () => {
    for (const leave of ["close", "stop"]) {
      const clock = new FakeClock();
      const { connection, session, run } = start({ closeTimeout: 30, clock });
      connection.send("ping\n");
      await connection.until(() => connection.reads === 2);
      session.finish();
      assert.deepEqual(clock.pending, [30]);
      if (leave === "close") connection.end();
      else session.stop("stopped");
      assert.equal(await run, leave === "close" ? "server shutdown" : "stopped");
      await session.closed;
      assert.deepEqual(clock.pending, []);
      // The polite close ends the stream again (a no-op), then closes.
      const closing = leave === "close" ? ["closeWrite", "closeWrite"] : ["closeWrite"];
      assert.deepEqual(connection.events, [...closing, "close"]);
    }
  });

  test("SRS-006 finish() after the session ended changes nothing", async () => {
    const { connection, session, run } = start();
    connection.end();
    assert.equal(await run, "closed");
    session.finish();
    assert.deepEqual(connection.events, ["close"]);
  });
});

/** A connection whose transient reads reuse one array, as the Deno transport's do. */
class ReusingConnection extends MemoryConnection {
  readonly #shared = new Uint8Array(256);
  async readTransient(): Promise<Uint8Array | null> {
    const chunk = await super.read();
    if (chunk === null) return null;
    this.#shared.set(chunk);
    return this.#shared.subarray(0, chunk.length);
  }
}

describe("session: the raw bytes handlers keep", () => {
  test("SRS-133 raw from a reused read survives the next read; the lines of one read share one copy", async () => {
    const kept: Uint8Array[] = [];
    const { connection, run } = start({
      handler: (_command, context) => {
        kept.push(context.raw);
        return context.raw;
      },
    }, new ReusingConnection());
    connection.send("one\ntwo\n");
    await connection.until(() => connection.writes.length === 1);
    connection.send("XYZ\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "one\ntwo\nXYZ\n");
    assert.deepEqual(kept.map((raw) => decoder.decode(raw)), ["one", "two", "XYZ"]);
    assert.equal(kept[0].buffer, kept[1].buffer, "one copy for the read");
    assert.notEqual(kept[1].buffer, kept[2].buffer);
  });

  test("SRS-133 raw of a line carried over from the read before, then of a line of the reused read", async () => {
    const kept: string[] = [];
    const { connection, run, errors } = start({
      handler: (_command, context) => (kept.push(decoder.decode(context.raw)), context.raw),
    }, new ReusingConnection());
    connection.send("ab");
    await connection.until(() => connection.reads >= 2);
    connection.send("c\nxyz\n");
    connection.end();
    assert.equal(await run, "closed");
    assert.equal(connection.written, "abc\nxyz\n");
    assert.deepEqual(kept, ["abc", "xyz"]);
    assert.deepEqual(errors, []);
  });

  test("SRS-133 raw from a read that is never reused is a view of it, with no copy", async () => {
    const raws: Uint8Array[] = [];
    const { connection, run } = start({
      handler: (_command, context) => (raws.push(context.raw), undefined),
    });
    const chunk = encoder.encode("ab\ncd\n");
    connection.send(chunk);
    connection.end();
    assert.equal(await run, "closed");
    assert.deepEqual(raws.map((raw) => [raw.buffer === chunk.buffer, raw.byteOffset]), [
      [true, 0],
      [true, 3],
    ]);
  });
});
