// TLS over TCP (SRS-048), on both runtimes: the certificates in testdata/ are
// made by testdata/make_certs.sh (a test CA, a server certificate for
// localhost and 127.0.0.1, and an unrelated CA).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import type { ConnectOptions, OnelineClient } from "./client.ts";
import { serve } from "./server.ts";
import { ConnectError, ConnectionClosedError, ListenError } from "./errors.ts";
import {
  assertSocketsClosed,
  hasSettled,
  openSockets,
  RawClient,
  startServer,
  testdataText,
  type TestServer,
  testTls,
  withServer,
} from "./test_util.ts";

const socketsAtStart = openSockets();

const { cert, key, ca } = testTls();
const otherCa = testdataText("other_ca.pem");
const tls = { cert, key };

const handler = (command: string) => {
  if (command === "cmd01") return "ack";
  if (command === "two") return ["one", "two"];
  return `echo:${command}`;
};

// Connects a TLS client to `server` (trusting the test CA unless told otherwise).
function connectTls(server: TestServer, options: ConnectOptions = {}): Promise<OnelineClient> {
  return connect({ hostname: "127.0.0.1", port: server.port, tls: { caCerts: [ca] }, ...options });
}

// Runs `body` with a TLS client that is always closed afterwards.
async function withTlsClient(
  server: TestServer,
  body: (client: OnelineClient) => Promise<void>,
  options: ConnectOptions = {},
): Promise<void> {
  const client = await connectTls(server, options);
  try {
    await body(client);
  } finally {
    client.close();
  }
}

describe("TLS", () => {
  // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
  after(() => assertSocketsClosed(socketsAtStart));
  test("SRS-048 a TLS client verifies the server and gets pong", async () => {
    await withServer({ tls, handler }, async (server) => {
      await withTlsClient(server, async (client) => {
        await client.ping();
        assert.equal(await client.request("ping"), "pong");
        assert.equal(server.addr.transport, "tcp");
      });
    });
  });

  test("SRS-048 a handler command over TLS is answered", async () => {
    await withServer({ tls, handler }, async (server) => {
      await withTlsClient(server, async (client) => {
        assert.equal(await client.request("cmd01"), "ack");
        assert.equal(await client.request("junk"), "echo:junk");
        await client.send("two");
        assert.deepEqual([await client.recv(), await client.recv()], ["one", "two"]);
      });
    });
  });

  test("SRS-048 pipelined commands over TLS are answered in order", async () => {
    await withServer({ tls, handler }, async (server) => {
      await withTlsClient(server, async (client) => {
        const count = 500;
        await Promise.all(Array.from({ length: count }, (_, i) => client.send(`c${i}`)));
        for (let i = 0; i < count; i++) assert.equal(await client.recv(), `echo:c${i}`);
        // A long line that spans many TLS records arrives whole.
        const long = "x".repeat(50_000);
        assert.equal(await client.request(long), `echo:${long}`);
      });
    });
  });

  test("SRS-048 disconnect over TLS frees the slot for the next TLS client", async () => {
    await withServer({ tls, handler }, async (server) => {
      const first = await connectTls(server);
      await first.disconnect();
      first.close();
      await withTlsClient(server, async (second) => {
        assert.equal(await second.request("cmd01"), "ack");
      });
    });
  });

  test("SRS-048 one TLS client at a time: the second is served once the first leaves", async () => {
    await withServer({ tls, handler }, async (server) => {
      const first = await connectTls(server);
      // A TLS client waiting its turn is connected and verified, and told the
      // server is busy when its ping goes unanswered, as over plain TCP.
      await assert.rejects(connectTls(server, { timeout: 300 }), {
        name: "ServerBusyError",
        message: /did not answer ping within 300 ms: it is busy with another client/,
      });
      const second = await connectTls(server, { handshake: false });
      try {
        await second.send("cmd01");
        await second.send("two");
        const early = second.recv();
        // The first is answered after the second has asked: the second, not served, has nothing.
        assert.equal(await first.request("cmd01"), "ack");
        assert.equal(await hasSettled(early), false);
        await first.disconnect();
        assert.deepEqual([await early, await second.recv(), await second.recv()], [
          "ack",
          "one",
          "two",
        ]);
        assert.equal(await second.request("ping"), "pong");
      } finally {
        first.close();
        second.close();
      }
    });
  });

  test("SRS-048 a client trusting another CA is rejected clearly; the server serves on", async () => {
    await withServer({ tls, handler }, async (server) => {
      for (const caCerts of [[otherCa], []]) {
        const error = await connectTls(server, { tls: { caCerts } }).then(
          (client) => (client.close(), undefined),
          (error) => error,
        );
        assert.ok(error instanceof ConnectError, `expected ConnectError, got ${error}`);
        assert.match(error.message, /^cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed: /);
        assert.ok(error.cause !== undefined);
      }
      await withTlsClient(server, async (client) => {
        assert.equal(await client.request("cmd01"), "ack");
      });
      assert.equal(server.logger.errors.length, 0);
    });
  });

  test("SRS-048 a plain TCP client cannot wedge a TLS server", async () => {
    await withServer({ tls, handler }, async (server) => {
      // One that speaks the protocol in the clear is dropped without an answer.
      const plain = await RawClient.connect(server.port!);
      try {
        await plain.write("ping\n");
        const got = await plain.untilClosed(5000);
        assert.ok(!got.includes("pong"), `a plain client got an answer: ${JSON.stringify(got)}`);
      } finally {
        plain.destroy();
      }
      // One that connects and leaves at once.
      const gone = await RawClient.connect(server.port!);
      gone.destroy();
      await withTlsClient(server, async (client) => {
        assert.equal(await client.request("cmd01"), "ack");
      });
      assert.equal(server.running, true);
      assert.deepEqual(server.logger.errors, []);
    });
  });

  test("SRS-048 a silent plain TCP client does not hold a TLS server", async () => {
    // The server shakes hands apart from serving: a client that never
    // completes the handshake never takes the one slot.
    await withServer({ tls, handler }, async (server) => {
      const silent = await RawClient.connect(server.port!);
      try {
        await withTlsClient(server, async (client) => {
          assert.equal(await client.request("cmd01"), "ack");
        }, { timeout: 2000 });
      } finally {
        silent.destroy();
      }
    });
  });

  test("SRS-048 a plain client of the protocol gets no answer from a TLS server", async () => {
    await withServer({ tls, handler }, async (server) => {
      await assert.rejects(connect({ port: server.port, timeout: 2000 }), (error: unknown) => {
        // The TLS server drops a client that speaks plain text: the client says TLS may be wanted.
        assert.ok(error instanceof ConnectionClosedError, String(error));
        assert.match(error.message, /if it expects TLS, connect with the tls option/);
        return true;
      });
      await withTlsClient(
        server,
        async (client) => assert.equal(await client.request("x"), "echo:x"),
      );
    });
  });

  test("SRS-048 serverName sets the name the certificate must carry", async () => {
    await withServer({ tls, handler }, async (server) => {
      // Connect by address, verify by name.
      await withTlsClient(server, async (client) => {
        assert.equal(await client.request("cmd01"), "ack");
      }, { tls: { caCerts: [ca], serverName: "localhost" } });
      // A name the certificate does not carry is refused.
      await assert.rejects(
        connectTls(server, { tls: { caCerts: [ca], serverName: "example.com" } }),
        (error: Error) =>
          error instanceof ConnectError && /TLS handshake failed/.test(error.message),
      );
      // The host name is checked when no serverName is given: localhost is in the certificate.
      await withTlsClient(server, async (client) => {
        assert.equal(await client.request("cmd01"), "ack");
      }, { hostname: "localhost" });
    });
  });

  test("SRS-048 bad tls options are refused before anything is opened", async () => {
    const noHandler = () => undefined;
    for (const bad of [{ cert: tls.cert }, { key: tls.key }, {}, null, { cert: 1, key: 2 }]) {
      await assert.rejects(
        serve({ port: 0, logger: null, handler: noHandler, tls: bad as never }),
        { name: "TypeError", message: /^options\.tls needs cert and key/ },
        JSON.stringify(bad),
      );
    }
    await assert.rejects(
      serve({ path: "/tmp/never.sock", logger: null, handler: noHandler, tls }),
      {
        name: "TypeError",
        message: "options.path cannot be combined with options.tls (TLS runs over TCP only)",
      },
    );
    for (const bad of [null, "ca", { caCerts: ca }, { caCerts: [1] }, { serverName: "" }]) {
      await assert.rejects(
        connect({ port: 1, tls: bad as never }),
        { name: "TypeError", message: /^options\.tls(\.caCerts|\.serverName)? must be / },
        JSON.stringify(bad),
      );
    }
    await assert.rejects(connect({ path: "/tmp/never.sock", tls: { caCerts: [ca] } }), {
      name: "TypeError",
      message: "options.path cannot be combined with options.tls (TLS runs over TCP only)",
    });
  });

  test("SRS-048 a certificate and key that are not PEM fail serve()", async () => {
    await assert.rejects(
      serve({ port: 0, logger: null, handler, tls: { cert: "not a cert", key: "not a key" } }),
      (error: unknown) => {
        assert.ok(error instanceof ListenError, String(error));
        assert.match(error.message, /^cannot listen on 127\.0\.0\.1:0: /);
        return true;
      },
    );
    // A failed listen leaves nothing bound: a good server can start.
    const server = await startServer({ tls, handler });
    await server.close();
  });
});
