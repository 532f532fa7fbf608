// The module's error classes: one base for them all, each with its own name,
// message, fields and cause, and the family each belongs to.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as errors from "./errors.ts";
import * as mod from "./mod.ts";

const cause = new Error("the runtime's error");
const raw = new Uint8Array([0x31, 0xb0]);

// One of each class (InvalidResponseError for each reason), with the parents it must have
// besides OnelineError, then the name and the message each must have.
type ErrorClass = abstract new (...args: never[]) => Error;
const cases: [Error, ErrorClass[]][] = [
  [new errors.TimeoutError("no response within 100 ms", 100, { cause }), []],
  [new errors.ServerBusyError("127.0.0.1:5001", 2000, { cause }), [errors.TimeoutError]],
  [new errors.ConnectionClosedError("the server closed the connection", { cause }), []],
  [new errors.ConnectError("127.0.0.1:5001", "refused", { cause }), [errors.AddressError]],
  [new errors.ProtocolError('expected "pong", got "hello"', { cause }), []],
  [new errors.InvalidResponseError(raw, "decode", { cause }), [errors.ProtocolError]],
  [new errors.InvalidResponseError(raw, "too_long", { cause }), [errors.ProtocolError]],
  [new errors.BlockFormatError("not a block", raw, { cause }), [errors.ProtocolError]],
  [new errors.UnsolicitedResponseError("late"), []],
  [new errors.ListenError("/no/dir/x.sock", "no such directory", { cause }), [errors.AddressError]],
  [new errors.AddressInUseError("[::1]:80", { cause }), [errors.ListenError, errors.AddressError]],
  [new errors.HandlerFinishedError("context.raw"), []],
];
const names = [
  "TimeoutError",
  "ServerBusyError",
  "ConnectionClosedError",
  "ConnectError",
  "ProtocolError",
  "InvalidResponseError",
  "InvalidResponseError",
  "BlockFormatError",
  "UnsolicitedResponseError",
  "ListenError",
  "AddressInUseError",
  "HandlerFinishedError",
];
const messages = [
  "no response within 100 ms",
  "server at 127.0.0.1:5001 accepted the connection but did not answer ping within 2000 ms: " +
  "it is busy with another client (it serves one at a time), or it does not speak the oneline " +
  "protocol (for a device that does not answer ping, connect with handshake: false)",
  "the server closed the connection",
  "cannot connect to 127.0.0.1:5001: refused",
  'expected "pong", got "hello"',
  "an answer line is not UTF-8 (2 bytes, in error.raw): read it as bytes with requestBytes() " +
  "or recvLine()",
  "an answer line is longer than maxLineBytes (2); its first 2 bytes are in error.raw: " +
  "connect with a higher maxLineBytes",
  "not a block",
  'response "late" refused: its handler has finished, and the protocol forbids unsolicited ' +
  "responses",
  "cannot listen on /no/dir/x.sock: no such directory",
  "cannot listen on [::1]:80: address already in use",
  "context.raw is only available while the handler runs",
];

describe("errors", () => {
  test("SRS-253 every error class is a OnelineError, with its own name and message", () => {
    assert.deepEqual(cases.map(([error]) => error.name), names);
    assert.deepEqual(cases.map(([error]) => error.message), messages);
    for (const [error, parents] of cases) {
      const { name, message } = error;
      assert.ok(error instanceof errors.OnelineError, name);
      assert.ok(error instanceof Error, name);
      for (const parent of parents) assert.ok(error instanceof parent, `${name} < ${parent.name}`);
      assert.equal(String(error), `${name}: ${message}`);
      assert.ok(String(error.stack).startsWith(`${name}: ${message}\n`), name);
      // The name is the error's own, as before there was a base class.
      assert.deepEqual(Object.getOwnPropertyDescriptor(error, "name"), {
        value: name,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    // Every class is tested (the two bases are abstract), and the main module exports each.
    const tested = new Set<unknown>(cases.map(([error]) => error.constructor));
    const bases = new Set<unknown>([errors.OnelineError, errors.AddressError]);
    const untested = Object.values(errors).filter((value) =>
      !tested.has(value) && !bases.has(value)
    );
    assert.deepEqual(untested, []);
    for (const [key, value] of Object.entries(errors)) {
      assert.equal((mod as Record<string, unknown>)[key], value, key);
    }
  });

  test("SRS-253 a cause is kept; errors that have none get none", () => {
    for (const [error] of cases) {
      const { name } = error;
      const expected = name === "UnsolicitedResponseError" || name === "HandlerFinishedError"
        ? undefined
        : cause;
      assert.equal(error.cause, expected, name);
    }
    assert.equal("cause" in new errors.ProtocolError("no cause"), false);
  });

  test("SRS-253 the module's errors and no others: wrong options stay TypeError and RangeError", () => {
    assert.equal(new TypeError("x") instanceof errors.OnelineError, false);
    assert.equal(new RangeError("x") instanceof errors.OnelineError, false);
    assert.equal(new Error("x") instanceof errors.OnelineError, false);
    // Families do not cross.
    const timeout = new errors.TimeoutError("x", 1);
    assert.equal(timeout instanceof errors.ProtocolError, false);
    assert.equal(timeout instanceof errors.AddressError, false);
    assert.equal(new errors.ConnectError("a", "b") instanceof errors.ListenError, false);
    assert.equal(new errors.ListenError("a", "b") instanceof errors.ConnectError, false);
  });

  test("SRS-254 ConnectError and ListenError are AddressErrors that name the address", () => {
    const connect = new errors.ConnectError("/tmp/x.sock", "no such file");
    const listen = new errors.ListenError("127.0.0.1:0", "permission denied");
    const inUse = new errors.AddressInUseError("[::1]:5001");
    assert.deepEqual([connect, listen, inUse].map((error) => error.address), [
      "/tmp/x.sock",
      "127.0.0.1:0",
      "[::1]:5001",
    ]);
  });

  test("SRS-253 the fields of each error are its own", () => {
    const timeout = new errors.TimeoutError("x", 100);
    assert.equal(timeout.timeout, 100);
    assert.equal(new errors.ServerBusyError("a:1", 2000).timeout, 2000);
    const invalid = new errors.InvalidResponseError(raw, "too_long");
    assert.equal(invalid.raw, raw);
    assert.equal(invalid.reason, "too_long");
    assert.equal(new errors.BlockFormatError("x", raw).raw, raw);
  });

  test("SRS-255 a ProtocolError carries the answer's bytes when it is given them, and only then", () => {
    const plain = new errors.ProtocolError("x");
    assert.equal(plain.raw, undefined);
    assert.equal(Object.hasOwn(plain, "raw"), true, "an own field, undefined");
    const kept = new errors.ProtocolError("x", { raw, cause });
    assert.equal(kept.raw, raw);
    assert.equal(kept.cause, cause);
    // The subclasses keep theirs in the same field, and their cause as before.
    const block = new errors.BlockFormatError("x", raw);
    assert.deepEqual(Object.keys(block).sort(), ["name", "raw"]);
    assert.equal("cause" in block, false);
    const invalid = new errors.InvalidResponseError(raw, "decode");
    assert.deepEqual(Object.keys(invalid).sort(), ["name", "raw", "reason"]);
    assert.equal("cause" in invalid, false);
  });
});
