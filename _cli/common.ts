/**
 * What the command-line subcommands share: flag parsing, value checks, output
 * and connecting with a one-line report of what went wrong.
 *
 * @module
 */

import process from "node:process";
import { parseArgs as parseNodeArgs } from "node:util";
import { connect } from "../client.ts";
import type { OnelineClient } from "../client.ts";
import { formatAddress } from "../transport.ts";
import type { Endpoint } from "../transport.ts";
import type { ReadTerminator, WriteTerminator } from "../framing.ts";
import type { ClientReadTerminator } from "../_framing/terminators.ts";
import { nearestKey } from "../_util/option_checks.ts";
import { DEFAULT_HOSTNAME, DEFAULT_PORT } from "../_transport/default_endpoint.ts";

/** The program's name, in usage texts and error messages. */
export const PROGRAM = "socket-oneline";

/** Exit status of a run that went wrong (cannot connect, timeout, closed). */
export const EXIT_FAILURE = 1;
/** Exit status of a command line that makes no sense. */
export const EXIT_USAGE = 2;

/** A mistake on the command line: reported with a pointer to the usage, exit status 2. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, such as `unknown option --x`.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The options a subcommand takes: `string` ones need a value. */
export type FlagSpec = Record<string, "string" | "boolean">;

/** The one-letter form of each option that has one, the same in every subcommand. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  help: "h",
  hostname: "H",
  port: "p",
  timeout: "t",
  quiet: "q",
  verbose: "v",
};

/**
 * The hint for a misspelt word: ` (did you mean WORD?)` with the nearest of
 * `names`, or nothing when none is near.
 *
 * @param word What was written.
 * @param names What it may have meant.
 * @param prefix Put before the name in the hint, such as `--` for an option.
 * @returns The hint, to append to a message.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./common.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(didYouMean("sned", ["send", "repl"]), " (did you mean send?)");
 * assert.equal(didYouMean("prot", ["port"], "--"), " (did you mean --port?)");
 * assert.equal(didYouMean("xyz", ["send", "repl"]), "");
 * ```
 */
export function didYouMean(word: string, names: readonly string[], prefix = ""): string {
  const nearest = nearestKey(word, names);
  return nearest === undefined ? "" : ` (did you mean ${prefix}${nearest}?)`;
}

/** A parsed command line: option values by name, and the other arguments. */
export interface ParsedArgs {
  /** Values of the options given; `true` for a boolean one. */
  flags: Record<string, string | true>;
  /** The arguments that are not options, in order. */
  positionals: string[];
}

/**
 * Parses the options in `spec` (`--name value`, `--name=value`, boolean
 * `--name`, and the {@linkcode SHORT_FLAGS}: `-p 5001`, `-p5001`, `-qh`),
 * anywhere among the arguments; `--` ends the options. Built on `node:util`'s
 * `parseArgs`, whose tokens give each mistake its own message, naming the
 * option as it was written.
 *
 * @param args The arguments after the subcommand.
 * @param spec The options allowed.
 * @returns The options and the other arguments.
 * @throws {UsageError} On an unknown option (with the one meant, when a long
 *   one is near one), a missing value, or a value given to a boolean.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./common.ts";
 * import assert from "node:assert/strict";
 *
 * const parsed = parseArgs(["-p5002", "-h", "ping"], { port: "string", help: "boolean" });
 * assert.deepEqual(parsed, { flags: { port: "5002", help: true }, positionals: ["ping"] });
 * assert.throws(() => parseArgs(["-p"], { port: "string" }), /option -p needs a value/);
 * assert.throws(
 *   () => parseArgs(["--prot", "1"], { port: "string" }),
 *   /unknown option --prot \(did you mean --port\?\)/,
 * );
 * ```
 */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, type]) => {
      const short = Object.hasOwn(SHORT_FLAGS, name) ? SHORT_FLAGS[name] : undefined;
      return [name, short === undefined ? { type } : { type, short }];
    }),
  );
  // Not strict: unknown options come back as tokens, to be named in the message.
  const { tokens } = parseNodeArgs({
    args: [...args],
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const parsed: ParsedArgs = { flags: {}, positionals: [] };
  for (const token of tokens) {
    if (token.kind === "positional") parsed.positionals.push(token.value);
    if (token.kind !== "option") continue;
    const kind = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
    if (kind === undefined) {
      // A long option may be misspelt; a one-letter one is too short to guess.
      const hint = token.rawName.startsWith("--")
        ? didYouMean(token.name, Object.keys(spec), "--")
        : "";
      throw new UsageError(`unknown option ${token.rawName}${hint}`);
    }
    if (kind === "boolean") {
      if (token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
      parsed.flags[token.name] = true;
    } else if (token.value === undefined) {
      throw new UsageError(`option ${token.rawName} needs a value`);
    } else {
      parsed.flags[token.name] = token.value;
    }
  }
  return parsed;
}

/** The options of every subcommand that connects or listens. */
export const ENDPOINT_SPEC: FlagSpec = {
  help: "boolean",
  hostname: "string",
  port: "string",
  path: "string",
};

/** The options of the subcommands that connect. */
export const CLIENT_SPEC: FlagSpec = { ...ENDPOINT_SPEC, timeout: "string" };

/**
 * Reads the options of {@linkcode CLIENT_SPEC}: the endpoint and `--timeout`
 * (default 5000 ms).
 *
 * @param flags The parsed options.
 * @returns Where to connect, and the time limit in milliseconds.
 * @throws {UsageError} On a bad value.
 */
export function clientFlags(flags: ParsedArgs["flags"]): { endpoint: Endpoint; timeout: number } {
  return {
    endpoint: endpointFlags(flags, 1),
    timeout: millisecondsFlag(flags.timeout, "timeout", 5000),
  };
}

/**
 * Reads `--hostname` (default 127.0.0.1), `--port` (default 5001) or `--path`.
 *
 * @param flags The parsed options.
 * @param lowestPort `0` for a server (any free port), `1` for a client.
 * @returns The endpoint.
 * @throws {UsageError} On a bad port, or `--path` with `--hostname` or `--port`.
 */
export function endpointFlags(flags: ParsedArgs["flags"], lowestPort: 0 | 1): Endpoint {
  const { hostname = DEFAULT_HOSTNAME, port = String(DEFAULT_PORT), path } = flags as Record<
    string,
    string
  >;
  if (path !== undefined) {
    if (flags.hostname !== undefined || flags.port !== undefined) {
      throw new UsageError("--path cannot be combined with --hostname or --port");
    }
    if (path === "") throw new UsageError("--path must not be empty");
    return { path };
  }
  const number = Number(port);
  if (!/^\d+$/.test(port) || number < lowestPort || number > 65535) {
    throw new UsageError(`--port must be an integer from ${lowestPort} to 65535, got "${port}"`);
  }
  return { hostname, port: number };
}

/**
 * Reads a positive number of milliseconds.
 *
 * @param value The option's value, if given.
 * @param name The option's name, for the message.
 * @param fallback The value when not given.
 * @returns The milliseconds.
 * @throws {UsageError} When it is not a positive number.
 */
export function millisecondsFlag(
  value: string | true | undefined,
  name: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value === true || value.trim() === "" || !(number > 0) || !Number.isFinite(number)) {
    throw new UsageError(`--${name} must be a positive number of milliseconds, got "${value}"`);
  }
  return number;
}

/** The values of `--read-terminator`, and the terminators they stand for. */
export const READ_TERMINATOR_FLAGS: Readonly<Record<string, ReadTerminator>> = {
  lf: "\n",
  cr: "\r",
  any: "any",
};

/**
 * The values of the client's `--read-terminator` (`send`, `repl`), and the
 * terminators they stand for: the server's and `crlf`, only the pair.
 */
export const ANSWER_TERMINATOR_FLAGS: Readonly<Record<string, ClientReadTerminator>> = {
  lf: "\n",
  crlf: "\r\n",
  cr: "\r",
  any: "any",
};

/** The values of `--write-terminator`, and the terminators they stand for. */
export const WRITE_TERMINATOR_FLAGS: Readonly<Record<string, WriteTerminator>> = {
  lf: "\n",
  crlf: "\r\n",
  cr: "\r",
};

/**
 * Reads a terminator flag by its name in `choices`, such as
 * {@linkcode READ_TERMINATOR_FLAGS}; case does not matter.
 *
 * @param value The flag's value, if given.
 * @param name The flag's name, for the message.
 * @param choices Each value allowed, and the terminator it stands for.
 * @returns The terminator, or `undefined` when not given.
 * @throws {UsageError} On any other value.
 *
 * @example
 * ```ts
 * import { READ_TERMINATOR_FLAGS, terminatorFlag } from "./common.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(terminatorFlag("CR", "read-terminator", READ_TERMINATOR_FLAGS), "\r");
 * assert.throws(
 *   () => terminatorFlag("ayn", "read-terminator", READ_TERMINATOR_FLAGS),
 *   /--read-terminator must be lf, cr or any, got "ayn" \(did you mean any\?\)/,
 * );
 * ```
 */
export function terminatorFlag<T extends string>(
  value: string | true | undefined,
  name: string,
  choices: Readonly<Record<string, T>>,
): T | undefined {
  if (value === undefined) return undefined;
  const key = String(value).toLowerCase();
  if (Object.hasOwn(choices, key)) return choices[key];
  const names = Object.keys(choices);
  const list = `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  throw new UsageError(
    `--${name} must be ${list}, got ${JSON.stringify(value)}${didYouMean(key, names)}`,
  );
}

/**
 * Writes one line to stdout.
 *
 * @param line The line, without LF.
 */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Writes one message to stderr, prefixed with the program's name.
 *
 * @param message The message, without LF.
 */
export function printError(message: string): void {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
}

/**
 * Connects with the `ping` handshake; on failure, reports it on stderr.
 *
 * @param endpoint Where to connect.
 * @param timeout Milliseconds allowed to connect and for the handshake.
 * @returns The client, or `undefined` when it failed (already reported).
 */
export async function connectOrReport(
  endpoint: Endpoint,
  timeout: number,
): Promise<OnelineClient | undefined> {
  try {
    return await connect({ ...endpoint, timeout });
  } catch (error) {
    // ConnectError and ServerBusyError name the address; other errors do not.
    const message = (error as Error).message ?? String(error);
    const address = formatAddress(endpoint);
    printError(message.includes(address) ? message : `${address}: ${message}`);
    return undefined;
  }
}
