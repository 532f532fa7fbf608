// The interop harness: finding the clients, and how a test whose client is missing is
// skipped and reported by the test command of the runtime running this file.

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import {
  findProgram,
  findPyVisa,
  killAll,
  MISSING,
  onPath,
  pythonCandidates,
  spawnClient,
  steps,
  testName,
} from "./harness.ts";

const SKIPPED = fileURLToPath(new URL("./testdata/skipped.ts", import.meta.url));

// This runtime's test command for one file, through env: on Node, a test process that
// inherits NODE_TEST_CONTEXT refuses to run files.
function testArgs(file: string): string[] {
  const command = "Deno" in globalThis
    ? ["test", "-A", "--no-check", file]
    : "Bun" in globalThis
    ? ["test", file]
    : ["--test", file];
  return ["-u", "NODE_TEST_CONTEXT", process.execPath, ...command];
}

// A directory holding an executable script for each name, as a PATH entry.
function fakePath(names: string[], script = "#!/bin/sh\nexit 1\n"): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "oneline-path-"));
  for (const name of names) fs.writeFileSync(join(dir, name), script, { mode: 0o755 });
  return dir;
}

describe("interop harness", () => {
  afterEach(killAll);

  test("SRS-194 each missing client names itself and the Debian package that brings it", () => {
    assert.deepEqual(findPyVisa(["/nonexistent/python3"]), { missing: MISSING.pyvisa });
    assert.equal(
      MISSING.pyvisa,
      "PyVISA not installed: apt-get install python3-pyvisa python3-pyvisa-py",
    );
    for (const name of ["nc", "socat", "telnet"] as const) {
      const found = findProgram(name, "/nonexistent");
      assert.deepEqual(found, { missing: MISSING[name] });
      assert.match(found.missing!, /^\S+ .*not installed: apt-get install \S+$/);
    }
  });

  test("SRS-194 a Python without PyVISA is passed over for the next candidate", () => {
    const dir = fakePath(["python3"]);
    try {
      const fake = join(dir, "python3");
      assert.deepEqual(findPyVisa([fake]), { missing: MISSING.pyvisa });
      // With this machine's PyVISA, when it has one, after the fake.
      const found = findPyVisa();
      if (found.missing === undefined) assert.deepEqual(findPyVisa([fake, found.path]), found);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SRS-194 PYVISA_PYTHON comes first, then Debian's python3, then PATH's, each once", () => {
    const dir = fakePath(["python3"]);
    try {
      const PATH = [dir, "/nonexistent", dir].join(":");
      assert.deepEqual(pythonCandidates({ PATH, PYVISA_PYTHON: "/opt/py/bin/python3" }), [
        "/opt/py/bin/python3",
        "/usr/bin/python3",
        join(dir, "python3"),
      ]);
      assert.deepEqual(pythonCandidates({ PATH: "" }), ["/usr/bin/python3"]);
      assert.deepEqual(onPath("python3", PATH), [join(dir, "python3")]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SRS-194 an nc that does not know -q is not used", () => {
    const dir = fakePath(["nc"], "#!/bin/sh\necho 'usage: nc [-l] host port' >&2\n");
    try {
      assert.deepEqual(findProgram("nc", dir), { missing: MISSING.nc });
      assert.deepEqual(findProgram("socat", dir), { missing: MISSING.socat });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SRS-194 a skipped test's name says why", () => {
    assert.equal(testName("SRS-185 query", { path: "/usr/bin/python3" }), "SRS-185 query");
    assert.equal(
      testName("SRS-185 query", { missing: MISSING.pyvisa }),
      `SRS-185 query [skipped: ${MISSING.pyvisa}]`,
    );
  });

  test("SRS-194 a driver's transcript is read line by line", () => {
    assert.deepEqual(steps('["query", "a"]\n["ms", 3]\n'), [["query", "a"], ["ms", 3]]);
    assert.deepEqual(steps(""), []);
  });

  test(
    "SRS-194 this runtime's test command counts a test without its client as skipped, and says why",
    async () => {
      const run = await spawnClient("env", testArgs(SKIPPED)).done;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      // Deno and Bun print the name only; Node adds the reason after a #.
      const output = stripVTControlCharacters(run.stdout + run.stderr);
      assert.ok(output.includes(`[skipped: ${MISSING.pyvisa}]`), output);
      if ("Deno" in globalThis) assert.match(output, /0 passed \| 0 failed \| 1 ignored/);
      else if ("Bun" in globalThis) assert.match(output, /0 pass\s+1 skip\s+0 fail/);
      else assert.match(output, /pass 0\s+ℹ fail 0[\s\S]*ℹ skipped 1/);
    },
  );
});
