// The transport contract (transport.ts), held against every socket kind on
// the runtime that runs this file: Deno, Bun and Node each run it, so every
// (runtime x socket kind) pair keeps the same cases. The peers are raw
// node:net/node:tls sockets that end their side, reset, or never read.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { runtimeTransport } from "./runtime.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { HandlerContext, ServeOptions } from "./server.ts";
import type { Connection, ListenEndpoint, Listener, Transport } from "./transport.ts";
import {
  assertSocketsClosed,
  deferred,
  hasSettled,
  openSockets,
  RawClient,
  startServer,
  testTls,
  timeout,
  waitUntil,
  within,
} from "./test_util.ts";
import type { RawTarget, TestServer } from "./test_util.ts";

const socketsAtStart = openSockets();
const directory = fs.mkdtempSync(nodePath.join(os.tmpdir(), "oneline-contract-"));
const { cert, key, ca } = testTls();
let paths = 0;

type Kind = "tcp" | "tls" | "unix";
const KINDS: Kind[] = ["tcp", "tls", "unix"];

// Where a server of `kind` listens.
function endpoint(kind: Kind): Partial<ServeOptions> {
  if (kind === "unix") return { path: nodePath.join(directory, `c${paths++}.sock`) };
  return kind === "tls" ? { port: 0, tls: { cert, key } } : { port: 0 };
}

function target(kind: Kind, server: { addr: ListenEndpoint | Listener["addr"] }): RawTarget {
  const addr = server.addr;
  if ("path" in addr) return { path: addr.path };
  return { port: addr.port, ...(kind === "tls" ? { ca } : {}) };
}

// The commands every contract server knows: `echo X` answers X, `slow N`
// answers "slow N" after N ms, `big N` answers N bytes, `hold` answers
// "released" once `release` resolves, or nothing once its signal aborts
// (telling `held` it started and `aborted` it was aborted).
interface Probes {
  held: ReturnType<typeof deferred<void>>;
  aborted: ReturnType<typeof deferred<void>>;
  release: ReturnType<typeof deferred<void>>;
}

function handler(probes: Probes) {
  return (command: string, context: HandlerContext) => {
    const [verb, argument = ""] = command.split(" ");
    if (verb === "echo") return argument;
    if (verb === "big") return "x".repeat(Number(argument));
    if (verb === "slow") {
      return new Promise<string>((resolve) => setTimeout(() => resolve(command), Number(argument)));
    }
    if (verb === "hold") {
      probes.held.resolve();
      return new Promise<string | undefined>((resolve) => {
        probes.release.promise.then(() => resolve("released"));
        context.signal.addEventListener("abort", () => {
          probes.aborted.resolve();
          resolve(undefined);
        });
      });
    }
    return `unknown ${command}`;
  };
}

async function withContractServer(
  kind: Kind,
  options: Partial<ServeOptions>,
  body: (
    server: TestServer,
    open: (halfOpen?: boolean) => Promise<RawClient>,
    probes: Probes,
  ) => Promise<void>,
): Promise<void> {
  const probes: Probes = { held: deferred(), aborted: deferred(), release: deferred() };
  const server = await startServer({ ...endpoint(kind), handler: handler(probes), ...options });
  const clients: RawClient[] = [];
  const open = async (halfOpen = false) => {
    const client = await RawClient.open(target(kind, server), halfOpen);
    clients.push(client);
    return client;
  };
  try {
    await body(server, open, probes);
  } finally {
    for (const client of clients) client.destroy();
    await server.close();
  }
}

const KIB = 1024;

// The runtime running this file.
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

// Pairs whose sockets report a peer's reset as an end of stream (Deno's
// node:tls): the server cannot tell it from
// a half-close, so a handler under way runs on, and the slot is free once it
// ends. The README's runtime table says so; SRS-105 pins it.
const RESET_LOOKS_LIKE_END: Record<string, Kind[]> = { deno: ["tls"], bun: [], node: [] };

// node:tls closes a waiting TLS client with a reset as often as not, on Node
// and Bun; Deno's node:tls and every plain socket end it politely.
const TLS_WAITERS_MAY_RESET = RUNTIME !== "deno";

for (const kind of KINDS) {
  describe(`transport contract over ${kind}`, () => {
    // Nothing the tests opened may stay open (per describe: Deno ignores a file-level hook).
    after(() => assertSocketsClosed(socketsAtStart));

    test(`SRS-104 ${kind}: a client that ends its side after its commands gets every answer, in order`, async () => {
      await withContractServer(kind, {}, async (_server, open) => {
        const client = await open(true);
        await client.write("echo b\nslow 300\necho c\n");
        client.end();
        assert.deepEqual(await client.readLines(3), ["b", "slow 300", "c"]);
        assert.equal(await client.untilEnded(), "end");
      });
    });

    test(`SRS-104 ${kind}: a client that ends its side while its handler runs gets the answer`, async () => {
      await withContractServer(kind, {}, async (_server, open) => {
        const client = await open(true);
        await client.write("slow 200\n");
        client.end();
        assert.deepEqual(await client.readLines(1), ["slow 200"]);
        assert.equal(await client.untilEnded(), "end");
      });
    });

    test(`SRS-104 ${kind}: 50 answers of 100 kB, then the client's end of stream: all arrive`, async () => {
      await withContractServer(kind, {}, async (_server, open) => {
        const client = await open(true);
        await client.write("big 100000\n".repeat(50));
        client.end();
        const lines = await client.readLines(50, 10_000);
        assert.equal(lines.length, 50);
        assert.ok(lines.every((line) => line.length === 100_000));
        assert.equal(await client.untilEnded(), "end");
      });
    });

    test(`SRS-104 ${kind}: a waiting client that sends its commands and ends its side is served`, async () => {
      await withContractServer(kind, {}, async (server, open, probes) => {
        const holder = await open();
        await holder.write("hold\n");
        await probes.held.promise;
        const waiter = await open(true);
        await waiter.write("echo x\nslow 50\necho y\n");
        waiter.end();
        await waitUntil(() => server.waiting === 1, "the waiter queued");
        probes.release.resolve();
        assert.deepEqual(await holder.readLines(1), ["released"]);
        holder.end();
        assert.deepEqual(await waiter.readLines(3), ["x", "slow 50", "y"]);
        assert.equal(await waiter.untilEnded(), "end");
      });
    });

    test(`SRS-104 ${kind}: a waiting client that sends more than the read-ahead and ends its side is served whole`, async () => {
      await withContractServer(kind, {}, async (server, open, probes) => {
        const holder = await open();
        await holder.write("hold\n");
        await probes.held.promise;
        const waiter = await open(true);
        const words = Array.from({ length: 1000 }, (_, i) => `w${String(i).padStart(96, "0")}`);
        await waiter.write(words.map((word) => `echo ${word}\n`).join(""));
        waiter.end();
        await waitUntil(() => server.waiting === 1, "the waiter queued");
        probes.release.resolve();
        assert.deepEqual(await holder.readLines(1), ["released"]);
        holder.end();
        assert.deepEqual(await waiter.readLines(1000, 5000), words);
        assert.equal(await waiter.untilEnded(), "end");
      });
    });

    for (const unread of [0, 8 * KIB, 1024 * KIB]) {
      test(`SRS-105 ${kind}: a reset while the handler runs, ${unread} bytes unread, frees the slot at once`, async () => {
        await withContractServer(kind, {}, async (server, open, probes) => {
          // The holder leaves a big answer unread (more than its runtime reads ahead), so that
          // its close resets a Unix socket too.
          const holder = await open();
          holder.socket.pause();
          await holder.write("big 400000\nhold\n");
          await probes.held.promise;
          const next = await open();
          await next.write("echo next\n");
          if (unread > 0) {
            // Written without waiting: a server that stopped reading never takes it all.
            holder.socket.write(new Uint8Array(unread).fill(0x61));
            await waitUntil(
              () => holder.socket.bytesWritten >= unread || holder.socket.writableLength > 0,
              "the bytes went out",
            );
          }
          holder.reset();
          if (RESET_LOOKS_LIKE_END[RUNTIME].includes(kind)) {
            // Seen as a half-close: the handler runs on, and the next client is served once it ends.
            assert.equal(await hasSettled(probes.aborted.promise), false);
            probes.release.resolve();
          } else {
            // The handler's signal: the session saw the client go (the handler never ends otherwise).
            await within(5000, probes.aborted.promise, "the handler's signal aborted");
          }
          assert.deepEqual(await next.readLines(1), ["next"]);
          assert.equal(server.current?.id, 2);
        });
      });
    }

    test(`SRS-106 ${kind}: waiting clients that end their side with nothing sent, or reset, stop counting`, async () => {
      await withContractServer(kind, {}, async (server, open, probes) => {
        const holder = await open();
        await holder.write("hold\n");
        await probes.held.promise;
        const waiters = await Promise.all(Array.from({ length: 6 }, () => open()));
        await waitUntil(() => server.waiting === 6, "six waiting");
        waiters.forEach((waiter, i) => i % 2 === 0 ? waiter.end() : waiter.reset());
        await waitUntil(() => server.waiting === 0, "none waiting");
      });
    });

    test(`SRS-106 ${kind}: after clients connect and close in crowds (2,000; 400 over TLS), the next is served, none refused`, async () => {
      await withContractServer(kind, {}, async (server, open) => {
        // A Unix connect fails at once (EAGAIN) while the listen backlog is full, which the
        // churners' own pace can cause in this one process: those never connected.
        const churner = () =>
          open().catch((error) => error.code === "EAGAIN" ? undefined : Promise.reject(error));
        // TLS handshakes are slow: fewer churners there, the same case.
        for (let batch = 0; batch < (kind === "tls" ? 2 : 10); batch++) {
          const churners = await Promise.all(Array.from({ length: 200 }, churner));
          for (const client of churners) client?.destroy();
        }
        const polite = await open();
        await polite.write("echo polite\n");
        assert.deepEqual(await polite.readLines(1, 5000), ["polite"]);
        assert.equal(server.stats.refused, 0);
      });
    });

    test(`SRS-107 ${kind}: maxWaiting counts waiting clients only; one that left frees its place`, async () => {
      await withContractServer(kind, { maxWaiting: 2 }, async (server, open, probes) => {
        const holder = await open();
        await holder.write("hold\n");
        await probes.held.promise;
        const first = await open();
        const second = await open();
        await waitUntil(() => server.waiting === 2, "two waiting");
        // Refused before any TLS handshake: a TLS client sees its handshake fail.
        const refused = await open().then((client) => client.untilEnded(), (error) => error.code);
        assert.equal(refused, kind === "tls" ? "ECONNRESET" : "end");
        assert.equal(server.stats.refused, 1);
        first.reset();
        second.end();
        await waitUntil(() => server.waiting === 0, "none waiting");
        const later = await Promise.all([open(), open()]);
        await waitUntil(() => server.waiting === 2, "two waiting again");
        assert.equal(server.stats.refused, 1);
        for (const client of later) await client.write("echo later\n");
        probes.release.resolve();
        holder.end();
        assert.deepEqual(await later[0].readLines(1), ["later"]);
      });
    });

    for (const stop of ["shutdown", "close"] as const) {
      test(`SRS-108 ${kind}: ${stop}() closes waiting clients with an end of stream, not a reset`, async () => {
        await withContractServer(kind, {}, async (server, open, probes) => {
          const holder = await open();
          await holder.write("hold\n");
          await probes.held.promise;
          const waiter = await open();
          await waiter.write("echo never\n".repeat(100));
          await waitUntil(() => server.waiting === 1, "one waiting");
          const stopped = server[stop]();
          const ended = await waiter.untilEnded();
          assert.ok(ended === "end" || (kind === "tls" && TLS_WAITERS_MAY_RESET), ended);
          assert.equal(waiter.text(), "");
          if (stop === "shutdown") {
            // The command under way still finishes, and its answer goes out.
            probes.release.resolve();
            assert.deepEqual(await holder.readLines(1), ["released"]);
          }
          await stopped;
        });
      });
    }

    test(`SRS-109 ${kind}: writes after the peer left reject with ConnectionClosedError`, async () => {
      const transport = await runtimeTransport();
      const where = endpoint(kind);
      const listenAt = (where.path !== undefined
        ? { path: where.path }
        : { hostname: "127.0.0.1", port: 0, tls: where.tls }) as ListenEndpoint;
      const limits = { maxWaiting: 4, handshakeTimeout: 5000, closeTimeout: 1000, onRefused() {} };
      const listener = await transport.listen(listenAt, limits);
      try {
        const peer = await RawClient.open(target(kind, listener));
        const connection = (await listener.accept()) as Connection;
        peer.destroy();
        assert.equal(await connection.read(), null);
        // The first write may still reach the kernel; the peer's answer to it fails the next.
        const late = new TextEncoder().encode("late\n");
        let failure: unknown;
        for (let i = 0; i < 100 && failure === undefined; i++) {
          await connection.write(late).catch((error) =>
            failure = error
          );
          await timeout(5, undefined);
        }
        assert.ok(failure instanceof ConnectionClosedError, String(failure));
        connection.close();
      } finally {
        await listener.close();
      }
    });
  });
}

describe("transport contract: accept failures", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  test("SRS-113 an accept failure reaches on.error and stats.errors once, and the server accepts on", async () => {
    const base = await runtimeTransport();
    const failure = Object.assign(new Error("accept: too many open files"), { code: "EMFILE" });
    // The runtime's transport, whose listener fails its first accept as when out of descriptors.
    const failing: Transport = {
      connect: (endpoint) => base.connect(endpoint),
      async listen(endpoint, limits) {
        const listener = await base.listen(endpoint, limits);
        let failed = false;
        return {
          get addr() {
            return listener.addr;
          },
          get waiting() {
            return listener.waiting;
          },
          accept: () => failed ? listener.accept() : (failed = true, Promise.reject(failure)),
          close: () => listener.close(),
        };
      },
    };
    const seen: unknown[] = [];
    const server = await startServer({
      transport: failing,
      on: { error: (error) => void seen.push(error) },
    });
    try {
      const client = await RawClient.connect(server.port!);
      await client.write("hello\n");
      assert.deepEqual(await client.readLines(1), ["echo:hello"]);
      client.destroy();
      assert.deepEqual(seen, [failure]);
      assert.equal(server.stats.errors, 1);
      assert.deepEqual(server.logger.errors.map((e) => e.message), ["accept failed; backing off"]);
    } finally {
      await server.close();
    }
  });
});

describe("transport contract: clean-up", () => {
  after(() => fs.rmSync(directory, { recursive: true, force: true }));
  test("SRS-104 the contract suite's socket folder is removed", () => {
    assert.ok(fs.existsSync(directory));
  });
});
