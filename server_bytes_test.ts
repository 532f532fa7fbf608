// The server's answers as bytes and its line terminators, over real loopback sockets: bytes go
// out as they are, commands end where the read terminator says, and every line the server
// writes ends with the write terminator.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { serve } from "./server.ts";
import type { HandlerContext, ServeOptions } from "./server.ts";
import type { ReadTerminator, WriteTerminator } from "./framing.ts";
import {
  assertSocketsClosed,
  captureLogger,
  openSockets,
  startServer,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();
const encode = (text: string) => new TextEncoder().encode(text);
const bytesOf = (...values: number[]) => new Uint8Array(values);

/** A client that sends bytes and collects every byte the server sends, until it closes. */
class ByteClient {
  readonly #socket: net.Socket;
  #received: number[] = [];
  #closed = false;
  #wake: () => void = () => {};

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      for (const byte of chunk) this.#received.push(byte);
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<ByteClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" }, () => {
        socket.off("error", reject);
        resolve(new ByteClient(socket));
      });
      socket.once("error", reject);
    });
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  // Waits until `done` holds or the server closes; fails after 5 s, so a bug cannot hang the run.
  async #until(done: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!done() && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got only ${this.#received.length} bytes`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits until `count` bytes have come (or the server closed), and takes them. */
  async take(count: number): Promise<number[]> {
    await this.#until(() => this.#received.length >= count);
    const taken = this.#received.slice(0, count);
    this.#received = this.#received.slice(count);
    return taken;
  }

  /** Everything received until the server closed the connection. */
  async untilClosed(): Promise<number[]> {
    await this.#until(() => false);
    return this.#received;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Sends `input` then `disconnect`, and returns all the server answered before it closed. */
async function exchange(
  options: Partial<ServeOptions>,
  input: string | Uint8Array,
  terminator = "\n",
): Promise<number[]> {
  let answered: number[] = [];
  await withServer(options, async (server) => {
    const client = await ByteClient.connect(server.port!);
    try {
      await client.write(input);
      await client.write(`disconnect${terminator}`);
      answered = await client.untilClosed();
    } finally {
      client.destroy();
    }
  });
  return answered;
}

const asText = (bytes: number[]) => new TextDecoder().decode(new Uint8Array(bytes));

describe("server: answers as bytes", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-130 bytes go out as they are, CR, LF, NUL and 0xFF included, then the terminator", async () => {
    const binary = bytesOf(0x23, 0x0a, 0x0d, 0x00, 0xff, 0x0d, 0x0a);
    const logger = captureLogger();
    const answered = await exchange({
      logger,
      handler: (command) => command === "bin" ? binary : "a\rb",
    }, "bin\ntext\n");
    assert.deepEqual(answered, [...binary, 0x0a]);
    // A string keeps its check: the one with a CR is refused, and said to be.
    assert.match(String(logger.errors[0].error), /response must not contain CR or LF: "a\\rb"/);
    assert.equal(logger.errors.length, 1);
  });

  test("SRS-131 a mixed array keeps its order; send and onError take bytes too", async () => {
    const answered = await exchange({
      handler: async (command, context) => {
        if (command === "fail") throw new Error("no");
        await context.send(bytesOf(0x01, 0x0a));
        context.send("sent");
        await Promise.resolve();
        return ["one", bytesOf(0x02), "three", new Uint8Array(0)];
      },
      onError: () => bytesOf(0xee, 0x0d),
      logger: null,
    }, "mixed\nfail\n");
    assert.deepEqual(answered, [
      ...[0x01, 0x0a, 0x0a],
      ...encode("sent\none\n"),
      ...[0x02, 0x0a],
      ...encode("three\n\n"),
      ...[0xee, 0x0d, 0x0a],
    ]);
  });

  test("SRS-132 answered bytes are copied: a handler may reuse its array at once", async () => {
    const scratch = new Uint8Array(2);
    let count = 0;
    const answered = await exchange({
      handler: async (_command, context) => {
        scratch.fill(0x30 + count++);
        await context.send(scratch);
        scratch.fill(0x30 + count++);
        return scratch;
      },
    }, "a\nb\n");
    assert.equal(asText(answered), "00\n11\n22\n33\n");
  });

  test("SRS-133 context.raw answered back echoes the command's exact bytes, invalid UTF-8 too", async () => {
    const line = bytesOf(0x61, 0xff, 0x0d, 0x62, 0xc3);
    const seen: (string | undefined)[] = [];
    const answered = await exchange({
      handler: (_command, context: HandlerContext) => {
        seen.push(context.reason);
        return context.raw;
      },
    }, new Uint8Array([...line, 0x0a, ...encode("ok\n")]));
    assert.deepEqual(answered, [...line, 0x0a, ...encode("ok\n")]);
    assert.deepEqual(seen, ["decode", undefined]);
  });

  test("SRS-134 an 8 MiB answer, text or bytes, arrives whole and in order", async () => {
    const text = "0123456789abcdef".repeat(512 * 1024);
    const bytes = encode(text.toUpperCase());
    await withServer({
      handler: (command) => command === "text" ? ["<", text, ">"] : bytes,
    }, async (server) => {
      const client = await ByteClient.connect(server.port!);
      try {
        await client.write("text\nbytes\n");
        const first = asText(await client.take(text.length + 5));
        const second = asText(await client.take(bytes.length + 1));
        // Compared as booleans: a mismatch of 8 MiB strings would print them whole.
        assert.ok(first === `<\n${text}\n>\n`, "the text answer");
        assert.ok(second === `${text.toUpperCase()}\n`, "the bytes answer");
      } finally {
        client.destroy();
      }
    });
  });
});

describe("server: a bytes handler", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  // Lines of a short read and of a long one (a read's text is then searched on V8), then
  // undecodable bytes, an over-long line and the built-ins, answered by a bytes handler that
  // echoes each command with its length and its reason.
  const input = new Uint8Array([
    ...encode("a\n"),
    ...encode(`${"x".repeat(100)}\n`),
    ...[0x61, 0xff, 0x0d, 0xc3, 0x0a],
    ...encode(`${"y".repeat(140)}\nping\n`),
  ]);
  const expected = [
    ...encode("1 -\na\n"),
    ...encode(`100 -\n${"x".repeat(100)}\n`),
    ...encode("4 -\n"),
    ...[0x61, 0xff, 0x0d, 0xc3, 0x0a],
    ...encode(`128 too_long\n${"y".repeat(128)}\npong\n`),
  ];
  const echo = (command: Uint8Array, context: HandlerContext) => {
    assert.equal(command, context.raw);
    return [`${command.length} ${context.reason ?? "-"}`, command];
  };

  test("SRS-247 it takes each command as its exact bytes, undecodable ones unflagged", async () => {
    for (const verbose of [false, true]) {
      const logger = captureLogger();
      const answered = await exchange(
        { bytesHandler: echo, maxLineBytes: 128, verbose, logger },
        input,
      );
      assert.deepEqual(answered, expected, `verbose: ${verbose}`);
      assert.deepEqual(logger.errors, []);
    }
  });

  test("SRS-247 an async bytes handler sends and answers; built-ins stay the server's", async () => {
    const answered = await exchange({
      bytesHandler: async (command, context) => {
        await context.send(command.subarray(1));
        await Promise.resolve();
        return command.subarray(0, 1);
      },
      builtins: { shutdown: false },
    }, "abc\nping\nshutdown\n");
    assert.equal(asText(answered), "bc\na\npong\nhutdown\ns\n");
  });

  test("SRS-248 a bytes handler's failure is logged and given to onError as text", async () => {
    const logger = captureLogger();
    const failures: string[] = [];
    const answered = await exchange({
      bytesHandler: async (command) => {
        await Promise.resolve();
        if (command[0] === 0x72) throw new Error("rejected");
        if (command[0] === 0x77) return 42 as unknown as string;
        throw new Error("thrown");
      },
      onError: (error, command) => {
        failures.push(`${(error as Error).message ?? error} ${command}`);
        return "nak";
      },
      logger,
    }, new Uint8Array([...encode("reject\nwrong\nth"), 0xff, ...encode("row\n")]));
    assert.equal(asText(answered), "nak\nnak\nnak\n");
    assert.equal(failures[0], "rejected reject");
    assert.match(failures[1], / wrong$/);
    assert.equal(failures[2], "thrown throw");
    assert.deepEqual(logger.errors.map((entry) => entry.message), [
      'handler failed on "reject"',
      'handler answered "wrong" wrongly; nothing sent',
      'handler failed on "throw"',
    ]);
  });
});

describe("server: terminators", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-137 SRS-138 every line the server writes ends with writeTerminator, pongs included", async () => {
    for (const terminator of ["\n", "\r\n", "\r"] as const) {
      // Pipelined pings take the fast path; with verbose every line is logged and none does.
      for (const verbose of [false, true]) {
        const answered = await exchange({
          writeTerminator: terminator,
          verbose,
          logger: null,
          maxLineBytes: 10,
          handler: (command) => command === "two" ? ["a", bytesOf(0x62)] : "x",
        }, "ping\nping\ntwo\nping\nlonger than ten\n");
        const t = terminator;
        assert.equal(
          asText(answered),
          `pong${t}pong${t}a${t}b${t}pong${t}x${t}`,
          `${JSON.stringify(t)}, verbose ${verbose}`,
        );
      }
    }
  });

  test('SRS-137 the server\'s own "line too long" answer ends with writeTerminator', async () => {
    const answered = await exchange(
      { writeTerminator: "\r\n", lineTooLong: "close", maxLineBytes: 4 },
      "toolong\n",
    );
    assert.equal(asText(answered), "error - line too long (over 4 bytes)\r\n");
  });

  test('SRS-135 SRS-138 readTerminator "\\r": commands end at CR, pings take the fast path', async () => {
    const seen: string[] = [];
    const answered = await exchange(
      {
        readTerminator: "\r",
        handler: (command) => (seen.push(command), "ok"),
      },
      "ping\rping\ra\nb\r",
      "\r",
    );
    assert.equal(asText(answered), "pong\npong\nok\n");
    assert.deepEqual(seen, ["a\nb"]);
  });

  test('SRS-136 SRS-138 readTerminator "any": CR, LF, CRLF and telnet\'s CR NUL each end one command', async () => {
    const seen: string[] = [];
    const answered = await exchange(
      {
        readTerminator: "any",
        writeTerminator: "\r\n",
        handler: (command) => (seen.push(command), `<${command}>`),
      },
      "ping\rping\na\r\nping\r\0b\r\n\r\n",
      "\r\n",
    );
    assert.equal(asText(answered), "pong\r\npong\r\n<a>\r\npong\r\n<b>\r\n<>\r\n");
    assert.deepEqual(seen, ["a", "b", ""]);
  });

  test('SRS-136 readTerminator "any": a CRLF whose LF comes in a later read is one line end', async () => {
    const seen: string[] = [];
    await withServer({
      readTerminator: "any",
      handler: (command) => (seen.push(command), "ok"),
    }, async (server) => {
      const client = await ByteClient.connect(server.port!);
      try {
        await client.write("cmd\r");
        // The answer shows the server has read the CR alone: the LF comes in a read of its own.
        assert.equal(asText(await client.take(3)), "ok\n");
        await client.write("\nping\n");
        assert.equal(asText(await client.take(5)), "pong\n");
      } finally {
        client.destroy();
      }
    });
    assert.deepEqual(seen, ["cmd"], "no empty command from the CRLF's LF");
  });

  test("SRS-139 wrong terminator options are typed errors that quote the value and name the one meant", async () => {
    const handler = () => "ok";
    const cases: [Partial<ServeOptions>, string][] = [
      [
        { readTerminator: "LF" as ReadTerminator },
        'options.readTerminator must be "\\n", "\\r" or "any", got "LF" (a string); did you mean "\\n"?',
      ],
      [
        { writeTerminator: "crlf" as WriteTerminator },
        'options.writeTerminator must be "\\n", "\\r\\n" or "\\r", got "crlf" (a string); did you mean "\\r\\n"?',
      ],
      [
        { writeTerminator: 13 as unknown as WriteTerminator },
        'options.writeTerminator must be "\\n", "\\r\\n" or "\\r", got 13',
      ],
      [
        { readTerminator: "\r", keepCR: true },
        'options.keepCR applies to readTerminator "\\n" only, not "\\r"',
      ],
      [
        { readTerminater: "any" } as Partial<ServeOptions>,
        "options.readTerminater is not an option (did you mean readTerminator?)",
      ],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        serve({ port: 0, logger: null, handler, ...options }),
        { name: "TypeError", message },
      );
    }
  });

  test("SRS-135 SRS-137 a server with both terminators set serves a CR-only client", async () => {
    const server = await startServer({ readTerminator: "\r", writeTerminator: "\r" });
    try {
      const client = await ByteClient.connect(server.port!);
      try {
        await client.write("hello\r");
        assert.equal(asText(await client.take("echo:hello\r".length)), "echo:hello\r");
      } finally {
        client.destroy();
      }
    } finally {
      await server.close();
    }
  });
});
