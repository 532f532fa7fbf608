// Real clients against a server started in the test's own process: finds PyVISA (with
// pyvisa-py), nc, socat and telnet, names the tests that must be skipped without them,
// and spawns them as bounded child processes that an after hook can kill.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { Subprocess } from "../test_util.ts";

/** A client program found on this machine, or why it cannot be used. */
export type Found = { path: string; missing?: undefined } | { missing: string };

/** Why each client is missing, and the Debian package that brings it. */
export const MISSING = {
  pyvisa: "PyVISA not installed: apt-get install python3-pyvisa python3-pyvisa-py",
  nc: "nc (OpenBSD netcat) not installed: apt-get install netcat-openbsd",
  socat: "socat not installed: apt-get install socat",
  telnet: "telnet not installed: apt-get install telnet",
} as const;

/** The executables called `name` on `path` (a PATH value), in PATH order. */
export function onPath(name: string, path = process.env.PATH ?? ""): string[] {
  const found: string[] = [];
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile() && !found.includes(file)) found.push(file);
    } catch {
      // Not there, or not executable.
    }
  }
  return found;
}

/**
 * The Pythons that may have PyVISA, best first: `$PYVISA_PYTHON` when set, then Debian's
 * (which `apt-get install python3-pyvisa` serves, whatever pyenv or a venv puts first on
 * PATH), then every `python3` on PATH.
 */
export function pythonCandidates(env = process.env): string[] {
  const candidates = [env.PYVISA_PYTHON, "/usr/bin/python3", ...onPath("python3", env.PATH)];
  return [...new Set(candidates.filter((c): c is string => !!c))];
}

// Whether `command args` runs and exits 0 within a few seconds, output ignored.
function succeeds(command: string, args: string[]): boolean {
  const run = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 });
  return run.error === undefined && run.status === 0;
}

/** The first of `candidates` that imports pyvisa and pyvisa_py, else why none does. */
export function findPyVisa(candidates = pythonCandidates()): Found {
  const path = candidates.find((python) => succeeds(python, ["-c", "import pyvisa, pyvisa_py"]));
  return path === undefined ? { missing: MISSING.pyvisa } : { path };
}

/**
 * `nc`, `socat` or `telnet` from PATH, else why it is missing. An `nc` must be one that
 * knows `-q` (OpenBSD's, as Debian patches it, or the traditional one).
 */
export function findProgram(name: "nc" | "socat" | "telnet", path = process.env.PATH): Found {
  for (const file of onPath(name, path)) {
    if (name !== "nc") return { path: file };
    const help = spawnSync(file, ["-h"], { encoding: "utf8", timeout: 10_000 });
    if (`${help.stdout}${help.stderr}`.includes("-q")) return { path: file };
  }
  return { missing: MISSING[name] };
}

/** The name a test is shown under: with the reason it is skipped, when it is. */
export function testName(name: string, found: Found): string {
  return found.missing === undefined ? name : `${name} [skipped: ${found.missing}]`;
}

/**
 * A test that needs a client program: run with its path when it was found, else
 * registered as skipped, its name and reason saying what is missing and how to install it
 * (Deno prints skipped tests as "ignored" without a reason, hence the name).
 */
export function interopTest(
  name: string,
  found: Found,
  body: (path: string) => Promise<void>,
): void {
  if (found.missing === undefined) test(name, () => body(found.path));
  else test(testName(name, found), { skip: found.missing }, () => {});
}

// Every client spawned and not yet reaped, for killAll.
const running = new Set<Subprocess>();

/**
 * Spawns a client, bounded (killed past `SUBPROCESS_LIMIT_MS`) and tracked until it ends,
 * so that an after hook can kill what a failed test left running.
 */
export function spawnClient(command: string, args: string[]): Subprocess {
  const child = new Subprocess(command, args);
  running.add(child);
  child.done.finally(() => running.delete(child));
  return child;
}

/** Kills every client still running and waits for them to end (for `afterEach`). */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const child of left) child.child.kill("SIGKILL");
  await Promise.all(left.map((child) => child.done));
}

/** The PyVISA driver script (a scenario per run; see its docstring). */
export const PYVISA_DRIVER = fileURLToPath(new URL("./pyvisa_driver.py", import.meta.url));

/** One step of a driver's transcript: what it did and what came back. */
export type Step = [string, unknown];

/** The steps a driver printed so far, one JSON array per line. */
export function steps(stdout: string): Step[] {
  return stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Starts PyVISA's driver on `python` for `scenario` against 127.0.0.1:`port`. */
export function spawnPyVisa(
  python: string,
  scenario: string,
  port: number,
  ...args: string[]
): Subprocess {
  return spawnClient(python, [PYVISA_DRIVER, scenario, String(port), ...args]);
}

/** Runs the driver to its end; fails, with all it printed, unless it exits 0. */
export function runPyVisa(
  python: string,
  scenario: string,
  port: number,
  ...args: string[]
): Promise<Step[]> {
  return transcript(spawnPyVisa(python, scenario, port, ...args));
}

/** Waits for a driver to end; its steps, or an error with all it printed. */
export async function transcript(driver: Subprocess): Promise<Step[]> {
  const run = await driver.done;
  if (run.code !== 0) {
    throw new Error(
      `the PyVISA driver exited with ${run.code ?? run.signal}:\n${run.stdout}${run.stderr}`,
    );
  }
  return steps(run.stdout);
}
