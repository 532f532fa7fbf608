/**
 * `deno task bench`: measures the module's server on Deno and on Bun against a hand-written
 * baseline on the same runtime, and against the C reference server, then prints a table with
 * PASS/FAIL per target and writes `bench/results/latest.json`. Exits 0 even when a target fails
 * (it is a report); exits 1 when the bench itself breaks. Every server it starts is killed on
 * the way out.
 *
 * Flags: `--quick` (short smoke run), `--runtime deno|bun` (just one), `--duration SECONDS`
 * (per measured pass; default 0.5, with 8 rounds of turns, so each figure is a median of 8 or 9
 * passes, and each ratio the median of 16 paired ones, shown with its 90 % range; see
 * `turns.ts`). `--scaling` runs the scaling pass instead (see `scaling.ts`; with `--quick`, a smoke
 * run of under a minute; `--duration` defaults to 0.4 there, with 3 turns per point).
 * `--against REV` measures the module's server against its own `bench/server.ts` at an earlier
 * commit instead of the baselines (and skips the C reference), to show what changes cost, with
 * 24 rounds (its limits are the bench's noise, so it takes more turns to see past it); it
 * writes `bench/results/against.json`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { buildNativeTools } from "./native.ts";
import type { NativeTools } from "./native.ts";
import { freePort, killAll, startServer } from "./proc.ts";
import { judge, table } from "./report.ts";
import type { Row } from "./report.ts";
import { measureNative, measureRuntime, turns } from "./suite.ts";
import {
  buildScalegen,
  measureScaling,
  scalingCharts,
  scalingTable,
  writeScaling,
} from "./scaling.ts";
import type { ScalingServer } from "./scaling.ts";
import type { RuntimeSetup, Settings } from "./suite.ts";

const here = new URL(".", import.meta.url).pathname;
const MIB = 1024 * 1024;
// Rounds of turns against an earlier commit: a turn moves by a tenth on these machines, and the
// question is a change of a few percent.
const AGAINST_ROUNDS = 24;

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      scaling: { type: "boolean", default: false },
      runtime: { type: "string" },
      duration: { type: "string" },
      against: { type: "string" },
    },
  });
  if (values.against !== undefined && values.scaling) {
    throw new TypeError("--against and --scaling do not go together");
  }
  if (values.runtime !== undefined && !["deno", "bun"].includes(values.runtime)) {
    throw new TypeError(`--runtime must be deno or bun, got ${values.runtime}`);
  }
  const seconds = Number(
    values.duration ?? (values.scaling ? (values.quick ? 0.15 : 0.4) : values.quick ? 0.2 : 0.5),
  );
  if (!(seconds > 0)) throw new RangeError(`--duration must be a positive number of seconds`);
  const settings: Settings = {
    seconds,
    rounds: values.quick ? 1 : values.against === undefined ? 8 : AGAINST_ROUNDS,
    floodBytes: (values.quick ? 64 : 1024) * MIB,
    idleSeconds: values.quick ? 1 : 5,
  };
  const runtimes = values.runtime ? [values.runtime] : ["deno", "bun"];
  return {
    settings,
    runtimes,
    quick: values.quick,
    scaling: values.scaling,
    against: values.against,
  };
}

async function text(command: string, args: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
      .output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

// The bun executable itself (not an npx wrapper, whose pid would hide bun's memory and CPU).
async function findBun(): Promise<string | undefined> {
  if (await text("bun", ["--version"]) !== undefined) {
    return await text("bun", ["-e", "console.log(process.execPath)"]);
  }
  return await text("npx", ["--yes", "bun@1.4.5", "-e", "console.log(process.execPath)"]);
}

function machine() {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    loadavg: Deno.loadavg(),
  };
}

// The repository's tree at `rev`, in a temporary folder: its module server is the reference.
async function checkout(rev: string): Promise<{ label: string; dir: string }> {
  const root = new URL("..", import.meta.url).pathname;
  const label = await text("git", ["-C", root, "rev-parse", "--short", rev]);
  if (label === undefined) throw new TypeError(`--against: no commit ${rev} in ${root}`);
  const dir = Deno.makeTempDirSync({ prefix: "oneline-bench-" });
  const unpacked = await new Deno.Command("sh", {
    args: ["-c", `git -C "${root}" archive ${label} | tar -x -C "${dir}"`],
  }).output();
  if (!unpacked.success) throw new Error(`--against: cannot unpack ${label}`);
  return { label, dir };
}

async function main(
  { settings, runtimes, quick, scaling, against }: ReturnType<typeof options>,
): Promise<number> {
  const log = (message: string) => console.error(`[bench] ${message}`);
  const date = new Date().toISOString();
  const versions: Record<string, string> = {};
  const setups: RuntimeSetup[] = [];
  const notes: string[] = [];
  const earlier = against === undefined ? undefined : await checkout(against);
  // The reference on a runtime: its baseline, or the module's server at the earlier commit.
  const reference = (baseline: string) =>
    earlier === undefined ? `${here}${baseline}` : `${earlier.dir}/bench/server.ts`;
  const deno = Deno.execPath();
  if (runtimes.includes("deno")) {
    versions.deno = Deno.version.deno;
    setups.push({
      name: "deno",
      module: [deno, ["run", "-A", `${here}server.ts`, "--port", "0"]],
      baseline: [deno, ["run", "-A", reference("baseline_deno.ts"), "--port", "0"]],
      against: earlier?.label,
    });
  }
  if (runtimes.includes("bun")) {
    const bun = await findBun();
    if (bun === undefined) notes.push("bun not found: Bun not measured");
    else {
      versions.bun = (await text(bun, ["--version"])) ?? "unknown";
      setups.push({
        name: "bun",
        module: [bun, ["run", `${here}server.ts`, "--port", "0"]],
        baseline: [bun, ["run", reference("baseline_bun.ts"), "--port", "0"]],
        against: earlier?.label,
      });
    }
  }
  const info = machine();
  const runtimeText = Object.entries(versions).map((e) => e.join(" ")).join(", ");
  log(`${info.cpu}, ${info.cores} cores, ${runtimeText}`);

  if (scaling) {
    return await scalingPass(setups, settings.seconds, quick, notes, info, versions, date);
  }

  const rows: Row[] = [];
  try {
    for (const setup of setups) rows.push(...await measureRuntime(setup, settings, log));
  } finally {
    if (earlier !== undefined) Deno.removeSync(earlier.dir, { recursive: true });
  }
  if (earlier !== undefined) {
    return report(rows, { date, quick, info, versions, settings, notes }, "against.json");
  }

  const source = Deno.env.get("OLBENCH_SRC") ?? new URL("../../shared/bench", import.meta.url)
    .pathname;
  const tools: NativeTools | string = await buildNativeTools(source);
  if (typeof tools === "string") notes.push(tools);
  else {
    try {
      const port = freePort();
      const reference = await startServer(tools.refserver, [String(port)], port);
      // The baselines are measured too, so the runtime's own share of each gap can be read.
      const contenders = await Promise.all(setups.flatMap((s) => [
        startServer(...s.module).then((server) => ({ name: s.name, server, judged: true })),
        startServer(...s.baseline).then((server) => ({
          name: `${s.name} baseline`,
          server,
          judged: false,
        })),
      ]));
      try {
        rows.push(...await measureNative(tools.olbench, reference, contenders, settings, log));
      } finally {
        await Promise.all([reference, ...contenders.map((c) => c.server)].map((s) => s.stop()));
      }
    } finally {
      tools.remove();
    }
  }

  return report(rows, { date, quick, info, versions, settings, notes }, "latest.json");
}

// Prints the table and writes the JSON record.
function report(
  rows: Row[],
  { date, quick, info, versions, settings, notes }: {
    date: string;
    quick: boolean;
    info: ReturnType<typeof machine>;
    versions: Record<string, string>;
    settings: Settings;
    notes: string[];
  },
  file: string,
): number {
  const runtimeText = Object.entries(versions).map((e) => e.join(" ")).join(", ");
  const verdicts = judge(rows);
  console.log(`socket-oneline bench, ${date}${quick ? " (quick)" : ""}`);
  console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.os}, load ${info.loadavg}`);
  console.log(`runtimes: ${runtimeText}`);
  console.log(
    `pass: ${settings.seconds} s (${turns(settings.rounds)}; medians, paired ratios); flood ${
      settings.floodBytes / MIB
    } MiB; idle ${settings.idleSeconds} s`,
  );
  for (const note of notes) console.log(`note: ${note}`);
  console.log(table(verdicts));

  const record = { date, quick, machine: info, runtimes: versions, settings, notes, verdicts };
  Deno.mkdirSync(`${here}results`, { recursive: true });
  Deno.writeTextFileSync(`${here}results/${file}`, JSON.stringify(record, null, 2) + "\n");
  console.log(`\nwritten: bench/results/${file}`);
  return 0;
}

async function scalingPass(
  setups: RuntimeSetup[],
  seconds: number,
  quick: boolean,
  notes: string[],
  info: ReturnType<typeof machine>,
  versions: Record<string, string>,
  date: string,
): Promise<number> {
  const log = (message: string) => console.error(`[bench] ${message}`);
  const source = Deno.env.get("OLBENCH_SRC") ?? new URL("../../shared/bench", import.meta.url)
    .pathname;
  const tools = await buildNativeTools(source);
  const scalegen = await buildScalegen();
  try {
    const servers: ScalingServer[] = setups.flatMap((s) => [
      { name: `module-${s.name}`, launch: s.module },
      { name: `baseline-${s.name}`, launch: s.baseline },
    ]);
    if (typeof tools === "string") notes.push(tools);
    else {
      const port = freePort();
      servers.push({ name: "C", launch: [tools.refserver, [String(port)]], silentPort: port });
    }
    const settings = {
      quick,
      seconds,
      turns: quick ? 1 : 3,
      waitingPairs: quick ? 1 : 12,
      waitingSeconds: quick ? seconds : 1,
    };
    const result = await measureScaling(servers, scalegen.path, settings, log);
    result.notes.unshift(...notes);
    const runtimeText = Object.entries(versions).map((e) => e.join(" ")).join(", ");
    const subtitle = `${date.slice(0, 10)}${quick ? " (quick)" : ""}, ${info.cores} cores, ` +
      runtimeText;
    const record = { date, quick, machine: info, runtimes: versions, ...result };
    console.log(`socket-oneline scaling pass, ${date}${quick ? " (quick)" : ""}`);
    console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.os}, load ${info.loadavg}`);
    console.log(`runtimes: ${runtimeText}; ${seconds} s per stretch, ${settings.turns} turn(s)`);
    for (const note of result.notes) console.log(`note: ${note}`);
    console.log(scalingTable(result));
    const written = await writeScaling(record, scalingCharts(result, subtitle), quick);
    console.log(`\nwritten: ${written.join(", ")}`);
    return 0;
  } finally {
    scalegen.remove();
    if (typeof tools !== "string") tools.remove();
  }
}

// A hung server or client must not leave the bench (or its children) running for ever.
const watchdog = setTimeout(() => {
  console.error("bench failed: still running after 10 minutes");
  killAll();
  Deno.exit(1);
}, 600_000);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    killAll();
    Deno.exit(130);
  });
}
let parsed: ReturnType<typeof options>;
try {
  parsed = options();
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}`);
  console.error(
    "usage: deno task bench [--scaling | --against REV] [--quick] [--runtime deno|bun] [--duration SECONDS]",
  );
  Deno.exit(2);
}
let code = 1;
try {
  code = await main(parsed);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
} finally {
  clearTimeout(watchdog);
  killAll();
}
Deno.exit(code);
