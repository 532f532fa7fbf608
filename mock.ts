/**
 * A simulated instrument from a pyvisa-sim definition file, served as a
 * oneline server: test a harness, a GUI or a driver against the answers the
 * file describes, with no instrument at hand. The same file gives the same
 * answers as pyvisa-sim gives: dialogues, properties with getters, setters
 * and specs, error answers, status registers and error queues, channels,
 * `RANDOM` readings and `BYTES` queries. State belongs to the instrument: a
 * value set by one client is what the next client reads.
 *
 * This entry point loads the `yaml` npm package; the package's main entry
 * (`mod.ts`) does not.
 *
 * @example Serve a definition
 * ```ts
 * import { mock } from "@oneline/socket-oneline/mock";
 * import { connect } from "@oneline/socket-oneline";
 * import assert from "node:assert/strict";
 *
 * const definition = `
 * spec: "1.1"
 * devices:
 *   generator:
 *     error: ERROR
 *     dialogues:
 *       - q: "*IDN?"
 *         r: "ACME,GEN-1,0001,1.0"
 *     properties:
 *       frequency:
 *         default: 100.0
 *         getter: {q: "FREQ?", r: "{:.2f}"}
 *         setter: {q: "FREQ {:.2f}", r: OK}
 *         specs: {type: float, min: 1, max: 100000}
 * `;
 * await using server = await mock(definition, { port: 0, logger: null });
 * await using client = await connect({ port: server.port });
 * assert.equal(await client.request("*IDN?"), "ACME,GEN-1,0001,1.0");
 * assert.equal(await client.request("FREQ 10.3"), "OK");
 * assert.equal(await client.request("FREQ?"), "10.30");
 * assert.equal(await client.request("FREQ 0.5"), "ERROR"); // out of the specs
 * assert.equal(await client.request("BOGUS"), "ERROR");
 * ```
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { serve } from "./server.ts";
import type { Logger, OnelineServer, ServeOptions } from "./server.ts";
import { parseDefinition as parseChecked } from "./_mock/definition.ts";
import type { Definition as Checked, DeviceDefinition } from "./_mock/definition.ts";
import { MockDevice } from "./_mock/device.ts";
import { lineReading, MessageReader } from "./_mock/line_io.ts";
import { DEFAULT_MAX_LINE_BYTES } from "./framing.ts";

export { DefinitionError } from "./_mock/yaml_tree.ts";
export { record } from "./_mock/recorder.ts";
export type { Recorder, RecordOptions } from "./_mock/recorder.ts";
export type { Recording } from "./_mock/recording.ts";

/**
 * A checked definition, from {@linkcode parseDefinition} or
 * {@linkcode loadDefinition}, ready for {@linkcode mock}.
 */
export interface Definition {
  /** The file's name, as given. */
  readonly file: string;
  /** The names of its devices, in file order. */
  readonly devices: readonly string[];
}

// What a Definition stands for: the checked contents, kept out of the public API.
const contents = new WeakMap<Definition, Checked>();

/**
 * Parses and checks a definition's YAML text.
 *
 * @param text The YAML text.
 * @param file The file's name, for errors (default `<definition>`).
 * @returns The definition.
 * @throws {DefinitionError} When it is not valid YAML or not a valid
 *   definition: the message names the file, the line and the key, on one line.
 *
 * @example
 * ```ts
 * import { DefinitionError, parseDefinition } from "./mock.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = parseDefinition('spec: "1.1"\ndevices: {meter: {}, source: {}}\n');
 * assert.deepEqual(definition.devices, ["meter", "source"]);
 * assert.throws(
 *   () => parseDefinition('spec: "1.1"\ndevices:\n  meter:\n    dialogs: []\n', "meter.yaml"),
 *   (error: DefinitionError) => error.message.startsWith("meter.yaml:4: devices.meter.dialogs: unknown key"),
 * );
 * ```
 */
export function parseDefinition(text: string, file?: string): Definition {
  const checked = parseChecked(text, file);
  const definition: Definition = Object.freeze({
    file: checked.file,
    devices: Object.freeze([...checked.devices.keys()]),
  });
  contents.set(definition, checked);
  return definition;
}

function checkedOf(definition: Definition): Checked {
  const checked = contents.get(definition);
  if (checked === undefined) {
    throw new TypeError("definition must come from parseDefinition() or loadDefinition()");
  }
  return checked;
}

/**
 * The options of {@linkcode mock}: those of `serve()` but the handler (the
 * device answers) and `keepCR` (the definition's terminators decide), plus
 * which device to serve.
 */
export interface MockOptions extends
  Omit<
    ServeOptions,
    "handler" | "bytesHandler" | "keepCR" | "readTerminator" | "writeTerminator"
  > {
  /**
   * The device of the definition to serve; may be left out when it has one.
   */
  device?: string;
  /**
   * Numbers in [0, 1) for `RANDOM` answers, for tests that want known readings.
   *
   * @default {Math.random}
   */
  random?: () => number;
  /**
   * Told of each message the device handled and its answers, in order (for
   * a log of the session).
   */
  onAnswer?: (message: Uint8Array, answers: readonly Uint8Array[]) => void;
}

/**
 * Reads and checks a definition file.
 *
 * @param path The file's path.
 * @returns The definition.
 * @throws {DefinitionError} When it is not valid YAML or not a valid
 *   definition: the message names the file, the line and the key, on one line.
 * @throws {Error} When the file cannot be read (the runtime's error).
 *
 * @example
 * ```ts
 * import { loadDefinition } from "./mock.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = await loadDefinition("testdata/mock/devices.yaml");
 * assert.equal(definition.devices[0], "device 1");
 * ```
 */
export async function loadDefinition(path: string): Promise<Definition> {
  return parseDefinition(await readFile(path, "utf8"), path);
}

/**
 * Picks the device to serve.
 *
 * @param definition The definition.
 * @param name The device's name, or `undefined` for the only one.
 * @returns The device's name.
 * @throws {RangeError} When `name` names no device, or is left out and there
 *   are several: the message lists their names.
 *
 * @example
 * ```ts
 * import { parseDefinition, pickDevice } from "./mock.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = parseDefinition(`spec: "1.1"
 * devices: {a: {}, b: {}}
 * `, "two.yaml");
 * assert.equal(pickDevice(definition, "b"), "b");
 * assert.throws(() => pickDevice(definition, undefined), /two.yaml has 2 devices: "a", "b"/);
 * ```
 */
export function pickDevice(definition: Definition, name: string | undefined): string {
  return deviceOf(checkedOf(definition), name).name;
}

function deviceOf(definition: Checked, name: string | undefined): DeviceDefinition {
  const names = [...definition.devices.keys()].map((key) => JSON.stringify(key)).join(", ");
  if (name === undefined) {
    if (definition.devices.size === 1) return definition.devices.values().next().value!;
    throw new RangeError(
      `${definition.file} has ${definition.devices.size} devices: ${names}; name one to serve`,
    );
  }
  const device = definition.devices.get(name);
  if (device === undefined) {
    throw new RangeError(
      `${definition.file} has no device ${JSON.stringify(name)}; it has ${names}`,
    );
  }
  return device;
}

/**
 * Serves a device of a definition as a oneline server: one client at a
 * time, the built-ins (`ping`, `disconnect`, `shutdown`: answered before the
 * device sees them), and every option of `serve()`. Each line (ended as the
 * definition's `TCPIP SOCKET` end of message says, else `TCPIP INSTR`'s, else
 * LF) is a message for the device; its answers go out each ended by the
 * response terminator. The device's state lives as long as the server.
 *
 * @param definition A definition's YAML text, or one from
 *   {@linkcode parseDefinition} or {@linkcode loadDefinition}.
 * @param options The server's options, and the device to serve.
 * @returns The server, listening.
 * @throws {DefinitionError} When the text is not a valid definition.
 * @throws {RangeError} When the device is not named and there are several,
 *   or no such device exists.
 * @throws {TypeError} When `definition` is an object that did not come from
 *   {@linkcode parseDefinition} or {@linkcode loadDefinition}.
 *
 * @example A value set by one client is what the next one reads
 * ```ts
 * import { mock } from "./mock.ts";
 * import { connect } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const definition = `spec: "1.1"
 * devices:
 *   supply:
 *     error:
 *       error_queue:
 *         - {q: "SYST:ERR?", default: "0, No error", command_error: "-100, Command error"}
 *     properties:
 *       volts:
 *         default: 0
 *         getter: {q: "VOLT?", r: "{:.3f}"}
 *         setter: {q: "VOLT {:.3f}"}
 *         specs: {type: float, min: 0, max: 30}
 * `;
 * await using server = await mock(definition, { port: 0, logger: null });
 * const first = await connect({ port: server.port });
 * await first.send("VOLT 12.5"); // a setter without r: no answer
 * await first.send("VOLT 99.0"); // out of the specs: queued as an error
 * await first.disconnect();
 * await using second = await connect({ port: server.port });
 * assert.equal(await second.request("VOLT?"), "12.500");
 * assert.equal(await second.request("SYST:ERR?"), "-100, Command error");
 * assert.equal(await second.request("SYST:ERR?"), "0, No error");
 * ```
 */
export async function mock(
  definition: string | Definition,
  options: MockOptions = {},
): Promise<OnelineServer> {
  const parsed = typeof definition === "string" ? parseChecked(definition) : checkedOf(definition);
  const { device: name, random, onAnswer, ...serveOptions } = options;
  const chosen = deviceOf(parsed, name);
  const logger: Logger | null = options.logger === undefined ? console : options.logger;
  const report = (message: string, error: unknown) => {
    if (logger?.error) logger.error(message, error);
    else logger?.info(`${message}: ${(error as Error).message}`);
  };
  const device = new MockDevice(chosen, {
    random,
    onProblem: (where, error) => report(`${chosen.name}: ${where}: cannot build the answer`, error),
  });
  const { terminator, ...reading } = lineReading(chosen.eom.query);
  const reader = new MessageReader(terminator, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const hooks = options.on ?? {};
  return await serve({
    ...serveOptions,
    ...reading,
    writeTerminator: chosen.eom.response,
    on: {
      ...hooks,
      connect(client) {
        reader.reset();
        hooks.connect?.(client);
      },
    },
    bytesHandler(command) {
      const message = reader.push(command);
      if (message === undefined) return;
      const answers = device.handle(message);
      onAnswer?.(message, answers);
      return answers;
    },
  });
}
