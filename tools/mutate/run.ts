/**
 * `deno task mutate [GROUP...]`: mutation testing with StrykerJS. Each group
 * is a Stryker config beside this file (`framing.json`, …) that mutates some
 * library files and runs, through Stryker's `command` runner, the `deno test`
 * files that cover them. Stryker (which needs Node 22 or newer) and Node come
 * from the npm registry through npx; the Deno running this script is the one
 * the tests run on. Reports go to `reports/mutation/` (git-ignored); the last
 * lines printed are a score table per file.
 *
 * Not part of CI: a group takes minutes.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";

const here = dirname(new URL(import.meta.url).pathname);
const root = join(here, "..", "..");
const STRYKER = ["--yes", "-p", "node@22", "-p", "@stryker-mutator/core@9", "stryker", "run"];

interface MutantResult {
  status: string;
}

/** Detected (killed or timed out) and undetected mutants of one file. */
interface FileScore {
  file: string;
  detected: number;
  survived: number;
}

function scores(report: string): FileScore[] {
  const files = JSON.parse(readFileSync(report, "utf8")).files as Record<
    string,
    { mutants: MutantResult[] }
  >;
  return Object.entries(files).map(([file, { mutants }]) => ({
    file,
    detected: mutants.filter((m) => m.status === "Killed" || m.status === "Timeout").length,
    survived: mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage").length,
  }));
}

function table(rows: FileScore[]): string {
  const lines = ["file                              score  detected  survived"];
  for (const { file, detected, survived } of rows) {
    const total = detected + survived;
    const score = total === 0 ? "-" : `${(100 * detected / total).toFixed(1)}%`;
    lines.push(
      `${file.padEnd(32)} ${score.padStart(6)} ${String(detected).padStart(9)} ${
        String(survived).padStart(9)
      }`,
    );
  }
  return lines.join("\n");
}

const groups = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : readdirSync(here).filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5));
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath();
const env = {
  ...process.env,
  PATH: [deno ? dirname(deno) : undefined, process.env.PATH].filter(Boolean).join(delimiter),
};
let failed = false;
const rows: FileScore[] = [];
for (const group of groups) {
  const config = join(here, `${group}.json`);
  if (!existsSync(config)) throw new TypeError(`no mutation group ${group} (${config})`);
  console.log(`== ${group}`);
  const run = spawnSync("npx", [...STRYKER, config], { cwd: root, env, stdio: "inherit" });
  if (run.status !== 0) failed = true;
  const report = join(root, "reports", "mutation", `${group}.json`);
  if (existsSync(report)) rows.push(...scores(report));
}
console.log(`\n${table(rows)}`);
process.exit(failed ? 1 : 0);
