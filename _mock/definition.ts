/**
 * A pyvisa-sim definition file, read and checked: each device's end of
 * message, error handling, dialogues, properties and channels. What
 * pyvisa-sim refuses when it loads a file is refused here too, with the file,
 * line and key; so is what it would only fail on later, when that can be told
 * from the file alone (an unknown key, a getter without `r`, a setter's `q`
 * without one value field).
 *
 * @module
 */

import { convert, lessThan, PyValueError, toPyInt } from "./python_value.ts";
import type { PyType, PyValue } from "./python_value.ts";
import { compileSetter } from "./setter_pattern.ts";
import type { SetterPattern } from "./setter_pattern.ts";
import { toBytes } from "./directives.ts";
import { DefinitionError, YamlNode } from "./yaml_tree.ts";
import { formatString } from "./format.ts";

export { DefinitionError };

/** The newest spec version understood, as pyvisa-sim's. */
export const SPEC_VERSION = "1.1";

/** Where a part of the definition is, for messages at run time. */
export type Where = string;

/** A dialogue: a query and its answer (`undefined`: no answer). */
export interface Dialogue {
  /** The query's bytes. */
  readonly query: Uint8Array;
  /** The answer's text (directives unread), or `undefined` for none. */
  readonly answer: string | undefined;
  /** Where it is defined. */
  readonly where: Where;
}

/** A property's specs: its type, range and valid values. */
export interface Specs {
  /** The type values are converted to. */
  readonly type: PyType;
  /** The lowest value allowed. */
  readonly min: PyValue | undefined;
  /** The highest value allowed. */
  readonly max: PyValue | undefined;
  /** The values allowed (empty: any). */
  readonly valid: readonly PyValue[];
}

/** A property: a value with a getter and a setter. */
export interface Property {
  /** The property's name. */
  readonly name: string;
  /** Its first value, already checked against the specs. */
  readonly initial: PyValue;
  /** The specs, if any (without: the value is kept as it came). */
  readonly specs: Specs | undefined;
  /** The getter: the query's bytes and the answer's format. */
  readonly getter:
    | { readonly query: Uint8Array; readonly answer: string; readonly where: Where }
    | undefined;
  /** The setter: its pattern, its answer and its error answer. */
  readonly setter:
    | {
      readonly pattern: SetterPattern;
      readonly answer: Uint8Array | undefined;
      readonly error: Uint8Array | undefined;
      readonly where: Where;
    }
    | undefined;
}

/** A status register: its query, and the bits that each error sets. */
export interface StatusRegister {
  /** The query that reads (and clears) it. */
  readonly query: Uint8Array;
  /** The bits, by error name (`command_error`, `query_error`). */
  readonly bits: ReadonlyMap<string, bigint>;
}

/** An error queue: its query, its answer when empty, and the message of each error. */
export interface ErrorQueue {
  /** The query that takes the oldest error. */
  readonly query: Uint8Array;
  /** The answer when no error is queued. */
  readonly empty: Uint8Array;
  /** The message queued, by error name. */
  readonly messages: ReadonlyMap<string, Uint8Array>;
}

/** How a device answers errors. */
export interface ErrorHandling {
  /** The answer to a command it does not understand (`undefined`: none). */
  readonly commandError: Uint8Array | undefined;
  /** The status registers. */
  readonly registers: readonly StatusRegister[];
  /** The error queues. */
  readonly queues: readonly ErrorQueue[];
}

/** A device's dialogues and properties (a device's own, or a channel group's). */
export interface Component {
  /** The dialogues, in file order. */
  readonly dialogues: readonly Dialogue[];
  /** The properties, in file order. */
  readonly properties: readonly Property[];
}

/** A group of channels. */
export interface ChannelGroup extends Component {
  /** The group's name. */
  readonly name: string;
  /** The channels' ids. */
  readonly ids: readonly string[];
  /** Whether a query names its channel (`{ch_id}`), else the device's `selected_channel` does. */
  readonly canSelect: boolean;
}

/** A device of the definition. */
export interface DeviceDefinition extends Component {
  /** The device's name. */
  readonly name: string;
  /** The query and response terminators for a TCP socket (see {@linkcode socketEom}). */
  readonly eom: { readonly query: string; readonly response: ResponseTerminator };
  /** What separates several queries in one message (`""`: nothing does). */
  readonly delimiter: Uint8Array;
  /** How it answers errors. */
  readonly error: ErrorHandling;
  /** Its channel groups. */
  readonly channels: readonly ChannelGroup[];
}

/** What ends each answer. */
export type ResponseTerminator = "\n" | "\r\n" | "\r";

/** A checked definition: its devices by name. */
export interface Definition {
  /** The file's name, as given. */
  readonly file: string;
  /** The devices, in file order. */
  readonly devices: ReadonlyMap<string, DeviceDefinition>;
}

const NO_RESPONSE = "null_response";
const INTERFACES = [
  "asrl",
  "gpib",
  "gpib_vxi",
  "pxi",
  "rio",
  "rsnrp",
  "tcpip",
  "usb",
  "vxi",
  "firewire",
  "unknown",
];

/**
 * Parses and checks a definition file's text.
 *
 * @param text The YAML text.
 * @param file The file's name, for errors.
 * @returns The definition.
 * @throws {DefinitionError} When it is not valid YAML or not a valid definition.
 *
 * @example
 * ```ts
 * import { parseDefinition } from "./definition.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = parseDefinition(`spec: "1.1"
 * devices:
 *   meter:
 *     dialogues:
 *       - q: "*IDN?"
 *         r: "ACME,M1,1,1.0"
 * `, "meter.yaml");
 * assert.deepEqual([...definition.devices.keys()], ["meter"]);
 * const newer = "spec: '2.0'\ndevices: {meter: {}}\n";
 * assert.throws(() => parseDefinition(newer, "x.yaml"), /^DefinitionError: x.yaml:1: spec: /);
 * ```
 */
export function parseDefinition(text: string, file = "<definition>"): Definition {
  const root = YamlNode.parse(text, file);
  if (!root.isMapping) throw root.error("expected a mapping with spec and devices");
  const entries = root.entries(["spec", "devices", "resources"], ["spec", "devices"]);
  checkSpec(entries.get("spec")!);
  const devices = new Map<string, DeviceDefinition>();
  for (const [name, node] of entries.get("devices")!.entries()) {
    devices.set(name, parseDevice(name, node));
  }
  if (devices.size === 0) throw entries.get("devices")!.error("expected at least one device");
  const resources = entries.get("resources");
  if (resources !== undefined) checkResources(resources, devices);
  return { file, devices };
}

function checkSpec(node: YamlNode): void {
  const text = node.text();
  const parts = text.split(".");
  if (parts.some((part) => !/^\s*\d+\s*$/.test(part))) {
    throw node.error(`expected a version X.Y (X and Y integers), got ${JSON.stringify(text)}`);
  }
  const version = parts.map(Number);
  const newest = SPEC_VERSION.split(".").map(Number);
  // Compared as Python compares tuples: (1,) < (1, 1) < (1, 1, 0).
  const differ = version.findIndex((part, i) => i >= newest.length || part !== newest[i]);
  const newer = differ < 0 ? false : differ >= newest.length || version[differ] > newest[differ];
  if (version[0] !== newest[0] || newer) {
    throw node.error(
      `expected spec version 1.x up to ${SPEC_VERSION}, got ${JSON.stringify(text)}`,
    );
  }
}

function checkResources(node: YamlNode, devices: ReadonlyMap<string, DeviceDefinition>): void {
  for (const resource of node.entries().values()) {
    const entries = resource.entries(["device", "filename", "bundled", "channel_ids"], ["device"]);
    const device = entries.get("device")!;
    if (!entries.has("filename") && !devices.has(device.text())) {
      throw device.error(`names no device of this file: ${JSON.stringify(device.text())}`);
    }
  }
}

/** Reads a text that becomes bytes, turning a bad `BYTES(…)` into an error at its node. */
function bytesOf(node: YamlNode): Uint8Array {
  const text = stripped(node);
  try {
    return toBytes(text);
  } catch (error) {
    throw node.error((error as Error).message, error);
  }
}

/** An answer: bytes, or `undefined` for `null_response`. */
function answerOf(node: YamlNode | undefined): Uint8Array | undefined {
  if (node === undefined || stripped(node) === NO_RESPONSE) return undefined;
  return bytesOf(node);
}

// pyvisa-sim strips spaces (only spaces) around queries and answers.
function stripped(node: YamlNode): string {
  return node.text().replace(/^ +| +$/g, "");
}

function parseDevice(name: string, node: YamlNode): DeviceDefinition {
  const entries = node.entries([
    "eom",
    "error",
    "dialogues",
    "properties",
    "channels",
    "delimiter",
    "bases",
  ]);
  const bases = entries.get("bases");
  if (bases !== undefined) {
    throw bases.error("is not supported (pyvisa-sim does not support it either)");
  }
  const component = parseComponent(entries, undefined);
  const channels: ChannelGroup[] = [];
  for (const [group, groupNode] of entries.get("channels")?.entries() ?? []) {
    channels.push(parseChannels(group, groupNode, component.properties));
  }
  const delimiter = entries.get("delimiter");
  return {
    name,
    eom: socketEom(entries.get("eom")),
    delimiter: delimiter === undefined
      ? new Uint8Array([0x3b])
      : new TextEncoder().encode(delimiter.text()),
    error: parseErrors(entries.get("error")),
    ...component,
    channels,
  };
}

/**
 * The end of message on a TCP socket: the `TCPIP SOCKET` entry, else `TCPIP
 * INSTR`, else LF both ways (as pyvisa-sim picks for a socket resource). The
 * server reads lines, so the query's must end with LF or CR; it ends each
 * answer with LF, CRLF or CR.
 */
function socketEom(node: YamlNode | undefined): DeviceDefinition["eom"] {
  const pairs = new Map<string, YamlNode>();
  for (const [key, entry] of node?.entries() ?? []) {
    const [type, resourceClass, extra] = key.split(" ");
    if (
      resourceClass === undefined || extra !== undefined || !INTERFACES.includes(type.toLowerCase())
    ) {
      throw entry.keyError(
        `expected "INTERFACE CLASS" such as "TCPIP SOCKET" (interfaces: ${INTERFACES.join(", ")})`,
      );
    }
    entry.entries(["q", "r"], ["q", "r"]);
    pairs.set(`${type.toUpperCase()} ${resourceClass}`, entry);
  }
  const chosen = pairs.get("TCPIP SOCKET") ?? pairs.get("TCPIP INSTR");
  if (chosen === undefined) return { query: "\n", response: "\n" };
  const fields = chosen.entries();
  const latin1 = (field: YamlNode) => new TextDecoder("latin1").decode(bytesOf(field));
  const query = latin1(fields.get("q")!);
  const response = latin1(fields.get("r")!);
  if (!/[\r\n]$/.test(query)) {
    throw fields.get("q")!.error(
      `the mock reads lines: expected a query terminator that ends with LF or CR, got ${
        JSON.stringify(query)
      }`,
    );
  }
  if (response !== "\n" && response !== "\r\n" && response !== "\r") {
    throw fields.get("r")!.error(
      `the mock ends answers with "\\n", "\\r\\n" or "\\r", got ${JSON.stringify(response)}`,
    );
  }
  return { query, response };
}

function parseErrors(node: YamlNode | undefined): ErrorHandling {
  if (node === undefined) return { commandError: undefined, registers: [], queues: [] };
  if (!node.isMapping) return { commandError: answerOf(node), registers: [], queues: [] };
  const entries = node.entries(["response", "status_register", "error_queue"]);
  const response = entries.get("response")?.entries(["command_error", "query_error"]);
  const registers = (entries.get("status_register")?.items() ?? []).map((item) => {
    const fields = item.entries(undefined, ["q"]);
    const bits = new Map<string, bigint>();
    for (const [name, value] of fields) {
      if (name === "q") continue;
      try {
        bits.set(name, toPyInt(value.text()));
      } catch (error) {
        throw value.error(
          `expected an integer (the bits this error sets), got ${JSON.stringify(value.text())}`,
          error,
        );
      }
    }
    return { query: bytesOf(fields.get("q")!), bits };
  });
  const queues = (entries.get("error_queue")?.items() ?? []).map((item) => {
    const fields = item.entries(undefined, ["q", "default"]);
    const messages = new Map<string, Uint8Array>();
    for (const [name, value] of fields) {
      if (name !== "q" && name !== "default" && name !== "strict") {
        messages.set(name, bytesOf(value));
      }
    }
    return { query: bytesOf(fields.get("q")!), empty: bytesOf(fields.get("default")!), messages };
  });
  return { commandError: answerOf(response?.get("command_error")), registers, queues };
}

function parseComponent(
  entries: Map<string, YamlNode>,
  selectable: boolean | undefined,
): Component {
  const dialogues = (entries.get("dialogues")?.items() ?? []).map((item) => {
    const fields = item.entries(["q", "r"], ["q"]);
    const query = fields.get("q")!;
    checkChannelQuery(query, selectable);
    const answer = fields.get("r");
    return {
      query: bytesOf(query),
      answer: answer === undefined || stripped(answer) === NO_RESPONSE
        ? undefined
        : answerText(answer),
      where: item.where,
    };
  });
  const properties: Property[] = [];
  for (const [name, node] of entries.get("properties")?.entries() ?? []) {
    properties.push(parseProperty(name, node, selectable));
  }
  return { dialogues, properties };
}

// An answer's text: checked now for BYTES(…), turned into bytes when answered (RANDOM may change it).
function answerText(node: YamlNode): string {
  bytesOf(node);
  return stripped(node);
}

// A channel's query with `can_select: True` is formatted with each channel id.
function checkChannelQuery(query: YamlNode, selectable: boolean | undefined): void {
  if (selectable !== true) return;
  try {
    channelQuery(bytesOf(query), "1");
  } catch (error) {
    throw query.error(
      `a channel's query may hold {ch_id} and no other field (${(error as Error).message})`,
      error,
    );
  }
}

/**
 * A channel's query for one channel, as pyvisa-sim makes it: the query's
 * bytes read as UTF-8 and formatted with `ch_id` (`{ch_id}` becomes the id,
 * `{{` and `}}` single braces).
 *
 * @param query The query's bytes, from the definition.
 * @param id The channel's id.
 * @returns The channel's query.
 * @throws {PyValueError} On a field other than `{ch_id}`.
 */
export function channelQuery(query: Uint8Array, id: string): Uint8Array {
  const text = new TextDecoder().decode(query);
  return new TextEncoder().encode(formatString(text, [], { ch_id: id }));
}

function parseProperty(name: string, node: YamlNode, selectable: boolean | undefined): Property {
  const fields = node.entries(["default", "getter", "setter", "specs"]);
  const specs = parseSpecs(fields.get("specs"));
  const defaultNode = fields.get("default");
  let initial: PyValue = defaultNode?.text() ?? "";
  try {
    initial = checkValue(initial, specs);
  } catch (error) {
    throw (defaultNode ?? node).error(
      `the default ${JSON.stringify(initial)} does not meet the specs: ${(error as Error).message}`,
      error,
    );
  }
  const getterNode = fields.get("getter");
  let getter: Property["getter"];
  if (getterNode !== undefined) {
    const getterFields = getterNode.entries(["q", "r"], ["q", "r"]);
    checkChannelQuery(getterFields.get("q")!, selectable);
    getter = {
      query: bytesOf(getterFields.get("q")!),
      answer: stripped(getterFields.get("r")!),
      where: getterNode.where,
    };
  }
  const setterNode = fields.get("setter");
  let setter: Property["setter"];
  if (setterNode !== undefined) {
    const setterFields = setterNode.entries(["q", "r", "e"], ["q"]);
    const query = setterFields.get("q")!;
    let pattern: SetterPattern;
    try {
      pattern = compileSetter(stripped(query), selectable !== undefined);
    } catch (error) {
      throw query.error((error as Error).message, error);
    }
    setter = {
      pattern,
      answer: answerOf(setterFields.get("r")),
      error: answerOf(setterFields.get("e")),
      where: setterNode.where,
    };
  }
  return { name, initial, specs, getter, setter };
}

function parseSpecs(node: YamlNode | undefined): Specs | undefined {
  if (node === undefined) return undefined;
  const fields = node.entries(["type", "min", "max", "valid"]);
  if (fields.size === 0) return undefined;
  const typeNode = fields.get("type");
  if (typeNode === undefined) throw node.error("needs the key type (float, int or str)");
  const type = typeNode.text();
  if (type !== "float" && type !== "int" && type !== "str") {
    throw typeNode.error(`expected float, int or str, got ${JSON.stringify(type)}`);
  }
  const read = (value: YamlNode): PyValue => {
    try {
      return convert(type, value.text());
    } catch (error) {
      throw value.error(`expected a ${type}, got ${JSON.stringify(value.text())}`, error);
    }
  };
  const min = fields.get("min");
  const max = fields.get("max");
  return {
    type,
    min: min === undefined ? undefined : read(min),
    max: max === undefined ? undefined : read(max),
    valid: fields.get("valid")?.items().map(read) ?? [],
  };
}

/**
 * Converts a value to the specs' type and checks it, as pyvisa-sim does.
 *
 * @param value The value.
 * @param specs The specs (without: the value as it is).
 * @returns The value, converted.
 * @throws {PyValueError} When it does not convert, or is out of the specs.
 */
export function checkValue(value: PyValue, specs: Specs | undefined): PyValue {
  if (specs === undefined) return value;
  const converted = convert(specs.type, value);
  if (specs.min !== undefined && lessThan(converted, specs.min)) {
    throw new PyValueError(`${String(converted)} is less than the minimum ${String(specs.min)}`);
  }
  if (specs.max !== undefined && lessThan(specs.max, converted)) {
    throw new PyValueError(`${String(converted)} is more than the maximum ${String(specs.max)}`);
  }
  if (specs.valid.length > 0 && !specs.valid.includes(converted)) {
    throw new PyValueError(`${String(converted)} is not one of the valid values`);
  }
  return converted;
}

function parseChannels(
  name: string,
  node: YamlNode,
  deviceProperties: readonly Property[],
): ChannelGroup {
  const entries = node.entries(["ids", "can_select", "dialogues", "properties"]);
  const canSelectNode = entries.get("can_select");
  const canSelectText = canSelectNode?.text() ?? "True";
  if (canSelectText !== "True" && canSelectText !== "False") {
    throw canSelectNode!.error(
      `expected True or False, got ${
        JSON.stringify(canSelectText)
      } (pyvisa-sim takes only "False", so spelt, as false)`,
    );
  }
  const canSelect = canSelectText === "True";
  if (!canSelect) {
    const selected = deviceProperties.find((property) => property.name === "selected_channel");
    if (selected === undefined) {
      throw canSelectNode!.error(
        "with can_select False the device needs a property selected_channel, whose value picks the channel",
      );
    }
    if (selected.specs !== undefined && selected.specs.type !== "str") {
      throw canSelectNode!.error(
        "the device's selected_channel must be a str (no specs, or type str): the ids are texts, and an int never equals one",
      );
    }
  }
  const ids = (entries.get("ids")?.items() ?? []).map((id) => id.text());
  return { name, ids, canSelect, ...parseComponent(entries, canSelect) };
}
