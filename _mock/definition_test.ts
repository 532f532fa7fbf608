// Definition files that are not valid YAML or not valid definitions: a typed
// error naming the file, the line and the key, and what was expected.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DefinitionError, parseDefinition } from "./definition.ts";

const HEAD = 'spec: "1.1"\ndevices:\n  meter:\n';

/** Parses `text` as bad.yaml and returns the error's message (failing if none). */
function failure(text: string): string {
  try {
    parseDefinition(text, "bad.yaml");
  } catch (error) {
    assert.ok(error instanceof DefinitionError, String(error));
    assert.equal(error.file, "bad.yaml");
    assert.doesNotMatch(error.message, /\n/);
    assert.equal(error.message, `bad.yaml:${error.line}: ${error.key}: ${error.expected}`);
    return error.message;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

describe("definition files", () => {
  test("SRS-173 text that is not YAML: the line and the parser's reason", () => {
    assert.equal(
      failure("spec: '1.1'\ndevices: [a\n"),
      "bad.yaml:3: YAML: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    );
    assert.equal(
      failure("spec: '1.1'\nspec: '1.0'\n"),
      "bad.yaml:2: YAML: not valid YAML: Map keys must be unique",
    );
    assert.ok(failure("a: b: c\n").startsWith("bad.yaml:1: YAML: not valid YAML: "));
  });

  test("SRS-173 the spec version: missing, malformed, newer than 1.1", () => {
    assert.equal(failure("devices: {}\n"), "bad.yaml:1: (file): needs the key spec");
    assert.equal(failure("- a\n"), "bad.yaml:1: (file): expected a mapping with spec and devices");
    assert.match(
      failure('spec: "one"\ndevices: {a: {}}\n'),
      /^bad.yaml:1: spec: expected a version X.Y/,
    );
    for (const version of ["1.2", "2.0", "0.9", "1.1.1"]) {
      assert.equal(
        failure(`spec: "${version}"\ndevices: {a: {}}\n`),
        `bad.yaml:1: spec: expected spec version 1.x up to 1.1, got "${version}"`,
      );
    }
    for (const version of ["1", "1.0", "1.1"]) {
      parseDefinition(`spec: "${version}"\ndevices: {a: {}}\n`);
    }
  });

  test("SRS-173 every key checked, with the closest known key suggested", () => {
    const cases: [string, string][] = [
      [
        "    dialogs: []\n",
        "bad.yaml:4: devices.meter.dialogs: unknown key (did you mean dialogues?); " +
        "expected one of eom, error, dialogues, properties, channels, delimiter, bases",
      ],
      ["    dialogues:\n      - r: x\n", "bad.yaml:5: devices.meter.dialogues[0]: needs the key q"],
      [
        "    dialogues: {q: x}\n",
        "bad.yaml:4: devices.meter.dialogues: expected a list, got a mapping",
      ],
      [
        "    dialogues:\n      - q: [a]\n",
        "bad.yaml:5: devices.meter.dialogues[0].q: expected a text, got a list",
      ],
      [
        "    properties:\n      volts:\n        getter: {q: V?}\n",
        "bad.yaml:6: devices.meter.properties.volts.getter: needs the key r",
      ],
      [
        "    properties:\n      volts:\n        specs: {type: double}\n",
        'bad.yaml:6: devices.meter.properties.volts.specs.type: expected float, int or str, got "double"',
      ],
      [
        "    properties:\n      volts:\n        specs: {min: 1}\n",
        "bad.yaml:6: devices.meter.properties.volts.specs: needs the key type (float, int or str)",
      ],
      [
        "    properties:\n      volts:\n        default: 9\n        specs: {type: int, max: 5}\n",
        'bad.yaml:6: devices.meter.properties.volts.default: the default "9" does not meet the specs: ' +
        "9 is more than the maximum 5",
      ],
      [
        "    properties:\n      volts:\n        specs: {type: int, min: low}\n",
        'bad.yaml:6: devices.meter.properties.volts.specs.min: expected a int, got "low"',
      ],
      [
        "    properties:\n      volts:\n        default: 1\n        setter: {q: 'V {:n}'}\n",
        "bad.yaml:7: devices.meter.properties.volts.setter.q: n is not a valid type",
      ],
      [
        "    properties:\n      volts:\n        setter: {q: 'V'}\n",
        "bad.yaml:6: devices.meter.properties.volts.setter.q: a setter's q needs a value field ({} or {:FORMAT})",
      ],
      [
        '    dialogues:\n      - q: "BYTES(\\u20ac)"\n',
        'bad.yaml:5: devices.meter.dialogues[0].q: BYTES(…) holds "€" (U+20AC); only characters U+0000 to U+00FF are bytes',
      ],
      [
        "    eom:\n      TCPIP:\n        q: x\n        r: x\n",
        'bad.yaml:5: devices.meter.eom.TCPIP: expected "INTERFACE CLASS" such as "TCPIP SOCKET" ' +
        "(interfaces: asrl, gpib, gpib_vxi, pxi, rio, rsnrp, tcpip, usb, vxi, firewire, unknown)",
      ],
      [
        '    eom:\n      TCPIP SOCKET:\n        q: ";"\n        r: "\\n"\n',
        "bad.yaml:6: devices.meter.eom.TCPIP SOCKET.q: the mock reads lines: expected a query " +
        'terminator that ends with LF or CR, got ";"',
      ],
      [
        "    error:\n      status_register:\n        - {q: '*ESR?', command_error: lots}\n",
        "bad.yaml:6: devices.meter.error.status_register[0].command_error: expected an integer " +
        '(the bits this error sets), got "lots"',
      ],
      [
        "    error:\n      error_queue:\n        - {q: 'ERR?'}\n",
        "bad.yaml:6: devices.meter.error.error_queue[0]: needs the key default",
      ],
      [
        "    channels:\n      ch:\n        ids: [1]\n        can_select: false\n",
        'bad.yaml:7: devices.meter.channels.ch.can_select: expected True or False, got "false" ' +
        '(pyvisa-sim takes only "False", so spelt, as false)',
      ],
      [
        "    channels:\n      ch:\n        ids: [1]\n        can_select: False\n",
        "bad.yaml:7: devices.meter.channels.ch.can_select: with can_select False the device needs a " +
        "property selected_channel, whose value picks the channel",
      ],
      [
        "    channels:\n      ch:\n        ids: [1]\n        dialogues: [{q: 'C{n}?'}]\n",
        "bad.yaml:7: devices.meter.channels.ch.dialogues[0].q: a channel's query may hold {ch_id} " +
        "and no other field (field {n} names no positional argument (KeyError))",
      ],
      [
        "    bases: [x]\n",
        "bad.yaml:4: devices.meter.bases: is not supported (pyvisa-sim does not support it either)",
      ],
    ];
    for (const [body, message] of cases) assert.equal(failure(HEAD + body), message, body);
  });

  test("SRS-173 resources must name a device of the file", () => {
    assert.equal(
      failure(`${HEAD}    dialogues: []\nresources:\n  ASRL1::INSTR:\n    device: metre\n`),
      'bad.yaml:7: resources.ASRL1::INSTR.device: names no device of this file: "metre"',
    );
  });

  test("SRS-165 what pyvisa-sim reads: every scalar as text, spaces stripped, null_response", () => {
    const definition = parseDefinition(
      `${HEAD}    error: null_response\n    dialogues:\n      - {q: "  *IDN?  ", r: " ACME "}\n` +
        "      - {q: QUIET, r: null_response}\n",
    );
    const device = definition.devices.get("meter")!;
    assert.equal(device.error.commandError, undefined);
    assert.deepEqual(device.dialogues.map((d) => [new TextDecoder().decode(d.query), d.answer]), [
      ["*IDN?", "ACME"],
      ["QUIET", undefined],
    ]);
    assert.deepEqual(device.eom, { query: "\n", response: "\n" });
    assert.deepEqual(device.delimiter, new Uint8Array([0x3b]));
  });

  test("SRS-174 the socket's terminators: TCPIP SOCKET, else TCPIP INSTR, else LF", () => {
    const eom = (entries: string) =>
      parseDefinition(`${HEAD}    eom:\n${entries}`).devices.get("meter")!.eom;
    const entry = (name: string, q: string, r: string) =>
      `      ${name}:\n        q: "${q}"\n        r: "${r}"\n`;
    assert.deepEqual(eom(entry("ASRL INSTR", "\\r", "\\r")), { query: "\n", response: "\n" });
    assert.deepEqual(
      eom(entry("TCPIP INSTR", "\\r\\n", "\\r\\n") + entry("ASRL INSTR", "\\r", "\\r")),
      { query: "\r\n", response: "\r\n" },
    );
    assert.deepEqual(
      eom(entry("TCPIP INSTR", "\\r\\n", "\\r\\n") + entry("TCPIP SOCKET", "\\r", "\\n")),
      { query: "\r", response: "\n" },
    );
  });
});
