/**
 * A definition file's YAML as a tree that knows where each value is: every
 * scalar is text (as pyvisa-sim's loader reads YAML: `100.0` is the string
 * "100.0"), and every node can name its line and its key path in an error.
 *
 * @module
 */

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
import { OnelineError } from "../errors.ts";
import { nearestKey } from "../_util/option_checks.ts";

/**
 * A definition file that is not valid YAML or not a valid definition. The
 * message is one line: `FILE:LINE: KEY: what was expected`.
 *
 * @example
 * ```ts
 * import { DefinitionError } from "./yaml_tree.ts";
 * import { OnelineError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new DefinitionError("dev.yaml", 3, "devices", "expected a mapping of devices");
 * assert.equal(error.message, "dev.yaml:3: devices: expected a mapping of devices");
 * assert.ok(error instanceof OnelineError);
 * ```
 */
export class DefinitionError extends OnelineError {
  /** The error's name, `"DefinitionError"`. */
  override readonly name: string = "DefinitionError";

  /** The file, as given (`<definition>` for text without a name). */
  readonly file: string;
  /** The line, from 1. */
  readonly line: number;
  /** The key path, such as `devices.device 1.properties.frequency.specs.type`. */
  readonly key: string;
  /** What was expected, and what was found. */
  readonly expected: string;

  /**
   * Creates the error.
   *
   * @param file The file.
   * @param line The line, from 1.
   * @param key The key path.
   * @param expected What was expected.
   * @param options The underlying error, as `cause`.
   */
  constructor(file: string, line: number, key: string, expected: string, options?: ErrorOptions) {
    super(`${file}:${line}: ${key}: ${expected}`, options);
    this.file = file;
    this.line = line;
    this.key = key;
    this.expected = expected;
  }
}

function describe(node: unknown): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return JSON.stringify(String(node.value ?? ""));
  return "nothing";
}

interface Source {
  file: string;
  document: Document;
  lines: LineCounter;
}

/** A node of the file, with its key path, for reading values and naming them in errors. */
export class YamlNode {
  readonly #source: Source;
  readonly #node: unknown;
  readonly #line: number;
  #keyLine: number;
  /** The key path, such as `devices.device 1.eom`. */
  readonly key: string;

  private constructor(source: Source, node: unknown, key: string, line: number) {
    this.#source = source;
    this.#node = isAlias(node) ? node.resolve(source.document) : node;
    this.key = key;
    const range = (this.#node as Node | undefined)?.range;
    this.#line = range ? source.lines.linePos(range[0]).line : line;
    this.#keyLine = this.#line;
  }

  /**
   * Parses YAML text (pyvisa-sim's way: every scalar is text).
   *
   * @param text The file's text.
   * @param file The file's name, for errors.
   * @returns The document's root.
   * @throws {DefinitionError} When the text is not valid YAML.
   */
  static parse(text: string, file: string): YamlNode {
    const lines = new LineCounter();
    const document = parseDocument(text, { schema: "failsafe", lineCounter: lines });
    const [error] = document.errors;
    if (error !== undefined) {
      const line = error.linePos?.[0].line ?? 1;
      const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:$/, "");
      throw new DefinitionError(file, line, "YAML", `not valid YAML: ${message}`, { cause: error });
    }
    return new YamlNode({ file, document, lines }, document.contents, "(file)", 1);
  }

  /** The line of this node, from 1. */
  get line(): number {
    return this.#line;
  }

  /** The file's name. */
  get file(): string {
    return this.#source.file;
  }

  /** Where this node is, for messages: `KEY (FILE line N)`. */
  get where(): string {
    return `${this.key} (${this.#source.file} line ${this.#line})`;
  }

  /**
   * An error at this node.
   *
   * @param expected What was expected.
   * @param cause The underlying error.
   * @returns The error, to throw.
   */
  error(expected: string, cause?: unknown): DefinitionError {
    const options = cause === undefined ? undefined : { cause };
    return new DefinitionError(this.#source.file, this.#line, this.key, expected, options);
  }

  /**
   * An error at this node's key (the line of `key:`, where its value may start below).
   *
   * @param expected What was expected.
   * @returns The error, to throw.
   */
  keyError(expected: string): DefinitionError {
    return new DefinitionError(this.#source.file, this.#keyLine, this.key, expected);
  }

  /** Whether the node is a mapping. */
  get isMapping(): boolean {
    return isMap(this.#node);
  }

  /** Whether the node is a list. */
  get isList(): boolean {
    return isSeq(this.#node);
  }

  /**
   * The node's text.
   *
   * @returns The scalar's text.
   * @throws {DefinitionError} When it is a mapping or a list.
   */
  text(): string {
    if (!isScalar(this.#node)) throw this.error(`expected a text, got ${describe(this.#node)}`);
    return String(this.#node.value ?? "");
  }

  /**
   * The node's entries, checked against the keys allowed.
   *
   * @param allowed The keys allowed, or `undefined` for any.
   * @param required The keys that must be there.
   * @returns The entries by key, in file order.
   * @throws {DefinitionError} When it is not a mapping, a key is unknown or missing.
   */
  entries(allowed?: readonly string[], required: readonly string[] = []): Map<string, YamlNode> {
    if (!isMap(this.#node)) throw this.error(`expected a mapping, got ${describe(this.#node)}`);
    const entries = new Map<string, YamlNode>();
    for (const pair of this.#node.items) {
      const keyNode = new YamlNode(this.#source, pair.key, this.key, this.#line);
      const name = keyNode.text();
      const path = this.key === "(file)" ? name : `${this.key}.${name}`;
      const child = new YamlNode(this.#source, pair.value, path, keyNode.line);
      child.#keyLine = keyNode.line;
      if (allowed !== undefined && !allowed.includes(name)) {
        const guess = nearestKey(name, allowed);
        const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
        throw child.keyError(`unknown key${hint}; expected one of ${allowed.join(", ")}`);
      }
      entries.set(name, child);
    }
    for (const name of required) {
      if (!entries.has(name)) throw this.error(`needs the key ${name}`);
    }
    return entries;
  }

  /**
   * The node's items.
   *
   * @returns The list's items.
   * @throws {DefinitionError} When it is not a list.
   */
  items(): YamlNode[] {
    if (!isSeq(this.#node)) throw this.error(`expected a list, got ${describe(this.#node)}`);
    return this.#node.items.map((item, i) =>
      new YamlNode(this.#source, item, `${this.key}[${i}]`, this.#line)
    );
  }
}
