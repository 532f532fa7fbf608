// The recording's file: what the proxy saw, written so that the mock answers the same bytes.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseDefinition } from "./definition.ts";
import { MockDevice } from "./device.ts";
import { MAX_VARIANTS, quote, Recording } from "./recording.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/** Records `exchanges` (a client that waits for each answer), and the device the file makes. */
function replay(exchanges: [Uint8Array, Uint8Array[]][]) {
  const recording = new Recording("instrument:5025");
  for (const [command, answer] of exchanges) {
    recording.fromClient(new Uint8Array([...command, 0x0a]));
    for (const line of answer) recording.fromInstrument(new Uint8Array([...line, 0x0a]));
  }
  recording.endSession();
  const yaml = recording.toYaml();
  return { yaml, device: new MockDevice(parseDefinition(yaml).devices.get("recorded")!) };
}

describe("recording", () => {
  test("SRS-177 any bytes survive the file: quotes, backslashes, BYTES(, spaces, ), non-UTF-8", () => {
    const awkward = [
      'say "hi"',
      "C:\\new\\rate",
      "BYTES(not raw)",
      "  padded  ",
      "null_response",
      "a;b",
      "µs ✓ 𝄞",
      "tab\there",
      "",
    ].map(bytes);
    awkward.push(new Uint8Array([0xaa, 0x29, 0x55, 0x5c, 0x6e, 0x00, 0xff]));
    awkward.push(new Uint8Array([0x29]));
    const exchanges = awkward.map((line, i): [Uint8Array, Uint8Array[]] => [
      new Uint8Array([...bytes(`Q${i} `), ...line]),
      [line],
    ]);
    const { device } = replay(exchanges);
    for (const [command, answer] of exchanges) assert.deepEqual(device.handle(command), answer);
  });

  test("SRS-177 several answer lines are one answer; no answer is a dialogue without r", () => {
    const { yaml, device } = replay([
      [bytes("LIST?"), [bytes("one"), bytes("two")]],
      [bytes("*RST"), []],
    ]);
    assert.deepEqual(device.handle(bytes("LIST?")), [bytes("one\ntwo")]);
    assert.deepEqual(device.handle(bytes("*RST")), []);
    assert.match(yaml, /- q: "\*RST"\n$/);
  });

  test("SRS-177 CRLF on both sides becomes the terminators", () => {
    const { yaml, device } = replay([[bytes("*IDN?\r"), [bytes("ACME\r")]]]);
    assert.match(yaml, /TCPIP SOCKET:\n {8}q: "\\r\\n"\n {8}r: "\\r\\n"\n/);
    assert.deepEqual(device.handle(bytes("*IDN?")), [bytes("ACME")]);
  });

  test("SRS-177 a later different answer is kept as a comment, with how often; the first is replayed", () => {
    const recording = new Recording("instrument:5025");
    const ask = (command: string, answer: string) => {
      recording.fromClient(bytes(`${command}\n`));
      recording.fromInstrument(bytes(`${answer}\n`));
    };
    ask("READ?", "1.0");
    ask("READ?", "1.1");
    ask("READ?", "1.1");
    ask("READ?", "1.0");
    for (let i = 0; i < MAX_VARIANTS + 3; i++) ask("NOISE?", String(i));
    recording.endSession();
    const yaml = recording.toYaml();
    assert.match(yaml, /# also answered "1\.1" \(2 times\)\n {6}- q: "READ\?"\n {8}r: "1\.0"\n/);
    assert.match(yaml, /# and 2 times with other answers\n {6}- q: "NOISE\?"\n {8}r: "0"\n/);
  });

  test("SRS-177 a ping fence ends an answer at its pong; built-ins are not recorded", () => {
    const recording = new Recording("instrument:5025");
    recording.fromClient(bytes("ping\nLIST?\nping\n"));
    recording.fromInstrument(bytes("pong\na\nb\npong\n"));
    recording.fromClient(bytes("NEXT\nping\n"));
    recording.fromInstrument(bytes("pong\n"));
    recording.fromClient(bytes("disconnect\n"));
    recording.endSession();
    const device = new MockDevice(parseDefinition(recording.toYaml()).devices.get("recorded")!);
    assert.deepEqual(device.handle(bytes("LIST?")), [bytes("a\nb")]);
    assert.deepEqual(device.handle(bytes("NEXT")), []);
    assert.doesNotMatch(recording.toYaml(), /"ping"|"disconnect"/);
  });

  test("SRS-177 what cannot be replayed is said in comments: unsolicited lines, RANDOM, cut lines", () => {
    const recording = new Recording("instrument:5025");
    recording.fromInstrument(bytes("HELLO\n"));
    recording.fromClient(bytes("GEN?\n"));
    recording.fromInstrument(bytes("RANDOM 42\npartial"));
    recording.endSession();
    const yaml = recording.toYaml();
    assert.match(
      yaml,
      /# Sent by the instrument before any command \(not replayed\):\n# {3}"HELLO"\n/,
    );
    assert.match(yaml, /# 1 unfinished line\(s\), at a disconnect, dropped\n/);
    assert.match(yaml, /- q: "GEN\?"\n {8}# answered "RANDOM 42": not replayable/);
    parseDefinition(yaml);
  });

  test("SRS-177 quote() writes text as it is where it can", () => {
    assert.equal(quote(bytes("µs")), '"µs"');
    assert.equal(quote(bytes(" x")), '"BYTES( x)"');
    assert.equal(quote(new Uint8Array([0x5c, 0x72])), '"BYTES(\\\\)BYTES(r)"');
  });
});
