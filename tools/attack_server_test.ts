import { test } from "node:test";
import assert from "node:assert/strict";
import type { HandlerContext } from "../mod.ts";
import { attackHandler, statsLine } from "./attack_server.ts";

function context(signal: AbortSignal): HandlerContext {
  return { signal } as HandlerContext;
}

test("SRS-201 the attack server's stats line gives waiting, connections and refused", () => {
  const server = { waiting: 3, stats: { connections: 7, commands: 9, errors: 1, refused: 2 } };
  assert.equal(statsLine(server), "waiting=3 connections=7 refused=2");
});

test("SRS-202 the attack server's slow answers done, or nothing once its connection ended", async () => {
  assert.equal(await attackHandler("slow 1", context(new AbortController().signal)), "done");
  const ended = new AbortController();
  const answer = attackHandler("slow 60000", context(ended.signal));
  ended.abort();
  assert.equal(await answer, undefined);
  assert.equal(attackHandler("echo b", context(ended.signal)), "echo:echo b");
});
