// The YAML tree's own errors: a typed DefinitionError (one of the module's
// errors) naming the file, line and key, and for an unknown key the nearest
// known one, by the same rule as a misspelt option.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DefinitionError, YamlNode } from "./yaml_tree.ts";
import { OnelineError } from "../errors.ts";
import { checkKnownKeys } from "../_util/option_checks.ts";

const ALLOWED = ["port", "hostname", "dialogues"];

/** The message for a mapping with one unknown key `key`, on line 2 of x.yaml. */
function unknownKey(key: string): string {
  const root = YamlNode.parse(`port: "1"\n${key}: x\n`, "x.yaml");
  try {
    root.entries(ALLOWED);
  } catch (error) {
    assert.ok(error instanceof DefinitionError, String(error));
    return error.message;
  }
  assert.fail(`no error for ${key}`);
}

describe("YAML tree", () => {
  test("SRS-253 DefinitionError is a OnelineError with its own name, file, line and key", () => {
    const cause = new Error("inner");
    const error = new DefinitionError("dev.yaml", 3, "devices", "expected a mapping", { cause });
    assert.ok(error instanceof OnelineError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "DefinitionError");
    assert.equal(error.message, "dev.yaml:3: devices: expected a mapping");
    assert.deepEqual([error.file, error.line, error.key, error.expected], [
      "dev.yaml",
      3,
      "devices",
      "expected a mapping",
    ]);
    assert.equal(error.cause, cause);
    assert.match(String(error.stack), /^DefinitionError: dev\.yaml:3: devices: /);
  });

  test("SRS-173 an unknown key: the nearest allowed key, as for a misspelt option", () => {
    const hint = (guess: string) => ` (did you mean ${guess}?)`;
    const cases: [string, string][] = [
      ["prot", hint("port")], // a swap of neighbours is one edit
      ["dialogs", hint("dialogues")], // two letters missing, 7 letters: within 2
      ["HOSTNAME", hint("hostname")], // case does not count
      ["pt", ""], // two edits from port: too far for two letters
      ["colour", ""],
    ];
    for (const [key, suggested] of cases) {
      assert.equal(
        unknownKey(key),
        `x.yaml:2: ${key}: unknown key${suggested}; expected one of port, hostname, dialogues`,
      );
      // The same suggestion as an option check's, for the same word.
      const known = Object.fromEntries(ALLOWED.map((name) => [name, true]));
      assert.throws(() => checkKnownKeys({ [key]: 1 }, known, "options"), {
        message: `options.${key} is not an option${suggested}`,
      });
    }
  });
});
