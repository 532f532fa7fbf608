/**
 * What pipelining costs the client: 1,000 concurrent `request()`s (each fenced with a `ping`,
 * their answers paired in order) against the raw `send()` of the same 1,000 commands and
 * 1,000 `recv()`s, both against the module's server (`bench/server.ts`) in a child process of
 * the same runtime. Target: the requests take at most twice the raw time. A report, not a test.
 *
 * Run with `deno run -A bench/client_pipeline.ts`, `bun run bench/client_pipeline.ts` or
 * `node bench/client_pipeline.ts` (`--rounds N`, 40 unless given).
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { parseArgs } from "node:util";
import { connect } from "../mod.ts";
import type { OnelineClient } from "../mod.ts";
import { scriptArgs } from "../sample/script.ts";

const COMMANDS = 1000;
const { values } = parseArgs({ options: { rounds: { type: "string", default: "40" } } });
const rounds = Number(values.rounds);

const server = spawn(
  process.execPath,
  scriptArgs(new URL("./server.ts", import.meta.url).pathname, ["--port", "0"]),
  { stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise<number>((resolve, reject) => {
  let text = "";
  server.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    const match = /listening 127\.0\.0\.1:(\d+)/.exec(text);
    if (match) resolve(Number(match[1]));
  });
  server.on("exit", () => reject(new Error("the server exited before it was ready")));
});

const commands = Array.from({ length: COMMANDS }, (_, i) => `echo ${i}`);

async function raw(client: OnelineClient): Promise<void> {
  const sent = Promise.all(commands.map((command) => client.send(command)));
  for (let i = 0; i < COMMANDS; i++) await client.recv();
  await sent;
}

async function pipelined(client: OnelineClient): Promise<void> {
  await Promise.all(commands.map((command) => client.request(command)));
}

async function time(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];

try {
  const client = await connect({ port });
  // Warm-up, unrecorded.
  for (let i = 0; i < 5; i++) {
    await raw(client);
    await pipelined(client);
  }
  const times = { raw: [] as number[], pipelined: [] as number[], ratio: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Taking turns, in alternating order, so that drift cancels.
    let rawTime: number;
    let pipelinedTime: number;
    if (i % 2 === 0) {
      rawTime = await time(() => raw(client));
      pipelinedTime = await time(() => pipelined(client));
    } else {
      pipelinedTime = await time(() => pipelined(client));
      rawTime = await time(() => raw(client));
    }
    times.raw.push(rawTime);
    times.pipelined.push(pipelinedTime);
    times.ratio.push(pipelinedTime / rawTime);
  }
  await client.shutdown();
  const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";
  const ratio = median(times.ratio);
  console.log(`${runtime}: ${COMMANDS} commands, ${rounds} rounds (medians)`);
  console.log(`  raw send + recv        ${median(times.raw).toFixed(2)} ms`);
  console.log(`  concurrent request()   ${median(times.pipelined).toFixed(2)} ms`);
  console.log(`  ratio (target <= 2)    ${ratio.toFixed(2)}x ${ratio <= 2 ? "ok" : "OVER"}`);
} finally {
  server.kill();
}
