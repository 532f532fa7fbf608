/**
 * Traces the requirements of `srs.json` to the tests that cite them and finds the gaps.
 *
 * @module
 */

import type { TestResult } from "./junit.ts";

/** How a requirement is verified: by passing tests, or by inspection (review, benchmark). */
export type Verification = "test" | "inspection";

/** One requirement of `srs.json`. */
export interface Requirement {
  /** `SRS-` and three digits. */
  id: string;
  /** One of {@link GROUPS}. */
  group: string;
  /** One "shall" sentence. */
  description: string;
  /** How the requirement is verified. */
  verification: Verification;
  /** The runtimes it applies to, e.g. `["deno", "bun"]`. */
  runtimes: string[];
}

/** The contents of `srs.json`. */
export interface Srs {
  /** The package name. */
  module: string;
  /** The requirements, in id order. */
  requirements: Requirement[];
}

/** The groups a requirement may belong to. */
export const GROUPS = [
  "server",
  "client",
  "framing",
  "sample",
  "runtime",
  "hardening",
  "security",
  "cli",
  "docs",
  "operations",
  "transport",
  "mock",
] as const;

/** The results of one runtime's run of the suite. */
export interface RuntimeRun {
  /** `deno` or `bun`. */
  runtime: string;
  /** Every test case the runtime reported. */
  results: TestResult[];
  /** Why the run as a whole failed without a failing test case (crash, load error), if it did. */
  runError?: string;
}

/** The state of a requirement on one runtime. */
export type CellStatus = "pass" | "fail" | "missing" | "n/a" | "inspection";

/** One row of the trace matrix. */
export interface TraceRow {
  /** The requirement. */
  requirement: Requirement;
  /** The names (`file: name`) of the tests citing it, on any runtime, sorted. */
  tests: string[];
  /** Its state per runtime, by runtime name. */
  cells: Record<string, CellStatus>;
}

/** SRS ids cited in a test name. */
export function citedIds(name: string): string[] {
  return [...new Set(name.match(/SRS-\d{3}/g) ?? [])];
}

/** The name under which a test appears in reports: `file: name`. */
export const testLabel = (t: TestResult): string => (t.file ? `${t.file}: ${t.name}` : t.name);

/**
 * Parses and checks `srs.json`. Returns the requirements and the problems found (bad or
 * duplicate ids, unknown groups, verification or runtimes, descriptions without "shall").
 */
export function parseSrs(text: string): { srs: Srs; problems: string[] } {
  const srs = JSON.parse(text) as Srs;
  const problems: string[] = [];
  if (!Array.isArray(srs.requirements)) {
    return {
      srs: { module: srs.module, requirements: [] },
      problems: ["srs.json has no requirements array"],
    };
  }
  const seen = new Set<string>();
  for (const r of srs.requirements) {
    const where = `srs.json ${r.id ?? "(no id)"}`;
    if (!/^SRS-\d{3}$/.test(r.id ?? "")) problems.push(`${where}: id is not SRS-nnn`);
    if (seen.has(r.id)) problems.push(`${where}: duplicate id`);
    seen.add(r.id);
    if (!(GROUPS as readonly string[]).includes(r.group)) {
      problems.push(`${where}: unknown group "${r.group}"`);
    }
    if (r.verification !== "test" && r.verification !== "inspection") {
      problems.push(`${where}: verification must be "test" or "inspection"`);
    }
    if (!Array.isArray(r.runtimes) || r.runtimes.length === 0) {
      problems.push(`${where}: runtimes must list at least one runtime`);
    }
    if (typeof r.description !== "string" || !/\bshall\b/.test(r.description)) {
      problems.push(`${where}: description must be a "shall" sentence`);
    }
  }
  return { srs, problems };
}

// The state of one requirement on one runtime, from the tests citing it there.
function cellStatus(requirement: Requirement, runtime: string, citing: TestResult[]): CellStatus {
  if (!requirement.runtimes.includes(runtime)) return "n/a";
  if (requirement.verification === "inspection") return "inspection";
  if (citing.some((t) => t.status === "failed")) return "fail";
  if (citing.some((t) => t.status === "passed")) return "pass";
  return "missing"; // no test, or only skipped ones
}

/** Builds the trace matrix: one row per requirement, one cell per run. */
export function buildTrace(srs: Srs, runs: RuntimeRun[]): TraceRow[] {
  return srs.requirements.map((requirement) => {
    const tests = new Set<string>();
    const cells: Record<string, CellStatus> = {};
    for (const run of runs) {
      const citing = run.results.filter((t) => citedIds(t.name).includes(requirement.id));
      for (const t of citing) tests.add(testLabel(t));
      cells[run.runtime] = cellStatus(requirement, run.runtime, citing);
    }
    return { requirement, tests: [...tests].sort(), cells };
  });
}

/**
 * Everything that makes the verification fail, one sentence each: test-verified requirements
 * without a passing test on a runtime they apply to, tests citing ids `srs.json` lacks, failed
 * tests and failed runs.
 */
export function findProblems(srs: Srs, runs: RuntimeRun[], trace: TraceRow[]): string[] {
  const problems: string[] = [];
  for (const row of trace) {
    for (const run of runs) {
      const cell = row.cells[run.runtime];
      if (cell === "missing" || cell === "fail") {
        problems.push(`${row.requirement.id} has no passing test on ${run.runtime}`);
      }
    }
  }
  const known = new Set(srs.requirements.map((r) => r.id));
  for (const run of runs) {
    for (const t of run.results) {
      for (const id of citedIds(t.name).filter((id) => !known.has(id))) {
        problems.push(`test "${testLabel(t)}" on ${run.runtime} cites ${id}, which srs.json lacks`);
      }
    }
  }
  for (const run of runs) {
    for (const t of run.results.filter((t) => t.status === "failed")) {
      problems.push(`test "${testLabel(t)}" failed on ${run.runtime}: ${t.message ?? ""}`.trim());
    }
    if (run.runError) problems.push(`the ${run.runtime} run failed: ${run.runError}`);
  }
  return problems;
}

/** Passed, failed and skipped counts of a run; a failed run without a failing test counts one. */
export function countRun(run: RuntimeRun): { passed: number; failed: number; skipped: number } {
  const count = (s: string) => run.results.filter((t) => t.status === s).length;
  const failed = count("failed");
  return {
    passed: count("passed"),
    failed: failed === 0 && run.runError ? 1 : failed,
    skipped: count("skipped"),
  };
}
