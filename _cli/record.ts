/**
 * The `record` subcommand: a proxy that records a client and an instrument
 * as a definition file that `mock` can serve.
 *
 * @module
 */

import process from "node:process";
import { record } from "../mock.ts";
import type { Recorder } from "../mock.ts";
import type { Endpoint } from "../transport.ts";
import { endpointFlags, EXIT_FAILURE, printError, printLine, UsageError } from "./common.ts";
import type { ParsedArgs } from "./common.ts";

/**
 * Reads `--to`: `HOST:PORT` (`[::1]:PORT` for IPv6), or a Unix socket path
 * (one with a `/`).
 *
 * @param value The option's value.
 * @returns The instrument's endpoint.
 * @throws {UsageError} When it is neither.
 *
 * @example
 * ```ts
 * import { instrumentFlag } from "./record.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(instrumentFlag("10.0.0.7:5025"), { hostname: "10.0.0.7", port: 5025 });
 * assert.deepEqual(instrumentFlag("[::1]:5025"), { hostname: "::1", port: 5025 });
 * assert.deepEqual(instrumentFlag("/run/meter.sock"), { path: "/run/meter.sock" });
 * assert.throws(() => instrumentFlag("meter"), /--to must be HOST:PORT/);
 * ```
 */
export function instrumentFlag(value: string | true | undefined): Endpoint {
  if (value === undefined || value === true) throw new UsageError("--to HOST:PORT is needed");
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  if (match !== null) {
    const port = Number(match[3]);
    if (port >= 1 && port <= 65535) return { hostname: match[1] ?? match[2], port };
  }
  if (value.includes("/")) return { path: value };
  throw new UsageError(`--to must be HOST:PORT or a socket path, got "${value}"`);
}

/**
 * Runs `record`: listens (as `serve` does), and for each client in turn
 * connects to the instrument and forwards both ways, writing `--out` after
 * every exchange. Stops on SIGINT (Ctrl-C).
 *
 * @param args The parsed options.
 * @returns The exit status: 0 once stopped, 1 when it cannot write the file or listen.
 * @throws {UsageError} On a bad or missing option.
 */
export async function recordCommand(args: ParsedArgs): Promise<number> {
  const to = instrumentFlag(args.flags.to);
  const listen = endpointFlags(args.flags, 0);
  const out = args.flags.out;
  if (typeof out !== "string" || out === "") throw new UsageError("--out FILE is needed");
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  }
  let recorder: Recorder;
  try {
    recorder = await record({
      to,
      listen,
      out,
      logger: { info: printLine, error: (message, error) => printError(`${message}: ${error}`) },
    });
  } catch (error) {
    printError((error as Error).message ?? String(error));
    return EXIT_FAILURE;
  }
  const stop = () => void recorder.close();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await recorder.finished;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return 0;
}
