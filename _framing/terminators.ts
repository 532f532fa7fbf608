/**
 * What ends a line in each direction, and the checks of those options: one
 * place that owns both, as a codec owns its decoder and encoder.
 *
 * @module
 */

import { describeValue } from "../_util/option_checks.ts";

/**
 * What ends a line that is read: LF (a CR right before it is dropped unless
 * `keepCR`), CR alone, or `"any"` of CR, LF and CRLF (a CRLF counts once,
 * even split over two reads, and telnet's CR NUL counts as one CR).
 *
 * @example
 * ```ts
 * import { LineSplitter } from "../framing.ts";
 * import type { ReadTerminator } from "../framing.ts";
 * import assert from "node:assert/strict";
 *
 * const terminator: ReadTerminator = "any";
 * const lines: string[] = [];
 * new LineSplitter({ readTerminator: terminator }).split(
 *   new TextEncoder().encode("a\rb\nc\r\nd\r\0"),
 *   (bytes) => lines.push(new TextDecoder().decode(bytes)),
 * );
 * assert.deepEqual(lines, ["a", "b", "c", "d"]);
 * ```
 */
export type ReadTerminator = "\n" | "\r" | "any";

/**
 * What ends an answer line that the client reads: LF (a CR right before it
 * is dropped), the pair CR LF only (a CR or an LF alone is part of the
 * line), CR only, or `"any"` of CR, LF and CR LF (the pair ends one line).
 * Only the client takes `"\r\n"`: a server's commands end with LF, and
 * LF already drops the CR before it.
 *
 * @example Only CR LF ends a line
 * ```ts
 * import { connect } from "../client.ts";
 * import type { ClientReadTerminator } from "./terminators.ts";
 * import { runtimeTransport } from "../runtime.ts";
 * import assert from "node:assert/strict";
 *
 * const readTerminator: ClientReadTerminator = "\r\n";
 * const transport = await runtimeTransport();
 * const limits = { maxWaiting: 1, handshakeTimeout: 1000, closeTimeout: 1000, onRefused() {} };
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, limits);
 * const port = (listener.addr as { port: number }).port;
 * const device = listener.accept().then(async (connection) => {
 *   await connection!.read();
 *   await connection!.write(new TextEncoder().encode("a\nb\rc\r\n"));
 *   return connection!;
 * });
 * const client = await connect({ port, handshake: false, readTerminator });
 * assert.equal(await client.request("read?"), "a\nb\rc");
 * client.close();
 * (await device).close();
 * await listener.close();
 * ```
 */
export type ClientReadTerminator = "\n" | "\r\n" | "\r" | "any";

/**
 * What ends each line that is written: LF, CRLF or CR.
 *
 * @example
 * ```ts
 * import type { WriteTerminator } from "../framing.ts";
 * import { encodeLine } from "../framing.ts";
 * import assert from "node:assert/strict";
 *
 * const terminator: WriteTerminator = "\r\n";
 * assert.deepEqual([...encodeLine("ok", terminator)], [0x6f, 0x6b, 0x0d, 0x0a]);
 * ```
 */
export type WriteTerminator = "\n" | "\r\n" | "\r";

const READ_TERMINATORS: readonly ReadTerminator[] = ["\n", "\r", "any"];

/**
 * Every write terminator, in the order error messages list them.
 *
 * @example
 * ```ts
 * import { WRITE_TERMINATORS } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(WRITE_TERMINATORS, ["\n", "\r\n", "\r"]);
 * ```
 */
export const WRITE_TERMINATORS: readonly WriteTerminator[] = ["\n", "\r\n", "\r"];

/**
 * Every read terminator the client takes, in the order error messages list them.
 *
 * @example
 * ```ts
 * import { CLIENT_READ_TERMINATORS } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(CLIENT_READ_TERMINATORS, ["\n", "\r\n", "\r", "any"]);
 * ```
 */
export const CLIENT_READ_TERMINATORS: readonly ClientReadTerminator[] = [
  ...WRITE_TERMINATORS,
  "any",
];

// What a value people often write means, for the did-you-mean of a wrong one.
const READ_ALIASES: Readonly<Record<string, ReadTerminator>> = {
  lf: "\n",
  cr: "\r",
  // LF lines drop the CR before the LF: CRLF lines read as they are meant.
  crlf: "\n",
  "\r\n": "\n",
  "\\n": "\n",
  "\\r": "\r",
  any: "any",
};
const WRITE_ALIASES: Readonly<Record<string, WriteTerminator>> = {
  lf: "\n",
  cr: "\r",
  crlf: "\r\n",
  "\\n": "\n",
  "\\r": "\r",
  "\\r\\n": "\r\n",
};

/**
 * Checks a read terminator option: `"\n"`, `"\r"` or `"any"`.
 *
 * @param value The value; `undefined` passes (the default, LF).
 * @param name How to name it in the error.
 * @throws {TypeError} For any other value, with the one meant when it is clear.
 *
 * @example Usage
 * ```ts
 * import { checkReadTerminator } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkReadTerminator("lf", "options.readTerminator"), {
 *   name: "TypeError",
 *   message: 'options.readTerminator must be "\\n", "\\r" or "any", got "lf" (a string); did you mean "\\n"?',
 * });
 * ```
 */
export function checkReadTerminator(value: unknown, name: string): void {
  checkChoice(value, name, READ_TERMINATORS, READ_ALIASES);
}

/**
 * Checks a write terminator option: `"\n"`, `"\r\n"` or `"\r"`.
 *
 * @param value The value; `undefined` passes (the default, LF).
 * @param name How to name it in the error.
 * @throws {TypeError} For any other value, with the one meant when it is clear.
 *
 * @example Usage
 * ```ts
 * import { checkWriteTerminator } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkWriteTerminator("CRLF", "options.writeTerminator"), {
 *   name: "TypeError",
 *   message:
 *     'options.writeTerminator must be "\\n", "\\r\\n" or "\\r", got "CRLF" (a string); did you mean "\\r\\n"?',
 * });
 * ```
 */
export function checkWriteTerminator(value: unknown, name: string): void {
  checkChoice(value, name, WRITE_TERMINATORS, WRITE_ALIASES);
}

/**
 * Checks that `keepCR` comes only with the read terminator it applies to:
 * with `"\r"` or `"any"` a CR ends the line, so there is none to keep.
 *
 * @param options The options.
 * @throws {TypeError} When `keepCR` is true with another read terminator.
 *
 * @example Usage
 * ```ts
 * import { checkKeepCR } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkKeepCR({ keepCR: true, readTerminator: "any" }), {
 *   name: "TypeError",
 *   message: 'options.keepCR applies to readTerminator "\\n" only, not "any"',
 * });
 * ```
 */
export function checkKeepCR(options: { keepCR?: unknown; readTerminator?: unknown }): void {
  const terminator = options.readTerminator ?? "\n";
  if (options.keepCR === true && terminator !== "\n") {
    throw new TypeError(
      `options.keepCR applies to readTerminator "\\n" only, not ${JSON.stringify(terminator)}`,
    );
  }
}

function checkChoice(
  value: unknown,
  name: string,
  choices: readonly string[],
  aliases: Readonly<Record<string, string>>,
): void {
  if (value === undefined || choices.includes(value as string)) return;
  const quoted = choices.map((choice) => JSON.stringify(choice));
  const list = `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
  // As written (a terminator is whitespace), else as a name such as "LF" or " crlf".
  const key = typeof value !== "string"
    ? ""
    : Object.hasOwn(aliases, value)
    ? value
    : value.trim().toLowerCase();
  const meant = Object.hasOwn(aliases, key) ? aliases[key] : undefined;
  const hint = meant === undefined ? "" : `; did you mean ${JSON.stringify(meant)}?`;
  throw new TypeError(`${name} must be ${list}, got ${describeValue(value)}${hint}`);
}

/**
 * The bytes of a write terminator.
 *
 * @param terminator The terminator.
 * @returns Its bytes.
 *
 * @example Usage
 * ```ts
 * import { terminatorBytes } from "./terminators.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...terminatorBytes("\r\n")], [0x0d, 0x0a]);
 * ```
 */
export function terminatorBytes(terminator: WriteTerminator): Uint8Array {
  return new TextEncoder().encode(terminator);
}
