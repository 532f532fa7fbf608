/**
 * Bench figures with their targets: verdicts, the printed table and the JSON record.
 *
 * @module
 */

/** A bound on a figure, or on its ratio to the reference. */
export interface Target {
  on: "ratio" | "value";
  op: "<=" | ">=";
  limit: number;
}

/** One measured figure. */
export interface Row {
  /** Which comparison this belongs to, such as `"module / baseline"`. */
  section: string;
  /** The server measured, such as `"deno"`. */
  server: string;
  /** What was measured, with its unit, such as `"pipe ops/s"`. */
  metric: string;
  value: number;
  /** The same figure for the reference server, when there is one. */
  reference?: number;
  /**
   * The figure against the reference, when the servers' turns were paired (see `turns.ts`);
   * otherwise `value / reference`.
   */
  ratio?: number;
  /** Where `ratio` would fall, 90 times in 100, were the turns taken again. */
  range?: [number, number];
  target?: Target;
  /** Set when the run itself failed (such as no `pong` after the flood): the row fails. */
  failure?: string;
}

/** A row with its ratio and verdict, as written to the JSON. */
export interface Verdict extends Row {
  pass?: boolean;
}

/**
 * Computes ratios and verdicts.
 *
 * @param rows The figures.
 * @returns Each row with `ratio` (when it has a reference) and `pass` (when it has a target).
 */
export function judge(rows: Row[]): Verdict[] {
  return rows.map((row) => {
    const ratio = row.ratio ??
      (row.reference === undefined ? undefined : row.value / row.reference);
    if (row.target === undefined) return { ...row, ratio };
    const { on, op, limit } = row.target;
    const measured = on === "ratio" ? ratio : row.value;
    const within = measured !== undefined && (op === "<=" ? measured <= limit : measured >= limit);
    return { ...row, ratio, pass: row.failure === undefined && within };
  });
}

function figure(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

function targetText(target: Target | undefined): string {
  if (target === undefined) return "";
  const op = target.op === "<=" ? "≤" : "≥";
  return target.on === "ratio" ? `${op} ${target.limit.toFixed(2)}×` : `${op} ${target.limit}`;
}

/**
 * Renders the verdicts as a plain-text table, one block per section, failures listed last.
 *
 * @param verdicts The judged rows.
 * @returns The table.
 */
export function table(verdicts: Verdict[]): string {
  const header = [
    "server",
    "metric",
    "value",
    "reference",
    "ratio",
    "90 % range",
    "target",
    "verdict",
  ];
  const lines: string[] = [];
  for (const section of [...new Set(verdicts.map((v) => v.section))]) {
    const cells = verdicts.filter((v) => v.section === section).map((v) => [
      v.server,
      v.metric,
      figure(v.value),
      figure(v.reference),
      v.ratio === undefined ? "" : `${v.ratio.toFixed(2)}×`,
      v.range === undefined ? "" : v.range.map((end) => end.toFixed(2)).join("–"),
      targetText(v.target),
      v.pass === undefined ? "" : v.pass ? "PASS" : "FAIL",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const format = (c: string[]) =>
      c.map((cell, i) => i >= 2 && i <= 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
        .join("  ").trimEnd();
    lines.push("", `== ${section}`, format(header), widths.map((w) => "-".repeat(w)).join("  "));
    lines.push(...cells.map(format));
  }
  const failed = verdicts.filter((v) => v.pass === false);
  lines.push("");
  if (failed.length === 0) lines.push("All targets PASS.");
  else {
    lines.push(`${failed.length} target(s) FAIL:`);
    for (const v of failed) {
      const why = v.failure ?? `${figure(v.ratio ?? v.value)} not ${targetText(v.target)}`;
      lines.push(`  FAIL ${v.section}: ${v.server} ${v.metric}: ${why}`);
    }
  }
  return lines.join("\n");
}
