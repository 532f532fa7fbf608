/**
 * Renders the verification report as Markdown and as one self-contained HTML page.
 *
 * @module
 */

import { countRun, type RuntimeRun, type Srs, type TraceRow } from "./trace.ts";

/** Everything a report shows. */
export interface Report {
  /** The package name. */
  module: string;
  /** The package version (deno.json). */
  version: string;
  /** The git commit, e.g. `abc1234` or `abc1234 (dirty)`. */
  commit: string;
  /** When the report was made, ISO 8601. */
  date: string;
  /** Runtime versions, by runtime name. */
  versions: Record<string, string>;
  /** The requirements. */
  srs: Srs;
  /** The runs, one per runtime. */
  runs: RuntimeRun[];
  /** The trace matrix. */
  trace: TraceRow[];
  /** Why verification fails; empty when it passes. */
  problems: string[];
}

/** The final plain line CI parses: passed and failed tests over all runs. */
export function totalsLine(runs: RuntimeRun[]): string {
  let passed = 0, failed = 0;
  for (const run of runs) {
    const c = countRun(run);
    passed += c.passed;
    failed += c.failed;
  }
  return `${passed} passed, ${failed} failed`;
}

function summaryRows(report: Report): string[][] {
  const tested = report.srs.requirements.filter((r) => r.verification === "test").length;
  return [
    [
      "requirements",
      `${report.srs.requirements.length} (${tested} by test, ` +
      `${report.srs.requirements.length - tested} by inspection)`,
    ],
    ...report.runs.map((run) => {
      const c = countRun(run);
      return [
        run.runtime,
        `${run.results.length} tests: ${c.passed} passed, ${c.failed} failed, ` +
        `${c.skipped} skipped`,
      ];
    }),
    [
      "result",
      report.problems.length === 0
        ? "VERIFIED"
        : `NOT VERIFIED (${report.problems.length} problems)`,
    ],
  ];
}

const mdCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** Renders the report as Markdown. */
export function renderMarkdown(report: Report): string {
  const runtimes = report.runs.map((r) => r.runtime);
  const out: string[] = [
    `# Verification report: ${report.module} ${report.version}`,
    "",
    `- date: ${report.date}`,
    `- commit: ${report.commit}`,
    ...runtimes.map((r) => `- ${r}: ${report.versions[r] ?? "unknown"}`),
    "",
    "## Summary",
    "",
    "| | |",
    "| --- | --- |",
    ...summaryRows(report).map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  if (report.problems.length > 0) {
    out.push("## Problems", "", ...report.problems.map((p) => `- ${mdCell(p)}`), "");
  }
  out.push(
    "## Trace matrix",
    "",
    `| requirement | ${runtimes.join(" | ")} | tests |`,
    `| --- | ${runtimes.map(() => "---").join(" | ")} | --- |`,
    ...report.trace.map((row) =>
      `| ${row.requirement.id} | ${runtimes.map((r) => row.cells[r]).join(" | ")} | ` +
      `${row.tests.map(mdCell).join("<br>") || "—"} |`
    ),
    "",
    "## Requirements",
    "",
    `| id | group | verification | runtimes | description |`,
    "| --- | --- | --- | --- | --- |",
    ...report.srs.requirements.map((r) =>
      `| ${r.id} | ${r.group} | ${r.verification} | ${r.runtimes.join(", ")} | ` +
      `${mdCell(r.description)} |`
    ),
    "",
  );
  return out.join("\n");
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Inline only: the page must open from a file, offline, with nothing else.
const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f2f2f2}.pass{background:#d9f2d9}
.fail,.missing{background:#f8d0d0}.na{color:#888}.inspection{background:#e6ecf8}
.ok{color:#1a7f1a}.bad{color:#b00}ul.tests{margin:0;padding-left:1.2em}`;

/** Renders the report as one self-contained HTML page (inline CSS, no external assets). */
export function renderHtml(report: Report): string {
  const e = escapeHtml;
  const runtimes = report.runs.map((r) => r.runtime);
  const cell = (status: string) => `<td class="${e(status.replace("/", ""))}">${e(status)}</td>`;
  const rows = report.trace.map((row) => {
    const tests = row.tests.length === 0
      ? "—"
      : `<ul class="tests">${row.tests.map((t) => `<li>${e(t)}</li>`).join("")}</ul>`;
    return `<tr><td title="${e(row.requirement.description)}">${e(row.requirement.id)}</td>` +
      `${runtimes.map((r) => cell(row.cells[r])).join("")}<td>${tests}</td></tr>`;
  });
  const problems = report.problems.length === 0
    ? `<p class="ok">Every requirement is verified on every runtime it applies to.</p>`
    : `<h2>Problems</h2><ul class="bad">${
      report.problems.map((p) => `<li>${e(p)}</li>`).join("")
    }</ul>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Verification report: ${e(report.module)} ${e(report.version)}</title>
<style>${CSS}</style></head><body>
<h1>Verification report: ${e(report.module)} ${e(report.version)}</h1>
<p>date ${e(report.date)} · commit ${e(report.commit)} · ${
    runtimes.map((r) => `${e(r)} ${e(report.versions[r] ?? "unknown")}`).join(" · ")
  }</p>
<h2>Summary</h2>
<table>${
    summaryRows(report).map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join("")
  }</table>
${problems}
<h2>Trace matrix</h2>
<table><tr><th>requirement</th>${
    runtimes.map((r) => `<th>${e(r)}</th>`).join("")
  }<th>tests</th></tr>
${rows.join("\n")}
</table>
<h2>Requirements</h2>
<table><tr><th>id</th><th>group</th><th>verification</th><th>runtimes</th><th>description</th></tr>
${
    report.srs.requirements.map((r) =>
      `<tr><td>${e(r.id)}</td><td>${e(r.group)}</td><td>${e(r.verification)}</td>` +
      `<td>${e(r.runtimes.join(", "))}</td><td>${e(r.description)}</td></tr>`
    ).join("\n")
  }
</table>
</body></html>
`;
}
