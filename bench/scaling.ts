/**
 * `deno task bench --scaling`: how the cost of serving grows with the work. The module's server
 * on Deno and on Bun, each runtime's baseline and the C reference server, all driven by the C
 * load generator `bench/scalegen.c`, against line size, pipeline depth, clients waiting for
 * their turn, and pings per connection (churn). Each point is a throughput and the server's CPU
 * time (utime + stime from `/proc/PID/stat`, read just before and just after the measured
 * stretch) per command. Servers take turns at every point, several times, and medians count.
 *
 * Writes `bench/results/scaling.json` and the charts `bench/charts/*.svg`; `--quick` (a smoke
 * run) writes `bench/results/scaling-quick.json` and `bench/results/charts/*.svg` instead, so
 * the committed charts only ever show a full run.
 *
 * @module
 */

import { cpuSeconds, onOneCore, startServer, track } from "./proc.ts";
import type { ServerProcess } from "./proc.ts";
import type { Launch } from "./suite.ts";
import { median } from "./turns.ts";
import { lineChart } from "./svg.ts";
import type { Chart, Panel, ScaleKind, Series, Tick } from "./svg.ts";

const here = new URL(".", import.meta.url).pathname;

/** A server of the scaling pass. */
export interface ScalingServer {
  /** Such as `module-deno`, `baseline-bun`, `C`. */
  name: string;
  launch: Launch;
  /** Whether it prints its port (`--port 0`), or is told one (the C server). */
  silentPort?: number;
}

/** One measured point, medians over the turns. */
export interface Point {
  x: number;
  /** Commands (or, for churn, connections) per second. */
  opsPerSec: number;
  /** Server CPU µs per command (per connection for churn). */
  cpuUsPerOp: number;
  /** Waiting clients that connected (the rest stayed in SYN_SENT: the server's backlog was full). */
  connected?: number;
  runs: { opsPerSec: number; cpuUsPerOp: number }[];
}

/** A dimension: how the generator is run at each x. */
interface Dimension {
  key: "size" | "depth" | "waiting" | "churn";
  xs: number[];
  /** scalegen's arguments after the port. */
  args: (x: number, seconds: number) => string[];
}

/** Settings of a pass. */
export interface ScalingSettings {
  quick: boolean;
  /** Seconds per measured stretch. */
  seconds: number;
  /** Turns at every point. */
  turns: number;
  /** Pairs of stretches (none waiting, most waiting) per module server for the waiting verdict. */
  waitingPairs: number;
  /** Seconds per stretch of those pairs. */
  waitingSeconds: number;
}

/** Line size (bytes per command, LF included) at the fixed pipeline depth of that dimension. */
export const SIZE_DEPTH = 16;

function dimensions(quick: boolean, waitingMax: number): Dimension[] {
  const pick = (full: number[], few: number[]) => quick ? few : full;
  return [
    {
      key: "size",
      xs: pick([16, 64, 256, 1024, 4096, 16384, 65536], [16, 1024, 65536]),
      args: (x, s) => ["pipe", String(x), String(SIZE_DEPTH), String(s), "0"],
    },
    {
      key: "depth",
      xs: pick([1, 4, 16, 64, 256, 1024, 4096], [1, 64, 4096]),
      args: (x, s) => ["pipe", "0", String(x), String(s), "0"],
    },
    {
      key: "waiting",
      xs: pick([0, 500, 1000, 2000], [0, 2000]).map((x) => Math.min(x, waitingMax)),
      args: (x, s) => ["pipe", "0", "1", String(s), String(x)],
    },
    {
      key: "churn",
      xs: pick([1, 4, 16], [1, 16]),
      args: (x, s) => ["churn", String(x), String(s)],
    },
  ];
}

/** Builds scalegen with `cc -O2`. */
export async function buildScalegen(): Promise<{ path: string; remove(): void }> {
  const dir = Deno.makeTempDirSync({ prefix: "scalegen-" });
  const remove = () => Deno.removeSync(dir, { recursive: true });
  const output = await new Deno.Command("cc", {
    args: ["-O2", "-o", `${dir}/scalegen`, `${here}scalegen.c`],
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => {
    remove();
    throw new Error(`cc is needed for the scaling pass: ${error}`);
  });
  if (!output.success) {
    remove();
    throw new Error(`scalegen did not build: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return { path: `${dir}/scalegen`, remove };
}

/** The soft and hard open-file limits of this process (and so of the servers it starts). */
export function fileLimits(): { soft: number; hard: number } {
  const text = Deno.readTextFileSync("/proc/self/limits");
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const value = (s: string | undefined) => s === undefined || s === "unlimited" ? Infinity : +s;
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

// Runs scalegen once: waits for `ready`, lets the server settle when clients were queued, reads
// the server's CPU time, says go, waits for `done`, reads the CPU time again, lets it tear down.
async function measureOnce(
  scalegen: string,
  server: ServerProcess,
  args: string[],
): Promise<{ ops: number; secs: number; cpu: number; connected: number }> {
  const child = new Deno.Command(scalegen, {
    args: [String(server.port), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  track(child);
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) {
        throw new Error(`scalegen ${args.join(" ")} failed: ${(await stderr).trim()}`);
      }
      buffered += value;
    }
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(line.length + 1);
    return line;
  };
  const field = (line: string, name: string) =>
    Number(new RegExp(`${name}=([\\d.]+)`).exec(line)![1]);
  try {
    const ready = await nextLine();
    const connected = field(ready, "connected");
    if (connected > 0) {
      // The server accepts and queues the clients: wait until its CPU time has not moved for
      // half a second (five reads; it counts in ticks of 10 ms), at most 5 s.
      let last = cpuSeconds(server.pid);
      for (let still = 0, i = 0; still < 5 && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = cpuSeconds(server.pid);
        still = now === last ? still + 1 : 0;
        last = now;
      }
    }
    const before = cpuSeconds(server.pid);
    await writer.write(new TextEncoder().encode("go\n"));
    const done = await nextLine();
    const cpu = cpuSeconds(server.pid) - before;
    await writer.write(new TextEncoder().encode("end\n"));
    await writer.close();
    const status = await child.status;
    if (!status.success) throw new Error(`scalegen failed: ${(await stderr).trim()}`);
    return { ops: field(done, "ops"), secs: field(done, "secs"), cpu, connected };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw error;
  } finally {
    clearTimeout(killer);
    await child.status;
  }
}

/** The record the pass writes. */
export interface ScalingRecord {
  settings: ScalingSettings;
  notes: string[];
  /** Dimension → server → points. */
  dimensions: Record<string, Record<string, Point[]>>;
  /**
   * Per server: the figures with the most clients waiting over those with none. For the module's
   * servers, the judged ones, the medians of `pairs` paired ratios on one core; for the others,
   * the ratio of the waiting dimension's end points.
   */
  waiting: Record<string, WaitingRatios>;
}

/** How serving with the most clients waiting compares with serving with none. */
export interface WaitingRatios {
  most: number;
  throughputRatio: number;
  cpuRatio: number;
  /** The paired stretches' CPU ratios, for the module's servers. */
  pairs?: number[];
}

/**
 * Runs the pass: starts every server, measures each dimension with servers taking turns, and
 * stops them again.
 *
 * @param servers The servers.
 * @param scalegen The built load generator.
 * @param settings Duration and turns.
 * @param log Progress messages.
 * @returns The figures.
 */
export async function measureScaling(
  servers: ScalingServer[],
  scalegen: string,
  settings: ScalingSettings,
  log: (message: string) => void,
): Promise<ScalingRecord> {
  const notes: string[] = [];
  const limits = fileLimits();
  const needed = 2000 + 200;
  let waitingMax = 2000;
  if (limits.soft < needed) {
    if (limits.hard >= needed) {
      notes.push(`ulimit -n ${limits.soft}: servers started with ulimit -n ${needed}`);
    } else {
      waitingMax = Math.max(0, limits.hard - 200);
      notes.push(
        `ulimit -n is ${limits.soft} (hard ${limits.hard}): at most ${waitingMax} waiting clients ` +
          `(raise the limit with ulimit -n 4096 for 2,000)`,
      );
    }
  }
  const withLimit = ([command, args]: Launch): Launch =>
    limits.soft < needed && limits.hard >= needed
      ? ["sh", ["-c", `ulimit -n ${needed} && exec "$0" "$@"`, command, ...args]]
      : [command, args];
  const started: { name: string; server: ServerProcess }[] = [];
  try {
    for (const { name, launch, silentPort } of servers) {
      started.push({ name, server: await startServer(...withLimit(launch), silentPort) });
    }
    // Fresh processes: an unrecorded stretch of busy work first, so the JIT's warm-up is not
    // measured.
    for (const { server } of started) {
      await measureOnce(scalegen, server, ["pipe", "1024", "64", String(settings.seconds), "0"]);
      await measureOnce(scalegen, server, ["pipe", "0", "1", String(settings.seconds / 2), "0"]);
    }
    const record: ScalingRecord = { settings, notes, dimensions: {}, waiting: {} };
    for (const dimension of dimensions(settings.quick, waitingMax)) {
      log(`scaling: ${dimension.key} ${dimension.xs.join(", ")}`);
      const runs = new Map<
        string,
        { opsPerSec: number; cpuUsPerOp: number; connected: number }[]
      >();
      for (let turn = 0; turn < settings.turns; turn++) {
        for (const x of dimension.xs) {
          for (const { name, server } of started) {
            const { ops, secs, cpu, connected } = await measureOnce(
              scalegen,
              server,
              dimension.args(x, settings.seconds),
            );
            const key = `${name}\0${x}`;
            if (!runs.has(key)) runs.set(key, []);
            runs.get(key)!.push({ opsPerSec: ops / secs, cpuUsPerOp: cpu / ops * 1e6, connected });
          }
        }
      }
      const byServer: Record<string, Point[]> = {};
      for (const { name } of started) {
        byServer[name] = dimension.xs.map((x) => {
          const r = runs.get(`${name}\0${x}`)!;
          const point: Point = {
            x,
            opsPerSec: median(r.map((v) => v.opsPerSec)),
            cpuUsPerOp: median(r.map((v) => v.cpuUsPerOp)),
            runs: r.map(({ opsPerSec, cpuUsPerOp }) => ({ opsPerSec, cpuUsPerOp })),
          };
          if (dimension.key === "waiting") point.connected = Math.min(...r.map((v) => v.connected));
          return point;
        });
      }
      record.dimensions[dimension.key] = byServer;
    }
    for (const [name, points] of Object.entries(record.dimensions.waiting ?? {})) {
      const none = points[0], most = points[points.length - 1];
      record.waiting[name] = {
        most: most.connected ?? most.x,
        throughputRatio: most.opsPerSec / none.opsPerSec,
        cpuRatio: most.cpuUsPerOp / none.cpuUsPerOp,
      };
    }
    const judged = started.filter(({ name }) => name.startsWith("module-"));
    if (waitingMax > 0 && judged.length > 0 && settings.waitingPairs > 0) {
      log(`scaling: waiting verdict, ${settings.waitingPairs} pairs per module server, one core`);
      const pids = started.map(({ server }) => server.pid);
      const pairs = await onOneCore(
        pids,
        () => waitingPairs(scalegen, judged, waitingMax, settings),
      );
      Object.assign(record.waiting, pairs);
    }
    return record;
  } finally {
    await Promise.all(started.map(({ server }) => server.stop()));
  }
}

// The waiting verdict: 5 % is well inside a single stretch's noise on a shared machine (a
// server's CPU per round trip moves by ±15 % between stretches), so each module server serves
// pairs of stretches, one with no client waiting and one with the most, back to back and in
// alternating order so that drift cancels, on one core so that where the scheduler puts the
// processes does not count; the median of the pairs' ratios is judged.
async function waitingPairs(
  scalegen: string,
  servers: { name: string; server: ServerProcess }[],
  most: number,
  settings: ScalingSettings,
): Promise<Record<string, WaitingRatios>> {
  const ratios = new Map(
    servers.map(({ name }) => [name, { cpu: [] as number[], ops: [] as number[] }]),
  );
  const seconds = String(settings.waitingSeconds);
  for (let pair = 0; pair < settings.waitingPairs; pair++) {
    for (const { name, server } of servers) {
      const stretch = (waiting: number) =>
        measureOnce(scalegen, server, ["pipe", "0", "1", seconds, String(waiting)]);
      let none, full;
      if (pair % 2 === 0) {
        none = await stretch(0);
        full = await stretch(most);
      } else {
        full = await stretch(most);
        none = await stretch(0);
      }
      const r = ratios.get(name)!;
      r.cpu.push((full.cpu / full.ops) / (none.cpu / none.ops));
      r.ops.push((full.ops / full.secs) / (none.ops / none.secs));
    }
  }
  return Object.fromEntries(
    [...ratios].map(([name, r]) => [name, {
      most,
      throughputRatio: median(r.ops),
      cpuRatio: median(r.cpu),
      pairs: r.cpu,
    }]),
  );
}

// How each server is drawn, and what the legend says it is.
const STYLE: Record<string, { color: string; dash?: string; description: string }> = {
  "module-deno": { color: "#1565c0", description: "this module's server on Deno" },
  "baseline-deno": {
    color: "#64b5f6",
    dash: "7 4",
    description: "a bare server on Deno's own sockets: no module",
  },
  "module-bun": { color: "#d84315", description: "this module's server on Bun" },
  "baseline-bun": {
    color: "#ffab91",
    dash: "7 4",
    description: "a bare server on Bun's own sockets: no module",
  },
  "C": { color: "#212121", dash: "2 3", description: "the C reference server" },
};

function bytes(n: number): string {
  return n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}

/**
 * The charts of a record, one per dimension: throughput above, server CPU per command below.
 *
 * @param record The figures.
 * @param subtitle Said under each title (the machine and run).
 * @returns File name → SVG.
 */
export function scalingCharts(record: ScalingRecord, subtitle: string): Record<string, string> {
  const charts: Record<string, string> = {};
  const series = (
    points: Record<string, Point[]>,
    y: (p: Point) => number,
    x: (p: Point) => number = (p) => p.x,
  ): Series[] =>
    Object.entries(points).map(([name, list]) => ({
      name,
      points: list.map((p) => [x(p), y(p)]),
      spread: list.map((p) => {
        const runs = p.runs.map((run) => y({ ...p, ...run }));
        return [x(p), Math.min(...runs), Math.max(...runs)];
      }),
      ...(STYLE[name] ?? { color: "#888888", description: name }),
    }));
  const ticks = (xs: number[], label: (x: number) => string): Tick[] =>
    xs.map((value) => ({ value, label: label(value) }));
  // Throughput above, the server's CPU time per unit of work below, on the same scale.
  const panels = (
    points: Record<string, Point[]>,
    unit: string,
    yScale: ScaleKind,
    x?: (p: Point) => number,
  ): Panel[] => {
    const scaleNote = yScale === "log" ? " (log)" : "";
    return [
      {
        yLabel: `${unit}s/s${scaleNote}`,
        yScale,
        better: "higher",
        series: series(points, (p) => p.opsPerSec, x),
      },
      {
        yLabel: `server CPU µs per ${unit}${scaleNote}`,
        yScale,
        better: "lower",
        series: series(points, (p) => p.cpuUsPerOp, x),
      },
    ];
  };
  // The x values measured, the same for every server of a dimension.
  const xsOf = (points: Record<string, Point[]>) => Object.values(points)[0].map((p) => p.x);
  const d = record.dimensions;
  const turns = Math.max(
    ...Object.values(d).flatMap((byServer) => Object.values(byServer ?? {}))
      .flatMap((list) => list.map((p) => p.runs.length)),
  );
  const legendNote = turns > 1
    ? `Each point: the median of ${turns} runs; the band around a line: the lowest to the ` +
      "highest of them."
    : "Each point: one run.";
  const draw = (file: string, chart: Chart) => charts[file] = lineChart({ ...chart, legendNote });
  if (d.size) {
    draw("line-size.svg", {
      title: `Line size (echo, ${SIZE_DEPTH} commands outstanding)`,
      subtitle,
      xLabel: "bytes per command line, LF included (log scale)",
      xScale: "log",
      xTicks: ticks(xsOf(d.size), bytes),
      panels: panels(d.size, "command", "log"),
    });
  }
  if (d.depth) {
    draw("pipeline-depth.svg", {
      title: "Pipeline depth (ping)",
      subtitle,
      xLabel: "commands outstanding (log scale)",
      xScale: "log",
      xTicks: ticks(xsOf(d.depth), String),
      panels: panels(d.depth, "command", "log"),
    });
  }
  if (d.waiting) {
    const step = Math.max(...xsOf(d.waiting), 1) / 4;
    draw("waiting-clients.svg", {
      title: "Clients waiting for their turn (ping round trips of the active client)",
      subtitle,
      xLabel:
        "idle clients queued behind the active one (C, Deno baseline: those the backlog took)",
      xScale: "linear",
      xTicks: ticks([0, 1, 2, 3, 4].map((i) => Math.round(i * step)), String),
      panels: panels(d.waiting, "round trip", "linear", (p) => p.connected ?? p.x),
    });
  }
  if (d.churn) {
    draw("churn.svg", {
      title: "Connection churn (connect, N pings, disconnect)",
      subtitle,
      xLabel: "pings per connection (log scale)",
      xScale: "log",
      xTicks: ticks(xsOf(d.churn), String),
      panels: panels(d.churn, "connection", "log"),
    });
  }
  return charts;
}

/**
 * A plain-text table of a record, for the terminal.
 *
 * @param record The figures.
 * @returns The table.
 */
export function scalingTable(record: ScalingRecord): string {
  const lines: string[] = [];
  const fmt = (v: number) =>
    v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(v >= 10 ? 1 : 2);
  for (const [key, byServer] of Object.entries(record.dimensions)) {
    const names = Object.keys(byServer);
    lines.push("", `== ${key}: ops/s | server CPU µs per op`);
    lines.push(["x".padStart(6), ...names.map((n) => n.padStart(24))].join(" "));
    byServer[names[0]].forEach((point, i) => {
      const cells = names.map((n) => {
        const p = byServer[n][i];
        const waited = p.connected !== undefined && p.connected !== p.x ? ` (${p.connected})` : "";
        return `${fmt(p.opsPerSec)} | ${fmt(p.cpuUsPerOp)}${waited}`.padStart(24);
      });
      lines.push([String(point.x).padStart(6), ...cells].join(" "));
    });
  }
  if (Object.keys(record.waiting).length > 0) {
    lines.push(
      "",
      "== waiting: most clients queued / none (module servers: median of paired stretches on " +
        "one core, target CPU per command within 5 %; others: end points of the chart)",
    );
    for (const [name, w] of Object.entries(record.waiting)) {
      const verdict = w.pairs === undefined
        ? ""
        : `, ${w.pairs.length} pairs (${Math.min(...w.pairs).toFixed(2)}–` +
          `${Math.max(...w.pairs).toFixed(2)}×): ${
            Math.abs(w.cpuRatio - 1) <= 0.05 ? "PASS" : "FAIL"
          }`;
      lines.push(
        `${name.padEnd(14)} ${String(w.most).padStart(5)} waiting: throughput ` +
          `${w.throughputRatio.toFixed(3)}×, CPU per command ${w.cpuRatio.toFixed(3)}×${verdict}`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * Writes the record and its charts: `bench/results/scaling.json` and `bench/charts/` for a full
 * pass, `bench/results/scaling-quick.json` and `bench/results/charts/` for `--quick`.
 *
 * @param record The figures, with whatever else the record should say.
 * @param charts File name → SVG.
 * @param quick Whether this was a smoke run.
 * @returns The paths written, relative to the repository.
 */
export async function writeScaling(
  record: unknown,
  charts: Record<string, string>,
  quick: boolean,
): Promise<string[]> {
  const json = quick ? "results/scaling-quick.json" : "results/scaling.json";
  const chartDir = quick ? "results/charts" : "charts";
  Deno.mkdirSync(`${here}results`, { recursive: true });
  Deno.mkdirSync(`${here}${chartDir}`, { recursive: true });
  Deno.writeTextFileSync(`${here}${json}`, JSON.stringify(record, null, 2) + "\n");
  const written = [`bench/${json}`];
  for (const [file, svg] of Object.entries(charts)) {
    Deno.writeTextFileSync(`${here}${chartDir}/${file}`, svg);
    written.push(`bench/${chartDir}/${file}`);
  }
  // `deno fmt` formats SVG too: written in its layout, the charts keep `deno fmt --check` clean.
  const files = Object.keys(charts).map((file) => `${here}${chartDir}/${file}`);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", ...files] }).output()
    .catch(() => {});
  return written;
}
