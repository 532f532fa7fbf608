// PyVISA with its pure-Python backend (pyvisa-py) as the client of the server of the
// runtime running the test, through TCPIP0::127.0.0.1::PORT::SOCKET resources: what lab
// software does with an instrument. interop/pyvisa_driver.py runs one scenario per process
// and prints a transcript of [step, value] pairs. Skipped, saying why, without PyVISA.

import { after, afterEach, describe } from "node:test";
import assert from "node:assert/strict";
import { definiteLengthBlock } from "../framing.ts";
import type { ServeOptions } from "../server.ts";
import { assertSocketsClosed, deferred, openSockets, waitUntil, withServer } from "../test_util.ts";
import { findPyVisa, interopTest, killAll, runPyVisa, spawnPyVisa, transcript } from "./harness.ts";

const socketsAtStart = openSockets();
const pyvisa = findPyVisa();

const IDN = "ACME,METER,1,0.1";

/**
 * `count` little-endian floats of `size` bytes (a ramp) whose bytes hold LF and CR, CR LF
 * among them, and end with an LF, the byte a reader that stops at its terminator trips on;
 * with the numbers they encode.
 */
function floats(size: 4 | 8, count: number): { bytes: Uint8Array; values: number[] } {
  const bytes = new Uint8Array(size * count);
  const view = new DataView(bytes.buffer);
  const set = size === 4 ? view.setFloat32.bind(view) : view.setFloat64.bind(view);
  const get = size === 4 ? view.getFloat32.bind(view) : view.getFloat64.bind(view);
  for (let i = 0; i < count; i++) set(i * size, (i - count / 3) / 7, true);
  // Low mantissa bytes of the first number, and the exponent's high byte of the last: every
  // number stays finite.
  bytes.set([0x0a, 0x0d, 0x0a], 0);
  bytes[bytes.length - 1] = 0x0a;
  const values = Array.from({ length: count }, (_, i) => get(i * size, true));
  return { bytes, values };
}

const float32 = floats(4, 600); // a 2400-byte block
const float64 = floats(8, 1100); // 8800 bytes: more than pyvisa-py reads at once (4096)

/** An instrument: records each command and answers as a meter would. */
function instrument(commands: string[], slow?: Promise<void>): ServeOptions["handler"] {
  return async (command) => {
    commands.push(command);
    if (command === "*IDN?") return IDN;
    if (command === "MEAS:VOLT?") return "+1.23450E+00";
    if (command === "VALUES?") return "1.5,-2.25,3E-3,42";
    if (command === "CURVE32?") return definiteLengthBlock(float32.bytes);
    if (command === "CURVE64?") return definiteLengthBlock(float64.bytes);
    if (command === "SLOW?") {
      await slow;
      return "late";
    }
    if (command.startsWith("CONF:")) return;
    return command.toLowerCase();
  };
}

// Upper bound on how long a waiting session takes to be served once the one before it has
// closed: well under closeTimeout (a second), which serving it "at once" must not wait for.
const AT_ONCE_MS = 900;

describe("PyVISA (pyvisa-py) as a client", () => {
  afterEach(killAll);
  after(() => assertSocketsClosed(socketsAtStart));

  interopTest("SRS-185 query, write then read, and query_ascii_values", pyvisa, async (python) => {
    const commands: string[] = [];
    await withServer({ handler: instrument(commands) }, async (server) => {
      assert.deepEqual(await runPyVisa(python, "basic", server.port!), [
        ["query", IDN],
        ["read", "+1.23450E+00"],
        ["ascii", [1.5, -2.25, 0.003, 42]],
      ]);
      assert.deepEqual(commands, ["*IDN?", "CONF:VOLT 10", "MEAS:VOLT?", "VALUES?"]);
    });
  });

  interopTest(
    "SRS-186 query_binary_values of float32 and float64 blocks with LF and CR bytes inside",
    pyvisa,
    async (python) => {
      // The blocks hold what they are meant to test.
      for (const { bytes } of [float32, float64]) {
        assert.ok(bytes.includes(0x0a) && bytes.includes(0x0d) && bytes.at(-1) === 0x0a);
      }
      const commands: string[] = [];
      await withServer({ handler: instrument(commands) }, async (server) => {
        assert.deepEqual(await runPyVisa(python, "binary", server.port!), [
          ["float32", float32.values],
          ["float64", float64.values],
          ["query", IDN],
        ]);
        assert.deepEqual(commands, ["CURVE32?", "CURVE64?", "*IDN?"]);
      });
    },
  );

  interopTest(
    "SRS-187 after a query times out, a ping fence drops its late answer and the next query gets its own",
    pyvisa,
    async (python) => {
      const commands: string[] = [];
      const slow = deferred();
      await withServer({ handler: instrument(commands, slow.promise) }, async (server) => {
        const driver = spawnPyVisa(python, "timeout", server.port!);
        // The answer comes only after PyVISA has given up on it.
        await driver.waitFor(/"timeout"/);
        slow.resolve();
        assert.deepEqual(await transcript(driver), [
          ["timeout", true],
          ["dropped", ["late"]],
          ["query", IDN],
        ]);
        assert.deepEqual(commands, ["SLOW?", "*IDN?"]);
      });
    },
  );

  interopTest(
    "SRS-188 50 sessions close without disconnect: each is served, and the 51st at once",
    pyvisa,
    async (python) => {
      const commands: string[] = [];
      await withServer({ handler: instrument(commands) }, async (server) => {
        const [answers, last, ms] = await runPyVisa(python, "sessions", server.port!);
        const sessions = Array.from({ length: 50 }, (_, n) => `session ${n}`);
        assert.deepEqual(answers, ["answers", sessions]);
        assert.deepEqual(last, ["last", "session 50"]);
        assert.ok((ms[1] as number) < AT_ONCE_MS, `the 51st session took ${ms[1]} ms`);
        assert.equal(server.stats.connections, 51);
      });
    },
  );

  interopTest(
    "SRS-189 a second session waits its turn and is served as soon as the first closes",
    pyvisa,
    async (python) => {
      const commands: string[] = [];
      await withServer({ handler: instrument(commands) }, async (server) => {
        const driver = spawnPyVisa(python, "turn", server.port!);
        await driver.waitFor(/"written"/);
        await waitUntil(() => server.waiting === 1, "the second session waiting");
        driver.child.stdin!.end("go\n");
        const [first1, written, first2, second, ms] = await transcript(driver);
        assert.deepEqual([first1, written, first2, second], [
          ["first", "first 1"],
          ["second", "written"],
          ["first", "first 2"],
          ["second", "second"],
        ]);
        assert.ok((ms[1] as number) < AT_ONCE_MS, `the second session took ${ms[1]} ms`);
        // The second session's command, sent first, ran after all of the first's.
        assert.deepEqual(commands, ["FIRST 1", "FIRST 2", "SECOND"]);
      });
    },
  );

  const terminations: [string, Partial<ServeOptions>, string][] = [
    ["CR LF", { readTerminator: "any", writeTerminator: "\r\n" }, "crlf"],
    ["CR", { readTerminator: "\r", writeTerminator: "\r" }, "cr"],
  ];
  for (const [name, options, termination] of terminations) {
    interopTest(
      `SRS-190 ${name} terminations both ways (readTerminator ${
        JSON.stringify(options.readTerminator)
      }): one command per line, nothing left over`,
      pyvisa,
      async (python) => {
        const commands: string[] = [];
        await withServer({ handler: instrument(commands), ...options }, async (server) => {
          const port = server.port!;
          assert.deepEqual(
            await runPyVisa(python, "terminations", port, termination, termination),
            [
              ["query", IDN],
              ["query", "+1.23450E+00"],
            ],
          );
          assert.deepEqual(commands, ["*IDN?", "MEAS:VOLT?"]);
        });
      },
    );
  }
});
