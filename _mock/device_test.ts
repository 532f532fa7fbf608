// The device state machine, on definitions written for these tests
// (testdata/mock/): answers and state as pyvisa-sim gives them for the same file.

import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseDefinition } from "./definition.ts";
import { MockDevice } from "./device.ts";
import type { DeviceOptions } from "./device.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function load(name: string) {
  const file = `testdata/mock/${name}`;
  return parseDefinition(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"), file);
}

/** A device of a test file, asked in text: each query's answers, decoded. */
function device(file: string, name: string, options: DeviceOptions = {}) {
  const mock = new MockDevice(load(file).devices.get(name)!, options);
  return {
    ask: (query: string) =>
      mock.handle(encoder.encode(query)).map((answer) => decoder.decode(answer)),
    raw: (query: Uint8Array) => mock.handle(query),
  };
}

/** Asks each query in turn and checks its answers. */
function exchange(ask: (query: string) => string[], steps: [string, string[]][]): void {
  for (const [query, answers] of steps) assert.deepEqual(ask(query), answers, query);
}

describe("mock device", () => {
  test("SRS-165 device 1: dialogues, getters, setters with r and e, specs, the error answer", () => {
    const { ask } = device("devices.yaml", "device 1");
    exchange(ask, [
      ["?ID", ["Oneline Labs Signal Source #0042"]],
      ["*CLS", []], // a dialogue without r
      ["!ZERO", ["DONE"]],
      ["?F", ["250.00"]],
      ["!F 10.3", ["DONE"]],
      ["?F", ["10.30"]],
      ["!F 5.0", ["F_RANGE"]], // out of the specs: the setter's e
      ["!F 5", ["ERR"]], // {:.2f} wants two digits: no setter matches
      ["?F", ["10.30"]],
      ["?L", ["0.500"]],
      ["!L 7.0", ["ERR"]], // out of the specs, no e: the device's error
      ["!O 1", ["DONE"]],
      ["?O", ["1"]],
      ["!O 3", ["ERR"]], // not a valid value
      ["?S", ["SINE"]],
      ["!S RAMP", ["DONE"]],
      ["?S", ["RAMP"]],
      ["!S NOISE", ["ERR"]],
      ["BOGUS", ["ERR"]],
      ["?F;?O;BOGUS", ["10.30", "1", "ERR"]], // several queries in one message
      ["?F;", ["10.30", "ERR"]], // the empty query after ; is not understood
    ]);
  });

  test("SRS-166 device 2: a status register sums the bits of errors until read, no error answer", () => {
    const { ask } = device("devices.yaml", "device 2");
    exchange(ask, [
      ["*ESR?", ["0"]],
      ["FAKE", []],
      ["*ESR?", ["32"]],
      ["*ESR?", ["0"]], // reading clears it
      ["VOLT?", ["+2.00000000E+00"]],
      ["VOLT 3.500", []],
      ["VOLT?", ["+3.50000000E+00"]],
      ["*ESR?", ["0"]],
      ["VOLT 20.000", []], // out of the specs: a command error
      ["VOLT 2", []], // no match: a command error too
      ["*ESR?", ["32"]],
      ["RANG?", ["LOW"]],
      ["RANG HIGH", []],
      ["RANG?", ["HIGH"]],
      ["RANG MID", []],
      ["*ESR?", ["32"]],
      ["*RST", []],
    ]);
  });

  test("SRS-166 device 3: an error answer and a register; an untyped value keeps its parsed type", () => {
    const problems: string[] = [];
    const { ask } = device("devices.yaml", "device 3", {
      onProblem: (where, error) => problems.push(`${where}: ${(error as Error).message}`),
    });
    exchange(ask, [
      ["FAKE", ["BAD_COMMAND"]],
      ["*ESR?", ["32"]],
      ["VOLT 20.000", ["BAD_COMMAND"]],
      ["MODE?", ["LOCAL"]],
      ["MODE LOCAL", ["BAD_COMMAND"]], // a property without a setter
      // The default is the text "0", which {:d} cannot format: pyvisa-sim raises; the mock
      // answers as to a command not understood, and tells why.
      ["OUTP?", ["BAD_COMMAND"]],
      ["OUTP 1", []],
      ["OUTP?", ["1"]], // the setter parsed an int
    ]);
    assert.deepEqual(problems, [
      "devices.device 3.properties.enabled.getter (testdata/mock/devices.yaml line 137): " +
      "Unknown format code 'd' for object of type 'str'",
    ]);
  });

  test("SRS-167 device 4: an error queue answers its oldest error, then its default", () => {
    const { ask } = device("devices.yaml", "device 4");
    exchange(ask, [
      ["SYST:ERR?", ['0,"No error"']],
      ["FAKE", []],
      ["VOLT 99.000", []],
      ["SYST:ERR?", ['-100,"Command error"']],
      ["SYST:ERR?", ['-100,"Command error"']],
      ["SYST:ERR?", ['0,"No error"']],
    ]);
  });

  test("SRS-171 device 5: RANDOM readings; a malformed directive is a problem, not a crash", () => {
    const problems: string[] = [];
    const draws = [0, 0.5, 0.25, 0.75];
    let next = 0;
    const { ask } = device("devices.yaml", "device 5", {
      random: () => draws[next++ % draws.length],
      onProblem: (where) => problems.push(where),
    });
    exchange(ask, [
      ["MEAS?", ["1.000"]],
      ["SCAN?", ["5.0, 2.5, 7.5, 0.0"]],
      ["VOLT?", ["V=+0.00, V=-2.50"]], // a getter's RANDOM, formatted with its text
      ["BAD:OUTSIDE?", []],
      ["BAD:TWO?", []],
      ["SYST:ERR?", ['-100,"Command error"']],
      ["SYST:ERR?", ['-100,"Command error"']],
      ["SYST:ERR?", ['0,"No error"']],
    ]);
    assert.deepEqual(problems.map((where) => where.replace(/ \(.*/, "")), [
      "devices.device 5.dialogues[2]",
      "devices.device 5.dialogues[3]",
    ]);
  });

  test("SRS-172 channels selected by a property: SEL 2;GAIN? reads the newly selected channel", () => {
    const { ask } = device("channels.yaml", "switcher");
    exchange(ask, [
      ["SEL?", ["A"]],
      ["GAIN?", ["2.0"]],
      ["NAME?", ["input"]],
      ["GAIN 5.5", ["OK"]],
      ["GAIN?", ["5.5"]],
      ["SEL B;GAIN?", ["2.0"]], // each channel keeps its own value
      ["GAIN 11.0", ["ERR"]],
      ["SEL A;GAIN?", ["5.5"]],
      ["SEL C;GAIN?", ["ERR"]], // no channel C: nothing matches
      ["*IDN?", ["ONELINE,SW-4,0005,1.0"]],
    ]);
  });

  test("SRS-172 channels named in the query: {ch_id} in dialogues, getters and setters", () => {
    const { ask } = device("channels.yaml", "scope");
    exchange(ask, [
      ["C1:OFFS?", ["+0.000E+00"]],
      ["C2:OFFS 1.25", []],
      ["C2:OFFS?", ["+1.250E+00"]],
      ["C1:OFFS?", ["+0.000E+00"]],
      ["C3:ID?", ["analog"]],
      ["C4:ID?", []],
      ["ERR?", ["-113"]],
      ["C2:OFFS 9.00", []], // out of the specs, no e: the device's error
      ["ERR?", ["-113"]],
      ["C1:COUP AC", ["OK"]],
      ["C1:COUP?", ["AC"]],
      ["C3:COUP?", ["DC"]],
      ["C1:COUP XX", ["BAD_COUPLING"]],
      ["ERR?", ["0"]],
    ]);
  });

  test("SRS-170 BYTES in queries and answers; an answer with LF; null_response; no delimiter", () => {
    const { ask, raw } = device("bytes.yaml", "binary");
    assert.deepEqual(raw(new Uint8Array([0x53, 0x54, 0x41, 0x54, 0x55, 0x53, 0x20, 1, 0x7f])), [
      encoder.encode("ok"),
    ]);
    assert.deepEqual(raw(encoder.encode("RAW?")), [new Uint8Array([0xaa, 0x55, 0x00, 0x02])]);
    exchange(ask, [
      ["TWO?", ["first\nsecond"]],
      ["QUIET", []],
      ["A;B", ["whole line"]], // delimiter "": the line is one query
      ["A", ["ERROR"]],
    ]);
  });

  test("SRS-165 state lives in the device: a second device of one definition starts afresh", () => {
    const definition = load("devices.yaml").devices.get("device 1")!;
    const first = new MockDevice(definition);
    first.handle(encoder.encode("!F 99.00"));
    assert.deepEqual(first.handle(encoder.encode("?F")), [encoder.encode("99.00")]);
    assert.deepEqual(new MockDevice(definition).handle(encoder.encode("?F")), [
      encoder.encode("250.00"),
    ]);
  });
});
