// Which socket layer each runtime gets, and a round trip through it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { connect } from "./client.ts";
import { runtimeTransport } from "./transport.ts";
import { withServer } from "./test_util.ts";

const onDeno = "Deno" in globalThis;
const onBun = process.versions.bun !== undefined;

async function pingThroughRuntimeTransport(): Promise<void> {
  await withServer({}, async (server) => {
    await using client = await connect({ port: server.port });
    assert.equal(await client.request("hello"), "echo:hello");
  });
}

describe("runtime", () => {
  test("SRS-033 on Deno the server and client run on Deno's own sockets", {
    skip: !onDeno,
  }, async () => {
    const { denoTransport } = await import("./transport_deno.ts");
    assert.equal(await runtimeTransport(), denoTransport);
    await pingThroughRuntimeTransport();
  });

  test("SRS-034 on Bun the server and client run on Bun's own sockets", {
    skip: !onBun,
  }, async () => {
    const { bunTransport } = await import("./transport_bun.ts");
    assert.equal(await runtimeTransport(), bunTransport);
    await pingThroughRuntimeTransport();
  });
});
