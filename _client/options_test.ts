// The client's options unit by unit: each check's error, the values at the edges that pass,
// and the settings they resolve to.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as options from "./options.ts";
import type { ConnectOptions, QueryOptions } from "./options.ts";
import { systemClock } from "../_util/clock.ts";

type Refusal = [given: unknown, type: ErrorConstructor, message: string];

function assertRefuses(check: (given: never) => void, refusals: Refusal[]): void {
  for (const [given, type, message] of refusals) {
    assert.throws(() => check(given as never), (error) => {
      assert.ok(error instanceof type, `${error}`);
      assert.equal((error as Error).message, message);
      return true;
    }, message);
  }
}

describe("client options", () => {
  test("SRS-090 SRS-091 each connect() option that is wrong is refused with its own error", () => {
    assertRefuses(options.checkConnectOptions, [
      [undefined, TypeError, "connect() options must be an object, got undefined"],
      [null, TypeError, "connect() options must be an object, got null"],
      ["x", TypeError, 'connect() options must be an object, got "x" (a string)'],
      [{ prot: 1 }, TypeError, "options.prot is not an option (did you mean port?)"],
      [{ port: 0 }, RangeError, "options.port must be from 1 to 65535, got 0"],
      [{ tls: null }, TypeError, "options.tls must be an object, got null"],
      [{ tls: 1 }, TypeError, "options.tls must be an object, got 1"],
      [
        { tls: { servername: "a" } },
        TypeError,
        "options.tls.servername is not an option (did you mean serverName?)",
      ],
      [
        { tls: { caCerts: "pem" } },
        TypeError,
        "options.tls.caCerts must be an array of PEM strings",
      ],
      [
        { tls: { caCerts: ["a", 1] } },
        TypeError,
        "options.tls.caCerts must be an array of PEM strings",
      ],
      [
        { tls: { serverName: "" } },
        TypeError,
        'options.tls.serverName must be a non-empty string, got "" (a string)',
      ],
      [
        { tls: { serverName: 1 } },
        TypeError,
        "options.tls.serverName must be a non-empty string, got 1",
      ],
      [{ timeout: 0 }, RangeError, "options.timeout must be positive, got 0"],
      [{ handshake: 1 }, TypeError, "options.handshake must be true or false, got 1"],
      [
        { disconnectOnClose: 0 },
        TypeError,
        "options.disconnectOnClose must be true or false, got 0",
      ],
      [{ maxLineBytes: 0 }, RangeError, "options.maxLineBytes must be at least 1, got 0"],
      [{ maxQueuedBytes: 0 }, RangeError, "options.maxQueuedBytes must be at least 1, got 0"],
      [{ maxBlockBytes: 0 }, RangeError, "options.maxBlockBytes must be at least 1, got 0"],
      [
        { quietTime: Infinity },
        RangeError,
        "options.quietTime must be positive and finite, got Infinity",
      ],
      [
        { closeTimeout: Infinity },
        RangeError,
        "options.closeTimeout must be positive and finite, got Infinity",
      ],
      [
        { readTerminator: "\n\n" },
        TypeError,
        'options.readTerminator must be "\\n", "\\r\\n", "\\r" or "any", got "\\n\\n" (a string)',
      ],
      [
        { writeTerminator: "any" },
        TypeError,
        'options.writeTerminator must be "\\n", "\\r\\n" or "\\r", got "any" (a string)',
      ],
      [
        { retry: null },
        TypeError,
        "options.retry must be an object like { until: 5000 }, got null",
      ],
      [{ retry: 1 }, TypeError, "options.retry must be an object like { until: 5000 }, got 1"],
      [
        { retry: { until: 1, intervall: 1 } },
        TypeError,
        "options.retry.intervall is not an option (did you mean interval?)",
      ],
      [
        { retry: { until: Infinity } },
        RangeError,
        "options.retry.until must be positive and finite, got Infinity",
      ],
      [{ retry: {} }, TypeError, "options.retry.until is needed"],
      [
        { retry: { until: 1, interval: Infinity } },
        RangeError,
        "options.retry.interval must be positive and finite, got Infinity",
      ],
    ]);
  });

  test("SRS-002 SRS-091 every connect() option is known, and the values at the edges pass", () => {
    const every: Required<Omit<ConnectOptions, "path" | "transport">> = {
      hostname: "127.0.0.1",
      port: 1,
      tls: { caCerts: ["pem"], serverName: "a" },
      timeout: Infinity,
      retry: { until: 1, interval: 1 },
      handshake: false,
      quietTime: 1,
      closeTimeout: 1,
      disconnectOnClose: true,
      readTerminator: "any",
      writeTerminator: "\r",
      maxLineBytes: 1,
      maxBlockBytes: 1,
      maxQueuedBytes: 1,
    };
    options.checkConnectOptions(every);
    options.checkConnectOptions({
      path: "/tmp/x",
      transport: undefined,
      tls: undefined,
      retry: undefined,
    });
    options.checkConnectOptions({ tls: {}, retry: { until: 1 } });
  });

  test("SRS-077 SRS-090 SRS-091 each wrong option of a receive is refused with its own error", () => {
    assertRefuses(options.checkRecvOptions, [
      [undefined, TypeError, "options must be an object, got undefined"],
      [null, TypeError, "options must be an object, got null"],
      [{ line: 1 }, TypeError, "options.line is not an option (did you mean lines?)"],
      [{ timeout: 0 }, RangeError, "options.timeout must be positive, got 0"],
      [{ signal: {} }, TypeError, "options.signal must be an AbortSignal, got an object"],
      [{ signal: null }, TypeError, "options.signal must be an AbortSignal, got null"],
      [{ lines: 0 }, RangeError, "options.lines must be at least 1, got 0"],
    ]);
    const every: Required<QueryOptions> = {
      timeout: Infinity,
      signal: new AbortController().signal,
      lines: 1,
    };
    options.checkRecvOptions(every);
    options.checkRecvOptions({});
  });

  test("SRS-002 the settings of no options are the documented defaults", () => {
    assert.deepEqual(options.clientSettings({}), {
      timeout: 5000,
      device: false,
      maxLineBytes: 1024 * 1024,
      maxBlockBytes: 64 * 1024 * 1024,
      maxQueuedBytes: 1024 * 1024,
      readTerminator: "\n",
      writeTerminator: "\n",
      disconnectOnClose: true,
      quietTime: 100,
      closeTimeout: 1000,
      clock: systemClock,
    });
    assert.equal(options.clientSettings({ handshake: false }).disconnectOnClose, false);
    assert.equal(options.clientSettings({ handshake: true }).device, false);
  });

  test("SRS-002 the settings take every option given", () => {
    assert.deepEqual(
      options.clientSettings({
        timeout: 7,
        handshake: false,
        maxLineBytes: 8,
        maxBlockBytes: 9,
        maxQueuedBytes: 10,
        readTerminator: "\r",
        writeTerminator: "\r\n",
        disconnectOnClose: true,
        quietTime: 11,
        closeTimeout: 12,
      }),
      {
        timeout: 7,
        device: true,
        maxLineBytes: 8,
        maxBlockBytes: 9,
        maxQueuedBytes: 10,
        readTerminator: "\r",
        writeTerminator: "\r\n",
        disconnectOnClose: true,
        quietTime: 11,
        closeTimeout: 12,
        clock: systemClock,
      },
    );
  });
});
