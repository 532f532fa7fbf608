import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serverSettings } from "./server_settings.ts";

const handler = () => "ok";

describe("server settings", () => {
  test("SRS-028 SRS-070 SRS-071 SRS-040 the defaults fill what is not given", () => {
    const settings = serverSettings({ handler, logger: null });
    assert.deepEqual(settings.endpoint, { hostname: "127.0.0.1", port: 5001, tls: undefined });
    assert.equal(settings.maxWaiting <= 1024, true);
    assert.equal(settings.handshakeTimeout, 10_000);
    assert.equal(settings.acceptConnection, undefined);
    assert.equal(settings.acceptConnectionTimeout, 5000);
    assert.deepEqual(settings.hooks, {});
    const { session } = settings;
    assert.deepEqual(session.handler, { decodes: true, handle: handler });
    assert.deepEqual(
      [session.verbose, session.maxLineBytes, session.keepCR, session.maxPendingBytes],
      [false, 65536, false, 1024 * 1024],
    );
    assert.deepEqual([session.readTerminator, [...session.responseTerminator]], ["\n", [0x0a]]);
    assert.deepEqual([session.idleTimeout, session.handlerTimeout], [undefined, undefined]);
    assert.deepEqual([session.lineTooLong, session.onError, session.closeTimeout], [
      "handler",
      undefined,
      1000,
    ]);
    assert.deepEqual(session.builtins.map((builtin) => builtin.name), [
      "ping",
      "disconnect",
      "shutdown",
    ]);
  });

  test("SRS-247 a bytes handler is kept as one that takes bytes", () => {
    const bytesHandler = (command: Uint8Array) => command;
    const { session } = serverSettings({ bytesHandler, logger: null });
    assert.deepEqual(session.handler, { decodes: false, handle: bytesHandler });
  });

  test("SRS-049 SRS-046 a path is the endpoint; given options are kept, a built-in turned off is gone", () => {
    const on = { connect() {} };
    const acceptConnection = () => true;
    const settings = serverSettings({
      handler,
      logger: null,
      path: "/tmp/x.sock",
      maxWaiting: 2,
      handshakeTimeout: 7,
      acceptConnection,
      acceptConnectionTimeout: 8,
      closeTimeout: 9,
      builtins: { shutdown: false },
      on,
    });
    assert.deepEqual(settings.endpoint, { path: "/tmp/x.sock", tls: undefined });
    assert.deepEqual(
      [settings.maxWaiting, settings.handshakeTimeout, settings.acceptConnectionTimeout],
      [2, 7, 8],
    );
    assert.equal(settings.acceptConnection, acceptConnection);
    assert.equal(settings.hooks, on);
    assert.equal(settings.session.closeTimeout, 9);
    assert.deepEqual(settings.session.builtins.map((builtin) => builtin.name), [
      "ping",
      "disconnect",
    ]);
  });

  test("SRS-075 a logger that throws logs nothing and throws nothing; without error(), info() gets failures", () => {
    const infos: string[] = [];
    const quiet = serverSettings({ handler, logger: { info: (message) => infos.push(message) } });
    quiet.session.logError("failed", Symbol("why"));
    assert.deepEqual(infos, ["failed: Symbol(why)"]);
    const throwing = serverSettings({
      handler,
      logger: {
        info() {
          throw new Error("no");
        },
        error() {
          throw new Error("no");
        },
      },
    });
    throwing.session.log("a");
    throwing.session.logError("b", new Error("c"));
    const errors: unknown[][] = [];
    const split = serverSettings({
      handler,
      logger: { info() {}, error: (message, error) => errors.push([message, error]) },
    });
    split.session.logError("d", 1);
    assert.deepEqual(errors, [["d", 1]]);
  });
});
