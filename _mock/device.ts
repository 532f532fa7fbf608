/**
 * A simulated instrument: the state of one device of a definition (its
 * properties' values, error registers and queues, selected channels) and
 * how it answers each message, in the order pyvisa-sim tries things: the
 * dialogues, the getters, the status registers, the error queues, the
 * setters, then each channel group.
 *
 * @module
 */

import { channelQuery, checkValue } from "./definition.ts";
import type {
  ChannelGroup,
  DeviceDefinition,
  Dialogue,
  ErrorQueue,
  Property,
  StatusRegister,
  Where,
} from "./definition.ts";
import { hasRandom, randomAnswer, toBytes } from "./directives.ts";
import { formatString } from "./format.ts";
import { pyStr, PyValueError } from "./python_value.ts";
import type { PyValue } from "./python_value.ts";

/** A query that matched and answers nothing (pyvisa-sim's `NoResponse`). */
const NO_ANSWER = Symbol("no answer");
/** What matching a query gives: an answer, no answer, or `undefined` when nothing matched. */
type Match = Uint8Array | typeof NO_ANSWER | undefined;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Options of a {@linkcode MockDevice}. */
export interface DeviceOptions {
  /** Numbers in [0, 1) for `RANDOM` answers (default `Math.random`). */
  random?: () => number;
  /**
   * Told when an answer cannot be built (a format that does not fit the
   * value, a malformed `RANDOM`): pyvisa-sim raises then; the mock answers
   * as to a command it does not understand.
   */
  onProblem?: (where: Where, error: unknown) => void;
}

// A byte string as a Map key.
function keyOf(bytes: Uint8Array): string {
  let key = "";
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

function decodeStrict(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Splits as Python's `bytes.split(separator)`. */
function split(message: Uint8Array, separator: Uint8Array): Uint8Array[] {
  if (separator.length === 0) return [message];
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + separator.length <= message.length;) {
    if (separator.every((byte, j) => message[i + j] === byte)) {
      parts.push(message.subarray(start, i));
      i += separator.length;
      start = i;
    } else {
      i++;
    }
  }
  parts.push(message.subarray(start));
  return parts;
}

class Register {
  value = 0n;
  readonly definition: StatusRegister;

  constructor(definition: StatusRegister) {
    this.definition = definition;
  }
}

class Queue {
  readonly pending: Uint8Array[] = [];
  readonly definition: ErrorQueue;

  constructor(definition: ErrorQueue) {
    this.definition = definition;
  }
}

/** A property's value where there is one value (a device's) or one per channel. */
interface Values {
  get(property: Property): PyValue;
  set(property: Property, value: PyValue): void;
}

/**
 * The device's and its channel groups' shared matching: dialogues, getters
 * and setters over a set of values.
 */
abstract class Part {
  readonly #device: MockDevice;

  constructor(device: MockDevice) {
    this.#device = device;
  }

  protected answerDialogue(dialogue: Dialogue | undefined): Match {
    if (dialogue === undefined) return undefined;
    if (dialogue.answer === undefined) return NO_ANSWER;
    const bytes = toBytes(dialogue.answer);
    // pyvisa-sim reads RANDOM in the answer's text; an answer of raw bytes has none.
    const text = decodeStrict(bytes);
    if (text === undefined || !hasRandom(text)) return bytes;
    return this.#device.build(dialogue.where, () => randomAnswer(text, this.#device.random));
  }

  protected answerGetter(property: Property, values: Values): Match {
    const getter = property.getter!;
    const answer = getter.answer;
    return this.#device.build(
      getter.where,
      () =>
        hasRandom(answer)
          ? randomAnswer(answer, this.#device.random)
          : formatString(answer, [values.get(property)]),
    );
  }
}

/** A component's dialogues and getters by query, later ones winning as in a Python dict. */
class Queries {
  readonly dialogues = new Map<string, Dialogue>();
  readonly getters = new Map<string, Property>();

  constructor(
    dialogues: readonly Dialogue[],
    properties: readonly Property[],
    keyFor: (query: Uint8Array) => string,
  ) {
    for (const dialogue of dialogues) this.dialogues.set(keyFor(dialogue.query), dialogue);
    for (const property of properties) {
      if (property.getter) this.getters.set(keyFor(property.getter.query), property);
    }
  }
}

class ChannelPart extends Part {
  readonly #group: ChannelGroup;
  readonly #device: MockDevice;
  readonly #values = new Map<Property, Map<string, PyValue>>();
  // With can_select: the queries of each channel, by id; without: the queries as written.
  readonly #queries: Map<string, Queries>;
  readonly #plain: Queries;
  #selected: string | undefined;

  constructor(device: MockDevice, group: ChannelGroup) {
    super(device);
    this.#device = device;
    this.#group = group;
    this.#plain = new Queries(group.dialogues, group.properties, keyOf);
    this.#queries = new Map(
      group.canSelect
        ? group.ids.map((id) => [
          id,
          new Queries(group.dialogues, group.properties, (query) => keyOf(channelQuery(query, id))),
        ])
        : [],
    );
  }

  // Each property's value on the selected channel.
  readonly #channelValues: Values = {
    get: (property) => this.#values.get(property)?.get(this.#selected!) ?? property.initial,
    set: (property, value) => {
      let values = this.#values.get(property);
      if (values === undefined) this.#values.set(property, values = new Map());
      values.set(this.#selected!, value);
    },
  };

  match(query: Uint8Array, text: string | undefined): Match {
    const group = this.#group;
    const key = keyOf(query);
    if (!group.canSelect) {
      const selected = this.#device.selectedChannel();
      if (typeof selected !== "string" || !group.ids.includes(selected)) return undefined;
      this.#selected = selected;
      const answer = this.#answer(this.#plain, key);
      if (answer !== undefined) return answer;
    } else {
      for (const id of group.ids) {
        this.#selected = id;
        const answer = this.#answer(this.#queries.get(id)!, key);
        if (answer !== undefined) return answer;
      }
    }
    return text === undefined ? undefined : this.#matchSetters(text);
  }

  #answer(queries: Queries, key: string): Match {
    const dialogue = queries.dialogues.get(key);
    if (dialogue !== undefined) return this.answerDialogue(dialogue);
    const property = queries.getters.get(key);
    return property === undefined ? undefined : this.answerGetter(property, this.#channelValues);
  }

  #matchSetters(text: string): Match {
    for (const property of this.#group.properties) {
      const setter = property.setter;
      const parsed = setter?.pattern.match(text);
      if (setter === undefined || parsed === undefined) continue;
      if (parsed.channel !== undefined) this.#selected = parsed.channel;
      try {
        this.#channelValues.set(property, checkValue(pyStr(parsed.value), property.specs));
        return setter.answer ?? NO_ANSWER;
      } catch (error) {
        if (!(error instanceof PyValueError)) throw error;
        return setter.error ?? this.#device.errorAnswer("command_error");
      }
    }
    return undefined;
  }
}

/**
 * One simulated device: its state, and the answers it gives.
 *
 * @example
 * ```ts
 * import { MockDevice } from "./device.ts";
 * import { parseDefinition } from "./definition.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = parseDefinition(`spec: "1.1"
 * devices:
 *   source:
 *     error: ERROR
 *     properties:
 *       volts:
 *         default: 1.0
 *         getter: {q: "VOLT?", r: "{:.2f}"}
 *         setter: {q: "VOLT {:.2f}", r: OK}
 *         specs: {type: float, min: 0, max: 10}
 * `);
 * const device = new MockDevice(definition.devices.get("source")!);
 * const ask = (query: string) => device.handle(new TextEncoder().encode(query)).map((a) => new TextDecoder().decode(a));
 * assert.deepEqual(ask("VOLT?"), ["1.00"]);
 * assert.deepEqual(ask("VOLT 2.50"), ["OK"]);
 * assert.deepEqual(ask("VOLT 20.0;VOLT?"), ["ERROR", "2.50"]);
 * ```
 */
export class MockDevice {
  readonly #definition: DeviceDefinition;
  readonly #values = new Map<Property, PyValue>();
  readonly #queries: Queries;
  readonly #registers = new Map<string, Register>();
  readonly #registerOfError = new Map<string, Register>();
  readonly #queues = new Map<string, Queue>();
  readonly #channels: ChannelPart[];
  readonly #part: DevicePart;
  readonly #onProblem: DeviceOptions["onProblem"];
  /** The source of `RANDOM` readings. */
  readonly random: () => number;

  /**
   * Creates the device in its initial state.
   *
   * @param definition The device's definition.
   * @param options The random source, and where problems are told.
   */
  constructor(definition: DeviceDefinition, options: DeviceOptions = {}) {
    this.#definition = definition;
    this.random = options.random ?? Math.random;
    this.#onProblem = options.onProblem;
    this.#queries = new Queries(definition.dialogues, definition.properties, keyOf);
    for (const property of definition.properties) this.#values.set(property, property.initial);
    for (const register of definition.error.registers) {
      const state = new Register(register);
      this.#registers.set(keyOf(register.query), state);
      for (const name of register.bits.keys()) this.#registerOfError.set(name, state);
    }
    for (const queue of definition.error.queues) {
      this.#queues.set(keyOf(queue.query), new Queue(queue));
    }
    this.#part = new DevicePart(this);
    this.#channels = definition.channels.map((group) => new ChannelPart(this, group));
  }

  /**
   * Handles one message (a line, without its terminator): splits it at the
   * delimiter (`;` by default) and answers each query.
   *
   * @param message The message's bytes.
   * @returns The answers, in order, each without its terminator.
   */
  handle(message: Uint8Array): Uint8Array[] {
    const answers: Uint8Array[] = [];
    for (const query of split(message, this.#definition.delimiter)) {
      const answer = this.#match(query) ?? this.errorAnswer("command_error");
      if (answer !== NO_ANSWER) answers.push(answer);
    }
    return answers;
  }

  #match(query: Uint8Array): Match {
    const key = keyOf(query);
    const dialogue = this.#part.dialogue(this.#queries.dialogues.get(key));
    if (dialogue !== undefined) return dialogue;
    const property = this.#queries.getters.get(key);
    if (property !== undefined) return this.#part.getter(property, this.#deviceValues);
    const register = this.#registers.get(key);
    if (register !== undefined) {
      const value = register.value;
      register.value = 0n;
      return toBytes(value.toString());
    }
    const queue = this.#queues.get(key);
    if (queue !== undefined) return queue.pending.shift() ?? queue.definition.empty;
    // A query that is not UTF-8 matches no setter (pyvisa-sim would raise).
    const text = decodeStrict(query);
    const set = text === undefined ? undefined : this.#matchSetters(text);
    if (set !== undefined) return set;
    for (const channels of this.#channels) {
      const answer = channels.match(query, text);
      // As pyvisa-sim tests it: an empty answer counts as no match.
      if (answer === NO_ANSWER || (answer !== undefined && answer.length > 0)) return answer;
    }
    return undefined;
  }

  readonly #deviceValues: Values = {
    get: (property) => this.#values.get(property)!,
    set: (property, value) => this.#values.set(property, value),
  };

  #matchSetters(text: string): Match {
    for (const property of this.#definition.properties) {
      const setter = property.setter;
      const parsed = setter?.pattern.match(text);
      if (setter === undefined || parsed === undefined) continue;
      try {
        this.#values.set(property, checkValue(parsed.value, property.specs));
        return setter.answer ?? NO_ANSWER;
      } catch (error) {
        if (!(error instanceof PyValueError)) throw error;
        // Without its own error answer, a setter out of spec lets the next setters try.
        if (setter.error !== undefined) return setter.error;
      }
    }
    return undefined;
  }

  /** The device's `selected_channel` property's value. */
  selectedChannel(): PyValue | undefined {
    const property = this.#definition.properties.find((p) => p.name === "selected_channel");
    return property === undefined ? undefined : this.#values.get(property);
  }

  /**
   * Records an error in the registers and queues, and gives the device's answer to it.
   *
   * @param name The error, `command_error`.
   * @returns The device's answer to that error.
   */
  errorAnswer(name: "command_error"): Uint8Array | typeof NO_ANSWER {
    const register = this.#registerOfError.get(name);
    if (register !== undefined) register.value |= register.definition.bits.get(name)!;
    for (const queue of this.#queues.values()) {
      const message = queue.definition.messages.get(name);
      if (message !== undefined) queue.pending.push(message);
    }
    return this.#definition.error.commandError ?? NO_ANSWER;
  }

  /**
   * Builds an answer's text; when that fails, tells `onProblem` and answers
   * as to a command not understood.
   *
   * @param where Where the answer is defined.
   * @param make Builds the answer's text.
   * @returns The answer.
   */
  build(where: Where, make: () => string): Uint8Array | typeof NO_ANSWER {
    try {
      return encoder.encode(make());
    } catch (error) {
      if (!(error instanceof PyValueError)) throw error;
      this.#onProblem?.(where, error);
      return this.errorAnswer("command_error");
    }
  }
}

// The device's own dialogues and getters, through the matching shared with channel groups.
class DevicePart extends Part {
  dialogue(dialogue: Dialogue | undefined): Match {
    return this.answerDialogue(dialogue);
  }

  getter(property: Property, values: Values): Match {
    return this.answerGetter(property, values);
  }
}
