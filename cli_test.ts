// The command line, run as a subprocess of the runtime under test (Deno, Bun or
// Node) against real servers on loopback ports.

import * as fs from "node:fs";
import * as os from "node:os";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import { main } from "./cli.ts";
import { parseArgs } from "./_cli/common.ts";
import { isMain } from "./_cli/script.ts";
import {
  assertSocketsClosed,
  openSockets,
  RawClient,
  type Run,
  scriptArgs,
  spawnScript,
  Subprocess,
  testdataPath,
  testTls,
  withFakeServer,
  withServer,
} from "./test_util.ts";

const baseline = openSockets();

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/** Starts the CLI with these arguments. */
function startCli(args: string[]): Subprocess {
  return spawnScript(CLI, args);
}

/** Runs the CLI to its end, with `input` (if any) as stdin, which is then closed. */
function runCli(args: string[], input?: string): Promise<Run> {
  const cli = startCli(args);
  cli.child.stdin!.end(input);
  return cli.done;
}

/** A TCP port that nothing listens on. */
async function freePort(): Promise<number> {
  let port = 0;
  await withServer({}, (server) => Promise.resolve(void (port = server.port!)));
  return port;
}

/** Runs main() in this process, with its output captured as a run would print it. */
async function runInProcess(args: string[]): Promise<Omit<Run, "signal">> {
  const run = { code: 0 as number | null, stdout: "", stderr: "" };
  run.code = await main(args, {
    out: (text) => run.stdout += text,
    err: (text) => run.stderr += text,
  });
  return run;
}

const answers = {
  handler(command: string) {
    if (command === "two") return ["first", "second"];
    if (command === "none") return;
    return `echo:${command}`;
  },
};

describe("command line", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(baseline));

  test("SRS-060 send prints the responses of each command", async () => {
    await withServer(answers, async (server) => {
      const run = await runCli([
        "send",
        "--port",
        String(server.port),
        "ping",
        "two",
        "none",
        "x y",
      ]);
      assert.deepEqual(run, {
        code: 0,
        signal: null,
        stdout: "pong\nfirst\nsecond\necho:x y\n",
        stderr: "",
      });
    });
  });

  test("SRS-060 send reads commands from stdin", async () => {
    await withServer(answers, async (server) => {
      const run = await runCli(["send", "--port", String(server.port)], "a\n\ntwo\r\nb");
      assert.deepEqual(run.stderr, "");
      assert.deepEqual(run.stdout, "echo:a\necho:\nfirst\nsecond\necho:b\n");
      assert.equal(run.code, 0);
    });
  });

  test("SRS-060 send exits non-zero naming the address when nothing listens", async () => {
    const port = await freePort();
    const run = await runCli(["send", "--port", String(port), "ping"]);
    assert.match(
      run.stderr,
      new RegExp(`^socket-oneline: cannot connect to 127\\.0\\.0\\.1:${port}: .+\\n$`),
    );
    assert.equal(run.stdout, "");
    assert.equal(run.code, 1);
  });

  test("SRS-060 send reports a busy server", async () => {
    await withServer({}, async (server) => {
      const holder = await RawClient.connect(server.port!);
      try {
        const run = await runCli(["send", "--port", String(server.port), "--timeout", "300", "x"]);
        assert.equal(
          run.stderr,
          `socket-oneline: server at 127.0.0.1:${server.port} accepted the connection but did not ` +
            "answer ping within 300 ms: it is busy with another client (it serves one at a time), " +
            "or it does not speak the oneline protocol (for a device that does not answer ping, " +
            "connect with handshake: false)\n",
        );
        assert.equal(run.code, 1);
      } finally {
        holder.destroy();
      }
    });
  });

  test("SRS-060 send fails when the server closes first or does not answer in time", async () => {
    await withServer({ maxLineBytes: 8, lineTooLong: "close" }, async (server) => {
      // stdin stays open, so send has not said its ping and disconnect when the
      // server closes: it must not wait for stdin. (Had they arrived after the
      // close, the reset could take the unread responses with it.)
      const cli = startCli(["send", "--port", String(server.port)]);
      cli.child.stdin!.write("ping\n0123456789\n");
      const run = await cli.done;
      cli.child.stdin!.destroy();
      assert.equal(run.stdout, "pong\nerror - line too long (over 8 bytes)\n");
      assert.equal(
        run.stderr,
        `socket-oneline: server at 127.0.0.1:${server.port} closed the connection before answering everything\n`,
      );
      assert.equal(run.code, 1);
    });
    await withServer({ handler: () => new Promise(() => {}) }, async (server) => {
      const run = await runCli([
        "send",
        "--port",
        String(server.port),
        "--timeout",
        "200",
        "ping",
        "stuck",
      ]);
      assert.equal(run.stdout, "pong\n");
      assert.equal(
        run.stderr,
        `socket-oneline: server at 127.0.0.1:${server.port} did not answer within 200 ms\n`,
      );
      assert.equal(run.code, 1);
    });
  });

  test("SRS-060 send shutdown stops the server, and nothing after it is sent", async () => {
    await withServer(answers, async (server) => {
      const run = await runCli(["send", "--port", String(server.port), "a", "shutdown", "b"]);
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, "echo:a\n", ""]);
      await server.finished;
      assert.deepEqual(server.logger.infos.slice(-2), ["shutdown requested", "stopped"]);
    });
  });

  test("SRS-061 repl sends piped lines and prints responses, notes the server closing", async () => {
    await withServer(answers, async (server) => {
      const run = await runCli(
        ["repl", "--port", String(server.port)],
        "a\ntwo\nshutdown\nnever\n",
      );
      assert.deepEqual(run, {
        code: 0,
        signal: null,
        stdout: "echo:a\nfirst\nsecond\n",
        stderr: "server closed the connection\n",
      });
      await server.finished;
    });
  });

  test("SRS-061 repl says disconnect at the end of input, so the next client is served", async () => {
    await withServer(answers, async (server) => {
      const run = await runCli(["repl", "--port", String(server.port)], "a\n");
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, "echo:a\n", ""]);
      await using client = await connect({ port: server.port, timeout: 1000 });
      assert.equal(await client.request("b"), "echo:b");
    });
  });

  test(
    "SRS-061 repl on a terminal prompts and prints responses above the prompt",
    { skip: !fs.existsSync("/usr/bin/script") && "needs script(1) for a pseudo-terminal" },
    async () => {
      await withServer(answers, async (server) => {
        const command = [
          process.execPath,
          ...scriptArgs(CLI, ["repl", "--port", String(server.port)]),
        ]
          .map((word) => `'${word}'`).join(" ");
        const cli = new Subprocess("script", ["-qec", command, "/dev/null"]);
        await cli.waitFor(/> /);
        cli.child.stdin!.write("two\r");
        await cli.waitFor(/second\r\n.*> /s);
        cli.child.stdin!.end("\x04"); // Ctrl-D
        const run = await cli.done;
        assert.equal(run.code, 0);
        assert.match(run.stdout, /> .*two\r\r\n(.*\r\n)?.*first\r\n.*second\r\n/s);
      });
    },
  );

  test("SRS-062 serve echoes and answers the configured reply and stops on shutdown", async () => {
    const cli = startCli(["serve", "--port", "0", "--reply", "what?"]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      // A raw client: what it sends is exactly what serve prints.
      const client = await RawClient.connect(port);
      await client.write("echo hello  world\necho\ncmd01\nshutdown\n");
      assert.equal(await client.untilClosed(), "hello  world\n\nwhat?\n");
      client.destroy();
      assert.deepEqual(await cli.done, {
        code: 0,
        signal: null,
        stdout: `listening on 127.0.0.1:${port}\n< echo hello  world\n< echo\n< cmd01\n` +
          "< shutdown\nshutdown requested\nstopped\n",
        stderr: "",
      });
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("SRS-062 serve --quiet stops on SIGINT", async () => {
    const cli = startCli(["serve", "--port", "0", "--quiet"]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      const client = await connect({ port, timeout: 2000 });
      assert.equal(await client.request("cmd01"), "nak - unknown cmd");
      client.close();
      // By pid: Deno's child.kill() reports the signal as the cause of any exit.
      process.kill(cli.child.pid!, "SIGINT");
      const run = await cli.done;
      assert.deepEqual(run, {
        code: 0,
        signal: null,
        stdout: `listening on 127.0.0.1:${port}\nstopped\n`,
        stderr: "",
      });
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("SRS-062 serve reports a taken address", async () => {
    await withServer({}, async (server) => {
      const run = await runCli(["serve", "--port", String(server.port)]);
      assert.deepEqual([run.code, run.stdout, run.stderr], [
        1,
        "",
        `socket-oneline: cannot listen on 127.0.0.1:${server.port}: address already in use\n`,
      ]);
    });
  });

  test("SRS-062 serve and send over a Unix socket path", async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/oneline-cli-`);
    const path = `${dir}/socket`;
    const server = startCli(["serve", "--path", path, "--quiet"]);
    try {
      await server.waitFor(/^listening on .+\n/);
      const run = await runCli(["send", "--path", path, "echo over unix", "shutdown"]);
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, "over unix\n", ""]);
      const served = await server.done;
      assert.deepEqual([served.code, served.stderr], [0, ""]);
    } finally {
      server.child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SRS-063 a run from the shell: help exits 0 on stdout, a mistake exits 2 on stderr", async () => {
    const [help, mistake] = await Promise.all([
      runCli(["send", "-h"]),
      runCli(["send", "--bogus"]),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: socket-oneline send \[options\]/);
    assert.deepEqual([mistake.code, mistake.stdout, mistake.stderr], [
      2,
      "",
      "socket-oneline: unknown option --bogus\nRun 'socket-oneline send --help' for usage.\n",
    ]);
  });

  test("SRS-063 SRS-086 --help on each command; a mistake exits 2, named in one line", async () => {
    const helps = [["--help"], ["-h"], ["help"], ["send", "--help"], ["repl", "-h"], [
      "help",
      "serve",
    ]];
    // The arguments, the message, and the command whose help is pointed at.
    const mistakes: [string[], string, string][] = [
      [[], "a command is needed", ""],
      [["bogus"], 'unknown command "bogus"', ""],
      [["help", "bogus"], 'help: unknown command "bogus"', ""],
      [["-p", "5001"], 'unknown command "-p"', ""],
      [["send", "-x"], "unknown option -x", "send"],
      [["send", "-p"], "option -p needs a value", "send"],
      [
        ["send", "-t", "0", "x"],
        '--timeout must be a positive number of milliseconds, got "0"',
        "send",
      ],
      [["send", "--version"], "unknown option --version", "send"],
      [["send", "--bogus", "x"], "unknown option --bogus", "send"],
      [
        ["send", "--port", "65536", "x"],
        '--port must be an integer from 1 to 65535, got "65536"',
        "send",
      ],
      [["send", "--port"], "option --port needs a value", "send"],
      [
        ["send", "--timeout=-5", "x"],
        '--timeout must be a positive number of milliseconds, got "-5"',
        "send",
      ],
      [["repl", "--port", "1.5"], '--port must be an integer from 1 to 65535, got "1.5"', "repl"],
      [["repl", "extra"], 'unexpected argument "extra"', "repl"],
      [["serve", "--port", "-1"], '--port must be an integer from 0 to 65535, got "-1"', "serve"],
      [
        ["serve", "--path", "/tmp/x", "--port", "1"],
        "--path cannot be combined with --hostname or --port",
        "serve",
      ],
      [["serve", "--quiet=yes"], "option --quiet takes no value", "serve"],
      [["serve", "-p", "x"], '--port must be an integer from 0 to 65535, got "x"', "serve"],
    ];
    const runs = await Promise.all(
      [...helps, ...mistakes.map(([args]) => args)].map(runInProcess),
    );
    helps.forEach((args, i) => {
      const run = runs[i];
      const name = args.find((arg) => !arg.startsWith("-") && arg !== "help");
      assert.equal(run.code, 0, args.join(" "));
      assert.equal(run.stderr, "");
      assert.ok(
        run.stdout.startsWith(`Usage: socket-oneline ${name ?? "<command>"} [options]`),
        run.stdout,
      );
    });
    mistakes.forEach(([args, message, command], i) => {
      const help = command === "" ? "--help" : `${command} --help`;
      assert.deepEqual(runs[helps.length + i], {
        code: 2,
        stdout: "",
        stderr: `socket-oneline: ${message}\nRun 'socket-oneline ${help}' for usage.\n`,
      }, args.join(" "));
    });
  });
  test("SRS-084 --version and -V print the version in deno.json", async () => {
    const { version } = JSON.parse(
      fs.readFileSync(new URL("./deno.json", import.meta.url), "utf8"),
    );
    const runs = await Promise.all([runCli(["--version"]), runCli(["-V"])]);
    for (const run of runs) {
      assert.deepEqual(run, { code: 0, signal: null, stdout: `${version}\n`, stderr: "" });
    }
  });

  test("SRS-085 short flags: -H, -p, -t, -q and -h stand for the long ones", async () => {
    const spec = { help: "boolean", hostname: "string", port: "string", quiet: "boolean" } as const;
    assert.deepEqual(parseArgs(["-qh", "-p5002", "-H", "::1", "x"], spec), {
      flags: { quiet: true, help: true, port: "5002", hostname: "::1" },
      positionals: ["x"],
    });
    await withServer(answers, async (server) => {
      const run = await runCli([
        "send",
        "-H",
        "127.0.0.1",
        "-p",
        String(server.port),
        "-t",
        "2000",
        "a",
      ]);
      assert.deepEqual(run, { code: 0, signal: null, stdout: "echo:a\n", stderr: "" });
    });
    const cli = startCli(["serve", "-q", "-H", "127.0.0.1", "-p", "0"]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      const client = await connect({ port, timeout: 2000 });
      assert.equal(await client.request("cmd01"), "nak - unknown cmd");
      await client.shutdown();
      assert.equal(
        (await cli.done).stdout,
        `listening on 127.0.0.1:${port}\nshutdown requested\nstopped\n`,
      );
    } finally {
      cli.child.kill("SIGKILL");
    }
    // Each command's help names the short flags it takes.
    const shorts = {
      "": ["-h, --help", "-V, --version"],
      send: ["-H, --hostname", "-p, --port", "-t, --timeout", "-h, --help"],
      repl: ["-H, --hostname", "-p, --port", "-t, --timeout", "-h, --help"],
      serve: ["-H, --hostname", "-p, --port", "-q, --quiet", "-h, --help"],
    };
    for (const [command, flags] of Object.entries(shorts)) {
      const { stdout } = await runInProcess(command === "" ? ["--help"] : [command, "--help"]);
      for (const flag of flags) {
        assert.ok(stdout.includes(`  ${flag} `), `${command} --help: ${flag}`);
      }
    }
  });

  test("SRS-087 serve prints the built-ins received, in order with the other commands", async () => {
    const cli = startCli(["serve", "--port", "0"]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      // "x < ping" looks like a built-in in the server's log, and so does "ping" from bytes that
      // do not decode, but both go to the handler: each is printed once, as the handler's.
      const first = await RawClient.connect(port);
      await first.write("ping\necho a\nx < ping\n");
      await first.write(new Uint8Array([0x70, 0x69, 0x6e, 0x67, 0xff, 0x0a]));
      await first.write("disconnect\n");
      assert.equal(await first.untilClosed(), "pong\na\nnak - unknown cmd\nnak - unknown cmd\n");
      first.destroy();
      const second = await RawClient.connect(port);
      await second.write("ping\nshutdown\n");
      assert.equal(await second.untilClosed(), "pong\n");
      second.destroy();
      assert.deepEqual(await cli.done, {
        code: 0,
        signal: null,
        stdout: `listening on 127.0.0.1:${port}\n< ping\n< echo a\n< x < ping\n` +
          "< ping (invalid: decode)\n< disconnect\n" +
          "< ping\n< shutdown\nshutdown requested\nstopped\n",
        stderr: "",
      });
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("SRS-088 without import.meta.main (Node before 22.18), the script run is found by its path", () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/oneline-cli-`);
    try {
      // An npm bin is a link to the script; Node names the module by its real path.
      const link = `${dir}/socket-oneline`;
      fs.symlinkSync(CLI, link);
      const url = pathToFileURL(CLI).href;
      assert.equal(isMain({ url }, CLI), true);
      assert.equal(isMain({ url }, link), true);
      assert.equal(isMain({ url }, fileURLToPath(import.meta.url)), false);
      assert.equal(isMain({ url }, `${dir}/missing.ts`), false);
      assert.equal(isMain({ url }, undefined), false);
      // Where the runtime knows, it decides.
      assert.equal(isMain({ url, main: false }, CLI), false);
      assert.equal(isMain({ url, main: true }, link), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("command line: instruments and TLS", () => {
  after(() => assertSocketsClosed(baseline));

  // An instrument on node:net: answers each CR LF command line, and records them.
  function instrument(seen: string[]) {
    return (socket: import("node:net").Socket) => {
      let carry = "";
      socket.on("data", (chunk: Uint8Array) => {
        carry += new TextDecoder().decode(chunk);
        for (let end = carry.indexOf("\r\n"); end !== -1; end = carry.indexOf("\r\n")) {
          const command = carry.slice(0, end);
          carry = carry.slice(end + 2);
          seen.push(command);
          if (command === "*IDN?") socket.write("ACME,METER,1\r\n");
          if (command === "MEAS?") socket.write("1.25\r\n");
        }
      });
    };
  }

  test("SRS-162 send --no-handshake talks to an instrument: queries answered, nothing else sent", async () => {
    const seen: string[] = [];
    await withFakeServer(instrument(seen), async (port) => {
      const run = await runCli([
        "send",
        "--port",
        String(port),
        "--no-handshake",
        "--read-terminator",
        "CRLF", // case does not matter
        "--write-terminator",
        "crlf",
        "*IDN?",
        "*RST",
        "MEAS?",
      ]);
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, "ACME,METER,1\n1.25\n", ""]);
    });
    assert.deepEqual(seen, ["*IDN?", "*RST", "MEAS?"]);
  });

  test("SRS-162 repl --no-handshake prints the answers and leaves without a disconnect", async () => {
    const seen: string[] = [];
    await withFakeServer(instrument(seen), async (port) => {
      const run = await runCli(
        ["repl", "-p", String(port), "--no-handshake", "--write-terminator=crlf", "-t", "300"],
        "*IDN?\n",
      );
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, "ACME,METER,1\n", ""]);
    });
    assert.deepEqual(seen, ["*IDN?"]);
  });

  test("SRS-162 wrong terminators and an unreadable CA file are usage errors", async () => {
    const cases: [string[], string][] = [
      [
        ["send", "--read-terminator", "nl", "x"],
        '--read-terminator must be lf, crlf, cr or any, got "nl"',
      ],
      [
        ["repl", "--write-terminator", "any"],
        '--write-terminator must be lf, crlf or cr, got "any"',
      ],
      [
        ["send", "--read-terminator", "clrf", "x"],
        '--read-terminator must be lf, crlf, cr or any, got "clrf" (did you mean crlf?)',
      ],
      [["send", "--ca", "/no/such/ca.pem", "x"], "--ca: cannot read /no/such/ca.pem: "],
      [["send", "--tls", "--path", "/tmp/x.sock", "x"], "--tls cannot be combined with --path"],
    ];
    for (const [args, message] of cases) {
      const run = await runInProcess(args);
      assert.equal(run.code, 2, args.join(" "));
      assert.ok(run.stderr.startsWith(`socket-oneline: ${message}`), run.stderr);
    }
  });

  test("SRS-163 send --tls --ca reaches a TLS server whose certificate that CA signed", async () => {
    const { cert, key } = testTls();
    const tls = { cert, key };
    await withServer({ hostname: "localhost", tls }, async (server) => {
      const ca = testdataPath("ca.pem");
      const args = ["send", "-H", "localhost", "-p", String(server.port), "echo", "x"];
      const trusted = await runCli([...args, "--ca", ca]);
      assert.deepEqual([trusted.code, trusted.stdout, trusted.stderr], [
        0,
        "echo:echo\necho:x\n",
        "",
      ]);
      const untrusted = await runCli([...args, "--tls"]);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /TLS handshake failed/);
    });
  });
});

describe("command line: serve's terminators, verbose output and did-you-mean", () => {
  after(() => assertSocketsClosed(baseline));

  test("SRS-141 serve --read-terminator cr --write-terminator crlf serves a CR-only client", async () => {
    const cli = startCli([
      "serve",
      "--port",
      "0",
      "--quiet",
      "--read-terminator",
      "cr",
      "--write-terminator",
      "CRLF",
    ]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      const client = await RawClient.connect(port);
      await client.write("echo a b\rping\rshutdown\r");
      assert.equal(await client.untilClosed(), "a b\r\npong\r\n");
      client.destroy();
      assert.equal((await cli.done).code, 0);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("SRS-142 serve --verbose prints each response and each client's connect and disconnect", async () => {
    const cli = startCli(["serve", "--port", "0", "-v", "--read-terminator", "any"]);
    try {
      const port = Number((await cli.waitFor(/^listening on 127\.0\.0\.1:(\d+)\n/))[1]);
      const first = await RawClient.connect(port);
      await first.write("echo hi\r\nping\rcmd\n");
      assert.deepEqual(await first.readLines(3), ["hi", "pong", "nak - unknown cmd"]);
      await first.write("disconnect\n");
      await first.untilClosed();
      first.destroy();
      const second = await RawClient.connect(port);
      await second.write("shutdown\n");
      await second.untilClosed();
      second.destroy();
      const run = await cli.done;
      const peer = String.raw`127\.0\.0\.1:\d+`;
      assert.match(
        run.stdout,
        new RegExp(
          `^listening on 127\\.0\\.0\\.1:${port}\\n` +
            `client 1 \\(${peer}\\) connected\\n< echo hi\\n> hi\\n< ping\\n> pong\\n` +
            `< cmd\\n> nak - unknown cmd\\n< disconnect\\n` +
            `client 1 \\(${peer}\\) disconnected: disconnect\\n` +
            `client 2 \\(${peer}\\) connected\\n< shutdown\\n` +
            `(shutdown requested\\n)?client 2 \\(${peer}\\) disconnected: shutdown\\n`,
        ),
      );
      assert.equal(run.code, 0);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("SRS-143 a misspelt command or option is named with the one meant", async () => {
    const mistakes: [string[], string][] = [
      [["sned", "ping"], 'unknown command "sned" (did you mean send?)'],
      [["hlep"], 'unknown command "hlep" (did you mean help?)'],
      [["help", "sevre"], 'help: unknown command "sevre" (did you mean serve?)'],
      [["serve", "--prot", "1"], "unknown option --prot (did you mean --port?)"],
      [["send", "--timout=5", "x"], "unknown option --timout (did you mean --timeout?)"],
      [
        ["serve", "--read-terminater", "cr"],
        "unknown option --read-terminater (did you mean --read-terminator?)",
      ],
      [
        ["serve", "--read-terminator", "crlf"],
        '--read-terminator must be lf, cr or any, got "crlf"',
      ],
      [
        ["serve", "--write-terminator", "clrf"],
        '--write-terminator must be lf, crlf or cr, got "clrf" (did you mean crlf?)',
      ],
      [["serve", "-q", "-v"], "--quiet and --verbose do not go together"],
    ];
    for (const [args, message] of mistakes) {
      const run = await runInProcess(args);
      assert.equal(run.code, 2, args.join(" "));
      assert.equal(run.stderr.split("\n")[0], `socket-oneline: ${message}`);
    }
  });
});
