// The mock served over sockets: mock(), the CLI's mock and record, record -> mock round
// trips, the core's independence from the yaml package, and PyVISA as a client.

import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import { DefinitionError, loadDefinition, mock, parseDefinition, record } from "./mock.ts";
import type { Recorder } from "./mock.ts";
import { parseDefinition as parseChecked } from "./_mock/definition.ts";
import {
  assertSocketsClosed,
  captureLogger,
  openSockets,
  RawClient,
  spawnScript,
  Subprocess,
} from "./test_util.ts";

const baseline = openSockets();
const ROOT = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(ROOT, "cli.ts");
const DEVICES = path.join(ROOT, "testdata/mock/devices.yaml");
const CHANNELS = path.join(ROOT, "testdata/mock/channels.yaml");

/** Sends `text` on a plain socket and returns every byte the server sent until it closed. */
function exchangeBytes(port: number, text: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const socket = net.connect({ port, host: "127.0.0.1" }, () => socket.write(text));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(new Uint8Array(chunks.flatMap((chunk) => [...chunk]))));
  });
}

function temporary(name: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "oneline-mock-"));
  return path.join(directory, name);
}

/** Starts the CLI and waits for its "listening on" line; returns the process and port. */
async function startCli(args: string[]): Promise<{ cli: Subprocess; port: number }> {
  const cli = spawnScript(CLI, args);
  const [, port] = await cli.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(port) };
}

describe("mock server", () => {
  after(() => assertSocketsClosed(baseline));

  test("SRS-175 mock() serves a device; its state outlives a client; built-ins still answer", async () => {
    await using server = await mock(await loadDefinition(DEVICES), {
      port: 0,
      logger: null,
      device: "device 1",
    });
    const first = await connect({ port: server.port });
    assert.equal(await first.request("?F"), "250.00");
    assert.equal(await first.request("!F 99.50"), "DONE");
    assert.deepEqual(await first.query("?F;?O;!O 1"), ["99.50", "0", "DONE"]);
    await first.disconnect();
    await using second = await connect({ port: server.port });
    assert.equal(await second.request("?F"), "99.50");
    assert.equal(await second.request("?O"), "1");
    assert.equal(await second.request("ping"), "pong");
    assert.deepEqual(await second.query("*CLS"), []);
  });

  test("SRS-175 a device that is not named among several, or does not exist, is a RangeError", async () => {
    const definition = await loadDefinition(DEVICES);
    await assert.rejects(
      mock(definition, { port: 0, logger: null }),
      new RangeError(
        `${DEVICES} has 5 devices: "device 1", "device 2", "device 3", "device 4", "device 5"; ` +
          "name one to serve",
      ),
    );
    await assert.rejects(
      mock(definition, { port: 0, logger: null, device: "device 9" }),
      RangeError,
    );
    await assert.rejects(mock("spec: '1.1'\ndevices: [x]\n", { port: 0 }), DefinitionError);
  });

  test("SRS-174 query terminators: CRLF ends a message, as LF does; a message gathers to ;LF", async () => {
    const definition = parseDefinition(`spec: "1.1"
devices:
  crlf:
    eom:
      TCPIP SOCKET: {q: "\\r\\n", r: "\\n"}
    error: ERR
    dialogues:
      - {q: "*IDN?", r: "ACME"}
  semicolon:
    eom:
      TCPIP SOCKET: {q: ";\\n", r: "\\n"}
    delimiter: ""
    error: ERR
    dialogues:
      - {q: "*IDN?", r: "ACME"}
      - {q: "A\\nB", r: "two lines"}
`);
    await using crlf = await mock(definition, { port: 0, logger: null, device: "crlf" });
    let client = await RawClient.connect(crlf.port!);
    try {
      // The CR before LF is the terminator's, so the built-ins answer to CRLF too.
      client.write("*IDN?\r\n*IDN?\nping\r\n*IDN?\r\r\n");
      assert.deepEqual(await client.readLines(4), ["ACME", "ACME", "pong", "ERR"]);
    } finally {
      client.destroy();
    }
    await using semicolon = await mock(definition, { port: 0, logger: null, device: "semicolon" });
    client = await RawClient.connect(semicolon.port!);
    try {
      // pyvisa-sim gathers what is written until the terminator.
      client.write("*IDN?;\nA\nB;\n*IDN?\nping\n");
      assert.deepEqual(await client.readLines(3), ["ACME", "two lines", "pong"]);
    } finally {
      client.destroy();
    }
  });

  test("SRS-181 answers go out as their bytes, then the device's response terminator", async () => {
    await using binary = await mock(
      await loadDefinition(path.join(ROOT, "testdata/mock/bytes.yaml")),
      { port: 0, logger: null },
    );
    assert.deepEqual(
      await exchangeBytes(binary.port!, "RAW?\r\nTWO?\r\nQUIET\r\ndisconnect\r\n"),
      new Uint8Array([
        0xaa,
        0x55,
        0x00,
        0x02,
        0x0a,
        ...new TextEncoder().encode("first\nsecond\n"),
      ]),
    );
    const definition = (q: string, r: string) =>
      `spec: "1.1"
devices:
  d:
    eom:
      TCPIP SOCKET: {q: "${q}", r: "${r}"}
    error: ERR
    dialogues:
      - {q: "A?", r: "a"}
`;
    await using crlf = await mock(definition("\\n", "\\r\\n"), { port: 0, logger: null });
    assert.equal(
      new TextDecoder().decode(await exchangeBytes(crlf.port!, "A?\nping\ndisconnect\n")),
      "a\r\npong\r\n",
    );
    await using cr = await mock(definition("\\r", "\\r"), { port: 0, logger: null });
    assert.equal(
      new TextDecoder().decode(await exchangeBytes(cr.port!, "A?\rA?\nA?\rping\rdisconnect\r")),
      "a\rERR\rpong\r", // "A?\nA?" is one command, which the device does not know
    );
  });

  test("SRS-171 a broken RANDOM is logged where it is defined, and answered as an unknown command", async () => {
    const logger = captureLogger();
    await using server = await mock(await loadDefinition(DEVICES), {
      port: 0,
      logger,
      device: "device 5",
      random: () => 0.5,
    });
    await using client = await connect({ port: server.port });
    assert.equal(await client.request("MEAS?"), "1.750");
    assert.deepEqual(await client.query("BAD:TWO?"), []);
    assert.equal(await client.request("SYST:ERR?"), '-100,"Command error"');
    assert.deepEqual(logger.errors.map((e) => e.message), [
      `device 5: devices.device 5.dialogues[3] (${DEVICES} line 170): cannot build the answer`,
    ]);
  });
});

describe("mock and record on the command line", () => {
  after(() => assertSocketsClosed(baseline));

  test("SRS-176 mock FILE --device serves it and prints where it listens, commands and (-v) answers", async () => {
    const { cli, port } = await startCli(["mock", CHANNELS, "--device", "scope", "-p", "0", "-v"]);
    try {
      const client = await connect({ port });
      assert.equal(await client.request("C2:COUP AC"), "OK");
      assert.equal(await client.request("C2:COUP?"), "AC");
      await client.shutdown();
      const run = await cli.done;
      assert.equal(run.code, 0);
      assert.match(
        run.stdout,
        /^listening on 127\.0\.0\.1:\d+\nclient 1 \(127\.0\.0\.1:\d+\) connected\n< ping\n< C2:COUP AC\n> OK\n< ping\n< C2:COUP\?\n> AC\n/,
      );
    } finally {
      cli.child.kill();
    }
  });

  test("SRS-176 a bad file: one line naming file, line and key, exit 2; several devices: their names", async () => {
    const bad = temporary("bad.yaml");
    fs.writeFileSync(bad, 'spec: "1.1"\ndevices:\n  meter:\n    dialogs: []\n');
    let run = await spawnScript(CLI, ["mock", bad, "--port", "0"]).done;
    assert.deepEqual([run.code, run.stdout], [2, ""]);
    assert.equal(
      run.stderr,
      `socket-oneline: ${bad}:4: devices.meter.dialogs: unknown key (did you mean dialogues?); ` +
        "expected one of eom, error, dialogues, properties, channels, delimiter, bases\n",
    );
    fs.writeFileSync(bad, "spec: [\n");
    run = await spawnScript(CLI, ["mock", bad]).done;
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      new RegExp(`^socket-oneline: ${bad}:\\d+: YAML: not valid YAML: [^\\n]+\\n$`),
    );
    run = await spawnScript(CLI, ["mock", `${bad}.missing`]).done;
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^socket-oneline: cannot read .*bad\.yaml\.missing: [^\n]+\n$/);
    run = await spawnScript(CLI, ["mock", DEVICES, "--port", "0"]).done;
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `socket-oneline: ${DEVICES} has 5 devices: "device 1", "device 2", "device 3", "device 4", ` +
        `"device 5"; name one to serve\nRun 'socket-oneline mock --help' for usage.\n`,
    );
  });

  test("SRS-178 record on the command line: a proxy that writes a file mock serves", async () => {
    await using instrument = await mock(await loadDefinition(DEVICES), {
      port: 0,
      logger: null,
      device: "device 2",
    });
    const out = temporary("recorded.yaml");
    const recorder = await startCli([
      "record",
      "--to",
      `127.0.0.1:${instrument.port}`,
      "--port",
      "0",
      "--out",
      out,
    ]);
    try {
      const client = await connect({ port: recorder.port });
      assert.equal(await client.request("*IDN?"), "ONELINE,PSU-2,0002,2.1");
      assert.equal(await client.request("RANG?"), "LOW");
      await client.disconnect();
    } finally {
      // By pid: Deno's child.kill() reports the signal as the cause of any exit.
      process.kill(recorder.cli.child.pid!, "SIGINT");
    }
    const run = await recorder.cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^listening on 127\.0\.0\.1:\d+, recording 127\.0\.0\.1:\d+ to /);
    const replay = await startCli(["mock", out, "--port", "0", "--quiet"]);
    try {
      const client = await connect({ port: replay.port });
      assert.equal(await client.request("*IDN?"), "ONELINE,PSU-2,0002,2.1");
      assert.equal(await client.request("RANG?"), "LOW");
      await client.shutdown();
      assert.equal((await replay.cli.done).code, 0);
    } finally {
      replay.cli.child.kill();
    }
  });
});

describe("record", () => {
  after(() => assertSocketsClosed(baseline));

  test("SRS-177 record -> mock: the file is complete after every exchange, and answers as the instrument did", async () => {
    await using instrument = await mock(await loadDefinition(DEVICES), {
      port: 0,
      logger: null,
      device: "device 4",
    });
    const out = temporary("recorded.yaml");
    const recorder: Recorder = await record({
      to: { hostname: "127.0.0.1", port: instrument.port! },
      listen: { hostname: "127.0.0.1", port: 0 },
      out,
      logger: null,
    });
    const exchanges: [string, string[]][] = [
      ["*IDN?", ["ONELINE,PSU-4,0004,2.1"]],
      ["VOLT 3.000", []],
      ["VOLT?", ["+3.00000000E+00"]],
      ["NOPE", []],
      ["SYST:ERR?", ['-100,"Command error"']],
      ["SYST:ERR?", ['0,"No error"']],
    ];
    try {
      const client = await connect({ port: (recorder.addr as { port: number }).port });
      for (const [command, answer] of exchanges) {
        assert.deepEqual(await client.query(command), answer, command);
        await recorder.flushed();
        // Complete after every exchange: the file parses, and holds this command.
        const device = parseChecked(fs.readFileSync(out, "utf8"), out).devices.get("recorded")!;
        const queries = device.dialogues.map((d) => new TextDecoder().decode(d.query));
        assert.ok(queries.includes(command), `${command} in ${queries}`);
      }
      await client.disconnect();
    } finally {
      await recorder.close();
    }
    const text = fs.readFileSync(out, "utf8");
    assert.match(
      text,
      /\n {6}# also answered "0,\\"No error\\"" \(once\)\n {6}- q: "SYST:ERR\?"\n/,
    );
    assert.equal(fs.readdirSync(path.dirname(out)).length, 1, "no temporary file left");
    await using replay = await mock(await loadDefinition(out), { port: 0, logger: null });
    await using client = await connect({ port: replay.port });
    for (const [command, answer] of exchanges.slice(0, -1)) {
      assert.deepEqual(await client.query(command), answer, command);
    }
    // The first answer is the one replayed; the instrument's state is not.
    assert.deepEqual(await client.query("SYST:ERR?"), ['-100,"Command error"']);
    assert.deepEqual(await client.query("VOLT 5.000"), []);
    assert.deepEqual(await client.query("VOLT?"), ["+3.00000000E+00"]);
  });
});

describe("packaging", () => {
  test("SRS-179 importing mod.ts loads no dependency: its import graph is relative files and node: modules", () => {
    const seen = new Set<string>();
    const outside: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = fs.readFileSync(file, "utf8");
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms),
        ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
      ].map((match) => match[1]);
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) visit(path.resolve(path.dirname(file), specifier));
        else if (!specifier.startsWith("node:")) {
          outside.push(`${path.relative(ROOT, file)}: ${specifier}`);
        }
      }
    };
    visit(path.join(ROOT, "mod.ts"));
    assert.deepEqual(outside, []);
    assert.ok(
      seen.has(path.join(ROOT, "server.ts")) && seen.has(path.join(ROOT, "_transport/node.ts")),
    );
    assert.ok(![...seen].some((file) => file.includes("_mock")), "mod.ts reaches no _mock file");
  });
});

const PYVISA = "/usr/bin/python3";
const hasPyvisa =
  spawnSync(PYVISA, ["-c", "import pyvisa, pyvisa_py"], { stdio: "ignore" }).status === 0;

describe("PyVISA against the mock", () => {
  after(() => assertSocketsClosed(baseline));

  test(
    "SRS-180 PyVISA (pyvisa-py, a SOCKET resource): query, write, a read that times out, a status register, an error queue",
    { skip: hasPyvisa ? false : `${PYVISA} cannot import pyvisa and pyvisa_py` },
    async () => {
      const definition = `spec: "1.1"
devices:
  supply:
    eom:
      TCPIP SOCKET: {q: "\\n", r: "\\n"}
    dialogues:
      - {q: "*IDN?", r: "ONELINE,PSU-9,0009,1.0"}
    error:
      status_register:
        - {q: "*ESR?", command_error: 32}
      error_queue:
        - {q: "SYST:ERR?", default: "0,No error", command_error: "-100,Command error"}
    properties:
      volts:
        default: 1.0
        getter: {q: "VOLT?", r: "{:.3f}"}
        setter: {q: "VOLT {:.3f}"}
        specs: {type: float, min: 0, max: 10}
`;
      await using server = await mock(definition, { port: 0, logger: null });
      const script = `
import sys, pyvisa
from pyvisa.constants import StatusCode
rm = pyvisa.ResourceManager("@py")
inst = rm.open_resource("TCPIP0::127.0.0.1::%s::SOCKET" % sys.argv[1],
                        read_termination="\\n", write_termination="\\n", timeout=5000)
print(inst.query("*IDN?"))
inst.write("VOLT 2.500")
print(inst.query("VOLT?"))
inst.timeout = 300
try:
    inst.read()
    print("read answered")
except pyvisa.errors.VisaIOError as error:
    print("timeout" if error.error_code == StatusCode.error_timeout else error)
inst.timeout = 5000
inst.write("VOLT 99.000")
inst.write("BOGUS")
print(inst.query("*ESR?"))
print(inst.query("*ESR?"))
print(inst.query("SYST:ERR?"))
print(inst.query("SYST:ERR?"))
print(inst.query("SYST:ERR?"))
inst.close()
rm.close()
`;
      const python = new Subprocess(PYVISA, ["-c", script, String(server.port)]);
      const run = await python.done;
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.split("\n"), [
        "ONELINE,PSU-9,0009,1.0",
        "2.500",
        "timeout",
        "32",
        "0",
        "-100,Command error",
        "-100,Command error",
        "0,No error",
        "",
      ]);
    },
  );
});
