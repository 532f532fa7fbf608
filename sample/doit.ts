/**
 * The original package's `doit`: starts the sample server in the background,
 * lets client 1 send `ping`, `cmd01`, `junk`, `disconnect` and client 2
 * `ping`, `shutdown`, waits for the server to exit and prints what both sides
 * said. Exits non-zero when an answer is wrong or the server does not exit.
 *
 * ```sh
 * deno task doit            # or: deno run -A sample/doit.ts [--port 5001]
 * bun run sample/doit.ts
 * node sample/doit.ts       # Node 22.18 or later; earlier: node --experimental-strip-types
 * ```
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CLOSED, runClient } from "./client.ts";
import type { Exchange } from "./client.ts";
import { parseEndpointFlags } from "./flags.ts";
import { isMain, scriptArgs } from "./script.ts";

const SERVER_EXIT_MS = 5000;

/** The script: each client's commands and the answers they must get. */
const SCRIPT: { name: string; exchanges: Exchange[] }[] = [
  {
    name: "client 1",
    exchanges: [
      { command: "ping", response: "pong" },
      { command: "cmd01", response: "ack" },
      { command: "junk", response: "nak - unknown cmd" },
      { command: "disconnect", response: CLOSED },
    ],
  },
  {
    name: "client 2",
    exchanges: [
      { command: "ping", response: "pong" },
      { command: "shutdown", response: CLOSED },
    ],
  },
];

/**
 * Runs the script against a fresh sample server.
 *
 * @param args `--hostname` and `--port` for the sample server (port 0: any free one).
 * @returns The number of problems found (0 when all went as expected).
 */
export async function doit(args: string[]): Promise<number> {
  const { hostname, port } = parseEndpointFlags(args);
  const serverScript = fileURLToPath(new URL("server.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    scriptArgs(serverScript, ["--hostname", hostname, "--port", String(port), "--verbose"]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      console.log(`server   | ${line}`);
      const match = /^listening on .*:(\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    createInterface({ input: child.stderr! }).on(
      "line",
      (line) => console.log(`server   ! ${line}`),
    );
    exited.then((code) => reject(new Error(`the sample server exited (${code}) before listening`)));
  });

  let problems = 0;
  try {
    const boundPort = await listening;
    for (const { name, exchanges } of SCRIPT) {
      const commands = exchanges.map((exchange) => exchange.command);
      await runClient(commands, { hostname, port: boundPort }, ({ command, response }) => {
        const expected = exchanges.find((exchange) => exchange.command === command)!.response;
        const verdict = response === expected ? "" : `   <-- WRONG, expected "${expected}"`;
        if (verdict) problems++;
        console.log(`${name} | > ${command}`);
        console.log(`${name} | < ${response}${verdict}`);
      });
    }
  } catch (error) {
    console.log(`doit: ${(error as Error).message}`);
    problems++;
  }

  const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_EXIT_MS);
  const code = await exited;
  clearTimeout(timer);
  if (code === 0) {
    console.log("server exited with status 0");
  } else {
    console.log(`doit: the server did not exit cleanly (status ${code})`);
    problems++;
  }
  console.log(problems === 0 ? "doit: all answers as expected" : `doit: ${problems} problem(s)`);
  return problems;
}

if (isMain(import.meta)) {
  process.exit(await doit(process.argv.slice(2)) === 0 ? 0 : 1);
}
