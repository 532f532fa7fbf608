/**
 * The verification report: runs the test suite on Deno and on Bun, traces `srs.json`'s
 * requirements to the tests that cite their ids, and writes `report/verification.md` and
 * `report/verification.html`. Exits non-zero when a requirement lacks a passing test on a
 * runtime it applies to, a test cites an unknown id, or a test fails. The last line printed is
 * always `N passed, N failed` (over both runtimes), for CI.
 *
 * ```sh
 * deno task verify                                       # run both suites, then report
 * deno task verify --from-junit deno=d.xml bun=b.xml     # report on existing JUnit files
 * ```
 *
 * Options: `--out DIR` (default `report`), `--srs FILE` (default `srs.json`).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";
import { parseArgs as parseNodeArgs } from "node:util";
import { parseJUnit } from "./junit.ts";
import { renderHtml, renderMarkdown, type Report, totalsLine } from "./report.ts";
import { buildTrace, findProblems, parseSrs, type RuntimeRun } from "./trace.ts";

/** The runtimes verified, in report order. */
export const RUNTIMES = ["deno", "bun"] as const;

/** Parsed command line. */
export interface VerifyArgs {
  /** JUnit files to report on instead of running the suites, by runtime. */
  fromJunit?: Record<string, string>;
  /** Output directory. */
  out: string;
  /** Requirements file. */
  srs: string;
}

/** Parses the command line; throws a TypeError naming a wrong argument. */
export function parseArgs(args: string[]): VerifyArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args,
      options: {
        out: { type: "string", default: "report" },
        srs: { type: "string", default: "srs.json" },
        "from-junit": { type: "boolean" },
      },
      // The runtime=FILE arguments of --from-junit.
      allowPositionals: true,
    });
  } catch (error) {
    throw new TypeError((error as Error).message, { cause: error });
  }
  const { values, positionals } = parsed;
  const result: VerifyArgs = { out: values.out, srs: values.srs };
  if (values["from-junit"]) {
    result.fromJunit = {};
    for (const pair of positionals) {
      const [runtime, ...file] = pair.split("=");
      if (file.length === 0) throw new TypeError(`--from-junit takes runtime=FILE, got ${pair}`);
      result.fromJunit[runtime] = file.join("=");
    }
    if (positionals.length === 0) {
      throw new TypeError("--from-junit needs runtime=FILE arguments, e.g. deno=deno.xml");
    }
  } else if (positionals.length > 0) {
    throw new TypeError(`unknown argument ${positionals[0]}`);
  }
  return result;
}

// A runtime's command: the running Deno itself, else the PATH, else npx.
function runtimeCommand(runtime: string): string[] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (runtime === "deno" && deno) return [deno.execPath()];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, runtime))) return [join(dir, runtime)];
  }
  return ["npx", "--yes", runtime === "bun" ? "bun@1.4.5" : "deno@2.9.6"];
}

function version(command: string[]): string {
  const r = spawnSync(command[0], [...command.slice(1), "--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n")[0] : "unknown";
}

// Runs one runtime's suite with a JUnit report into `xmlPath`; output goes to the console.
function runSuite(runtime: string, command: string[], xmlPath: string): number {
  const args = runtime === "deno"
    ? ["test", "-A", `--junit-path=${xmlPath}`]
    : ["test", "--reporter=junit", `--reporter-outfile=${xmlPath}`];
  console.log(`\n== ${runtime}: ${[...command, ...args].join(" ")}`);
  const r = spawnSync(command[0], [...command.slice(1), ...args], { stdio: "inherit" });
  return r.status ?? 1;
}

/** Reads one run's JUnit file; a missing or unreadable file, or a bad exit, is a run error. */
export function readRun(runtime: string, xmlPath: string, exitCode = 0): RuntimeRun {
  let xml: string;
  try {
    xml = readFileSync(xmlPath, "utf8");
  } catch {
    return { runtime, results: [], runError: `no JUnit report at ${xmlPath}` };
  }
  try {
    const results = parseJUnit(xml);
    const failing = results.some((t) => t.status === "failed");
    return exitCode !== 0 && !failing
      ? { runtime, results, runError: `exited with code ${exitCode} without a failing test` }
      : { runtime, results };
  } catch (error) {
    return { runtime, results: [], runError: `unreadable JUnit report: ${error}` };
  }
}

function git(...args: string[]): string | undefined {
  const r = spawnSync("git", args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function commit(): string {
  const head = git("rev-parse", "--short", "HEAD");
  if (head === undefined) return "unknown";
  return git("status", "--porcelain") ? `${head} (dirty)` : head;
}

function main(args: VerifyArgs): number {
  const { srs, problems: srsProblems } = parseSrs(readFileSync(args.srs, "utf8"));
  const pkg = JSON.parse(readFileSync("deno.json", "utf8")) as { name?: string; version?: string };
  const versions: Record<string, string> = {};
  const runs: RuntimeRun[] = [];
  if (args.fromJunit) {
    for (const [runtime, file] of Object.entries(args.fromJunit)) {
      versions[runtime] = `unknown (from ${file})`;
      runs.push(readRun(runtime, file));
    }
  } else {
    const dir = mkdtempSync(join(tmpdir(), "verify-"));
    try {
      for (const runtime of RUNTIMES) {
        const command = runtimeCommand(runtime);
        versions[runtime] = version(command);
        const xmlPath = join(dir, `${runtime}.xml`);
        runs.push(readRun(runtime, xmlPath, runSuite(runtime, command, xmlPath)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const trace = buildTrace(srs, runs);
  const problems = [...srsProblems, ...findProblems(srs, runs, trace)];
  const report: Report = {
    module: srs.module ?? pkg.name ?? "",
    version: pkg.version ?? "unknown",
    commit: commit(),
    date: new Date().toISOString(),
    versions,
    srs,
    runs,
    trace,
    problems,
  };
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "verification.md"), renderMarkdown(report));
  writeFileSync(join(args.out, "verification.html"), renderHtml(report));
  console.log(
    `\n${srs.requirements.length} requirements; report in ${args.out}/verification.{md,html}`,
  );
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  console.log(problems.length === 0 ? "VERIFIED" : `NOT VERIFIED: ${problems.length} problems`);
  console.log(totalsLine(runs));
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  let code: number;
  try {
    code = main(parseArgs(process.argv.slice(2)));
  } catch (error) {
    console.error(`verify: ${error instanceof Error ? error.message : error}`);
    console.log("0 passed, 1 failed");
    code = 2;
  }
  process.exit(code);
}
