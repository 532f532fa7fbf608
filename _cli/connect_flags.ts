/**
 * What `send` and `repl` share beyond the endpoint: the flags that talk to
 * an instrument (no handshake, terminators) and TLS, and the answer lines
 * printed as the bytes that came.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { ConnectionClosedError } from "../errors.ts";
import type { ConnectOptions, OnelineClient } from "../client.ts";
import type { Line } from "../framing.ts";
import type { Endpoint } from "../transport.ts";
import {
  ANSWER_TERMINATOR_FLAGS,
  CLIENT_SPEC,
  clientFlags,
  connectOrReport,
  terminatorFlag,
  UsageError,
  WRITE_TERMINATOR_FLAGS,
} from "./common.ts";
import type { FlagSpec, ParsedArgs } from "./common.ts";

/** The options of `send` and `repl`. */
export const CONNECT_SPEC: FlagSpec = {
  ...CLIENT_SPEC,
  "no-handshake": "boolean",
  "read-terminator": "string",
  "write-terminator": "string",
  tls: "boolean",
  ca: "string",
};

/** Their lines in the usage texts of `send` and `repl`. */
export const CONNECT_USAGE =
  `  --no-handshake       talk to an instrument, not a oneline server: no ping,
                       no disconnect (device mode)
  --read-terminator T  what ends an answer line: lf (default; a CR before it
                       is dropped), crlf (only the pair), cr or any
  --write-terminator T what ends each command: lf (default), crlf or cr
  --tls                connect with TLS, verifying the server's certificate
  --ca FILE            also trust this CA certificate (PEM); implies --tls`;

/** How `send` and `repl` connect. */
export interface ConnectFlags {
  /** Where. */
  endpoint: Endpoint;
  /** The limit to connect and of each call, in ms. */
  timeout: number;
  /** Device mode: `--no-handshake`. */
  device: boolean;
  /** Everything else `connect()` takes from the flags. */
  options: ConnectOptions;
}

/**
 * Reads the flags of {@linkcode CONNECT_SPEC}.
 *
 * @param flags The parsed options.
 * @returns How to connect.
 * @throws {UsageError} On a bad value, or a CA file that cannot be read.
 *
 * @example Usage
 * ```ts
 * import { connectFlags } from "./connect_flags.ts";
 * import assert from "node:assert/strict";
 *
 * const flags = connectFlags({ "no-handshake": true, "read-terminator": "crlf", port: "5025" });
 * assert.equal(flags.device, true);
 * assert.deepEqual(flags.options, { handshake: false, readTerminator: "\r\n" });
 * assert.throws(() => connectFlags({ "write-terminator": "any" }), /lf, crlf or cr/);
 * ```
 */
export function connectFlags(flags: ParsedArgs["flags"]): ConnectFlags {
  const { endpoint, timeout } = clientFlags(flags);
  const options: ConnectOptions = {};
  const device = flags["no-handshake"] === true;
  if (device) options.handshake = false;
  const read = terminatorFlag(flags["read-terminator"], "read-terminator", ANSWER_TERMINATOR_FLAGS);
  if (read !== undefined) options.readTerminator = read;
  const write = terminatorFlag(
    flags["write-terminator"],
    "write-terminator",
    WRITE_TERMINATOR_FLAGS,
  );
  if (write !== undefined) options.writeTerminator = write;
  if (flags.tls === true || flags.ca !== undefined) {
    if ("path" in endpoint) throw new UsageError("--tls cannot be combined with --path");
    options.tls = flags.ca === undefined ? {} : { caCerts: [readCa(String(flags.ca))] };
  }
  return { endpoint, timeout, device, options };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--ca: cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * Connects as the flags say; on failure, reports it on stderr.
 *
 * @param flags How to connect.
 * @returns The client, or `undefined` when it failed (already reported).
 */
export function connectWithFlags(flags: ConnectFlags): Promise<OnelineClient | undefined> {
  // The endpoint goes to connect() as it is, with the other options beside it.
  const target: Endpoint = { ...flags.endpoint, ...flags.options };
  return connectOrReport(target, flags.timeout);
}

/**
 * The answer lines as they come, until the connection closes.
 *
 * @param client The client.
 * @returns The lines, with their bytes.
 */
export async function* answerLines(client: OnelineClient): AsyncGenerator<Line> {
  for (;;) {
    try {
      yield await client.recvLine({ timeout: Infinity });
    } catch (error) {
      if (error instanceof ConnectionClosedError) return;
      throw error;
    }
  }
}

/**
 * Prints an answer line to stdout as the bytes that came (not UTF-8 or not,
 * with an LF); a line cut at the client's cap is noted on stderr.
 *
 * @param line The line.
 */
export function printAnswer(line: Line): void {
  process.stdout.write(line.raw);
  process.stdout.write("\n");
  if (line.reason === "too_long") {
    process.stderr.write(`(the line above was longer than ${line.raw.length} bytes: cut)\n`);
  }
}
