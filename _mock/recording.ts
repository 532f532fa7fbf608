/**
 * What a recording proxy saw, as a definition file the mock can serve: one
 * device, each distinct command with the answer it got. The lines the
 * instrument sends until the client's next command belong to that command;
 * a command with no answer is a dialogue without `r`. A later answer that
 * differs is kept as a comment above the dialogue, with how often it came.
 *
 * @module
 */

import { CR, LF } from "../_framing/types.ts";
import { BUILTINS as SERVER_BUILTINS } from "../_server/builtins.ts";

/** The mock answers these itself: recording them would only add noise. */
const BUILTINS = new Set(SERVER_BUILTINS.map((builtin) => builtin.name));
/** How many different later answers a command keeps (then only a count). */
export const MAX_VARIANTS = 20;

interface Exchange {
  command: Uint8Array;
  answer: Uint8Array[];
}

interface Entry {
  command: Uint8Array;
  first: Uint8Array[];
  seen: number;
  variants: Map<string, { lines: Uint8Array[]; count: number }>;
  dropped: number;
}

function keyOf(lines: readonly Uint8Array[]): string {
  return lines.map((line) => String.fromCharCode(...line)).join("\n");
}

/** Splits a stream of bytes into lines (without LF), keeping the unfinished rest. */
class LineCutter {
  #rest = new Uint8Array(0);

  push(bytes: Uint8Array): Uint8Array[] {
    const data = new Uint8Array(this.#rest.length + bytes.length);
    data.set(this.#rest);
    data.set(bytes, this.#rest.length);
    const lines: Uint8Array[] = [];
    let start = 0;
    for (let i = data.indexOf(LF); i >= 0; i = data.indexOf(LF, start)) {
      lines.push(data.slice(start, i));
      start = i + 1;
    }
    this.#rest = data.slice(start);
    return lines;
  }

  /** The bytes after the last LF, dropped. */
  take(): Uint8Array {
    const rest = this.#rest;
    this.#rest = new Uint8Array(0);
    return rest;
  }
}

/**
 * The exchanges seen so far, and the definition they make.
 *
 * @example
 * ```ts
 * import { Recording } from "./recording.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * const recording = new Recording("127.0.0.1:5025");
 * recording.fromClient(bytes("*IDN?\n*RST\n"));
 * recording.fromInstrument(bytes("ACME,1\n")); // after *RST: its answer
 * recording.fromClient(bytes("VOLT?\n"));
 * recording.fromInstrument(bytes("1.5\n"));
 * recording.endSession();
 * assert.match(recording.toYaml(), /- q: "\*RST"\n\s+r: "ACME,1"\n/);
 * assert.match(recording.toYaml(), /- q: "\*IDN\?"\n\s+- q/); // no answer: no r
 * ```
 */
export class Recording {
  readonly #source: string;
  readonly #entries = new Map<string, Entry>();
  readonly #client = new LineCutter();
  readonly #instrument = new LineCutter();
  readonly #unsolicited: Uint8Array[] = [];
  // Commands whose answers may still come: the last one, or, behind a ping the client sent
  // as a fence (as the oneline client does), every one up to its pong.
  #outstanding: Exchange[] = [];
  #commandsWithCR = 0;
  #commands = 0;
  #answersWithCR = 0;
  #answers = 0;
  #partial = 0;

  /**
   * Starts an empty recording.
   *
   * @param source The instrument's address, for the file's header.
   */
  constructor(source: string) {
    this.#source = source;
  }

  /**
   * Takes bytes the client sent: each complete line is a command, and ends
   * the exchange before it.
   *
   * @param bytes The bytes.
   */
  fromClient(bytes: Uint8Array): void {
    for (const line of this.#client.push(bytes)) {
      this.#commands++;
      if (line.at(-1) === CR) this.#commandsWithCR++;
      const exchange = { command: line, answer: [] };
      if (!isPing(line) && !this.#outstanding.some(isPingExchange)) this.#finish();
      this.#outstanding.push(exchange);
    }
  }

  /**
   * Takes bytes the instrument sent: each complete line is part of the
   * answer to the last command.
   *
   * @param bytes The bytes.
   */
  fromInstrument(bytes: Uint8Array): void {
    for (const line of this.#instrument.push(bytes)) {
      this.#answers++;
      if (line.at(-1) === CR) this.#answersWithCR++;
      const fence = this.#outstanding.findIndex(isPingExchange);
      if (fence >= 0 && text(line) === "pong") {
        // The ping's answer: the commands before it have had theirs.
        this.#outstanding.slice(0, fence).forEach((exchange) => store(this.#entries, exchange));
        this.#outstanding.splice(0, fence + 1);
        continue;
      }
      const exchange = this.#outstanding.find((exchange) => !isPingExchange(exchange));
      if (exchange !== undefined) exchange.answer.push(line);
      else if (this.#unsolicited.length < MAX_VARIANTS) this.#unsolicited.push(line);
    }
  }

  /** The client has gone: its last exchange is complete; unfinished lines are dropped. */
  endSession(): void {
    this.#finish();
    if (this.#client.take().length > 0) this.#partial++;
    if (this.#instrument.take().length > 0) this.#partial++;
  }

  #finish(): void {
    for (const exchange of this.#outstanding) {
      if (!isPingExchange(exchange)) store(this.#entries, exchange);
    }
    this.#outstanding = [];
  }

  /**
   * The definition file for what was seen so far, the exchange under way
   * included as if complete.
   *
   * @returns The YAML text.
   */
  toYaml(): string {
    let entries = this.#entries;
    if (this.#outstanding.length > 0) {
      // On a copy: the exchanges under way are stored for good once they are complete.
      entries = new Map([...entries].map(([key, entry]) => [key, cloneEntry(entry)]));
      for (const exchange of this.#outstanding) {
        if (!isPingExchange(exchange)) store(entries, exchange);
      }
    }
    const crlf = (withCR: number, all: number) => all > 0 && withCR === all;
    const queryEnd = crlf(this.#commandsWithCR, this.#commands) ? "\r\n" : "\n";
    const answerEnd = crlf(this.#answersWithCR, this.#answers) ? "\r\n" : "\n";
    const command = (line: Uint8Array) => queryEnd === "\r\n" ? line.subarray(0, -1) : line;
    const answer = (lines: readonly Uint8Array[]) =>
      join(lines.map((line) => answerEnd === "\r\n" ? line.subarray(0, -1) : line), answerEnd);
    const out = [
      `# Recorded by socket-oneline record from ${this.#source}: each command the client sent,`,
      "# with the lines the instrument sent until the next command. A recording keeps no state",
      "# (what a command changes is not replayed) and is exact only for clients that wait for",
      "# each answer before the next command.",
    ];
    if (this.#unsolicited.length > 0) {
      out.push("# Sent by the instrument before any command (not replayed):");
      for (const line of this.#unsolicited) out.push(`#   ${quote(line)}`);
    }
    if (this.#partial > 0) {
      out.push(`# ${this.#partial} unfinished line(s), at a disconnect, dropped`);
    }
    out.push(
      'spec: "1.1"',
      "devices:",
      "  recorded:",
      "    eom:",
      "      TCPIP SOCKET:",
      `        q: ${yamlString(queryEnd)}`,
      `        r: ${yamlString(answerEnd)}`,
      "    # Whole lines are matched: a ; in a command does not split it.",
      '    delimiter: ""',
      entries.size === 0 ? "    dialogues: []" : "    dialogues:",
    );
    for (const entry of entries.values()) {
      if (BUILTINS.has(text(entry.command))) continue;
      for (const variant of entry.variants.values()) {
        out.push(
          `      # also answered ${describeAnswer(answer(variant.lines))} (${
            times(variant.count)
          })`,
        );
      }
      if (entry.dropped > 0) out.push(`      # and ${times(entry.dropped)} with other answers`);
      out.push(`      - q: ${quote(command(entry.command))}`);
      if (entry.first.length === 0) continue;
      const bytes = answer(entry.first)!;
      if (replayable(bytes)) out.push(`        r: ${quote(bytes)}`);
      else {out.push(
          `        # answered ${quote(bytes)}: not replayable (pyvisa-sim reads RANDOM in it)`,
        );}
    }
    return `${out.join("\n")}\n`;
  }
}

function text(line: Uint8Array): string {
  return new TextDecoder().decode(line.at(-1) === CR ? line.subarray(0, -1) : line);
}

function isPing(line: Uint8Array): boolean {
  return text(line) === "ping";
}

function isPingExchange(exchange: Exchange): boolean {
  return isPing(exchange.command);
}

function times(count: number): string {
  return count === 1 ? "once" : `${count} times`;
}

function describeAnswer(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? "nothing" : quote(bytes);
}

function store(entries: Map<string, Entry>, exchange: Exchange): void {
  const key = keyOf([exchange.command]);
  const entry = entries.get(key);
  if (entry === undefined) {
    entries.set(key, {
      command: exchange.command,
      first: exchange.answer,
      seen: 1,
      variants: new Map(),
      dropped: 0,
    });
    return;
  }
  entry.seen++;
  const answerKey = keyOf(exchange.answer);
  if (answerKey === keyOf(entry.first)) return;
  const variant = entry.variants.get(answerKey);
  if (variant !== undefined) variant.count++;
  else if (entry.variants.size < MAX_VARIANTS) {
    entry.variants.set(answerKey, { lines: exchange.answer, count: 1 });
  } else entry.dropped++;
}

function cloneEntry(entry: Entry): Entry {
  return {
    ...entry,
    variants: new Map([...entry.variants].map(([key, variant]) => [key, { ...variant }])),
  };
}

function join(lines: readonly Uint8Array[], separator: string): Uint8Array | undefined {
  if (lines.length === 0) return undefined;
  const parts: number[] = [];
  lines.forEach((line, i) => {
    if (i > 0) { for (const char of separator) parts.push(char.charCodeAt(0)); }
    parts.push(...line);
  });
  return new Uint8Array(parts);
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

// pyvisa-sim reads any answer that holds RANDOM as a directive.
function replayable(bytes: Uint8Array): boolean {
  return !new TextDecoder().decode(bytes).includes("RANDOM");
}

/**
 * A YAML double-quoted string that pyvisa-sim reads back as exactly these
 * bytes: plain text where it can be, else `BYTES(…)` pieces.
 *
 * @param bytes The bytes.
 * @returns The YAML scalar.
 *
 * @example
 * ```ts
 * import { quote } from "./recording.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quote(new TextEncoder().encode('say "hi"')), '"say \\"hi\\""');
 * assert.equal(quote(new Uint8Array([0xaa, 0x29, 0x55])), '"BYTES(\\xaa))BYTES(U)"');
 * ```
 */
export function quote(bytes: Uint8Array): string {
  let text: string | undefined;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    text = undefined;
  }
  // What pyvisa-sim would read differently: BYTES(, a backslash before r or n, spaces at
  // either end (stripped), and null_response.
  if (
    text !== undefined && !text.includes("BYTES(") && !/\\[rn]/.test(text) &&
    !/^ | $/.test(text) && text !== "null_response"
  ) {
    return yamlString(text);
  }
  // Raw pieces: a ")" ends a BYTES(…), and a backslash goes alone so that no "\r" forms.
  let out = "";
  let run = "";
  const flush = () => {
    if (run !== "") out += `BYTES(${run})`;
    run = "";
  };
  for (const byte of bytes) {
    if (byte === 0x29) {
      flush();
      out += ")";
    } else if (byte === 0x5c) {
      flush();
      out += "BYTES(\\)";
    } else {
      run += String.fromCharCode(byte);
    }
  }
  flush();
  return yamlString(out, true);
}

/**
 * A YAML double-quoted string for a text: printable characters as they are,
 * the others escaped.
 *
 * @param text The text.
 * @param ascii Whether to escape every character past U+007E too.
 * @returns The YAML scalar.
 */
export function yamlString(text: string, ascii = false): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (printable(code) && (!ascii || code < 0x7f)) out += char;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}"`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

// What YAML lets stand in a double-quoted string, less its line breaks and the BOM.
function printable(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code < 0xa0) return false;
  if (code === 0x2028 || code === 0x2029 || code === 0xfeff) return false;
  return code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
}
