/**
 * The bench's measurements: the module's server against its runtime's baseline (TypeScript load
 * generator), and against the C reference server (olbench). Servers take short turns, many
 * times (see {@linkcode turns}): each side's median is shown, and the ratio judged is the median
 * of each turn against each of the other server's turns beside it (see `turns.ts`). These machines
 * are noisy, and their noise drifts over seconds, which fine interleaving and pairing cancel.
 *
 * @module
 */

import { churn, echoCommand, flood, idleClient, PING_COMMAND, pipelined, rtt } from "./loadgen.ts";
import type { RttResult } from "./loadgen.ts";
import { runOlbench } from "./native.ts";
import type { OlbenchResult } from "./native.ts";
import { cpuSeconds, memory, onOneCore, resetPeak, startServer } from "./proc.ts";
import type { ServerProcess } from "./proc.ts";
import type { Row } from "./report.ts";
import { median, medianRange, pairedRatios } from "./turns.ts";

/** How to start a server: an executable and its arguments. */
export type Launch = [command: string, args: string[]];

/** One runtime: how to start the module's server and the baseline on it. */
export interface RuntimeSetup {
  name: string;
  module: Launch;
  /** The reference: the hand-written baseline, or the module's server at an earlier commit. */
  baseline: Launch;
  /** The earlier commit whose module server is the reference, when it is not the baseline. */
  against?: string;
}

// Targets against the baseline, and against the module's own earlier server: there the question
// is whether anything got slower, so the bounds are the bench's noise.
const LIMITS = {
  baseline: { rtt: 1.03, throughput: 0.8, echo: 0.95 },
  against: { rtt: 1.05, throughput: 0.95, echo: 0.95 },
};

/** Durations and sizes. */
export interface Settings {
  /** Seconds each measured pass lasts. */
  seconds: number;
  /** Rounds of B, A after the first A (see {@linkcode turns}). */
  rounds: number;
  floodBytes: number;
  idleSeconds: number;
}

const MIB = 1024 * 1024;
const ECHO = echoCommand(1024);

// A cheap answer check for the pipelined workloads: the bytes per answer must be right.
function checked<T extends { bytesPerAnswer: number }>(result: T, expected: number): T {
  // A partial line at either end of the measured stretch may skew the mean by a little.
  if (Math.abs(result.bytesPerAnswer - expected) > 0.5) {
    throw new Error(`expected ${expected} bytes per answer, got ${result.bytesPerAnswer}`);
  }
  return result;
}

/**
 * The order servers take turns in, for the report.
 *
 * @param rounds Rounds of B, A after the first A.
 * @returns Such as `A, then B,A × 8`.
 */
export function turns(rounds: number): string {
  return `A, then B,A × ${rounds}`;
}

// Runs `measure` on a, then `rounds` times on b and a; returns each side's results.
async function alternate<T>(
  a: ServerProcess,
  b: ServerProcess,
  rounds: number,
  measure: (port: number) => Promise<T>,
): Promise<[T[], T[]]> {
  const onA = [await measure(a.port)];
  const onB: T[] = [];
  for (let round = 0; round < rounds; round++) {
    onB.push(await measure(b.port));
    onA.push(await measure(a.port));
  }
  return [onA, onB];
}

/**
 * Measures one runtime: rtt, pipe, echo and churn on the module's server and the baseline, then
 * idle CPU and flood memory on the module's server.
 *
 * @param setup The runtime.
 * @param settings Durations and sizes.
 * @param log Progress messages.
 * @returns The figures.
 */
export async function measureRuntime(
  setup: RuntimeSetup,
  settings: Settings,
  log: (message: string) => void,
): Promise<Row[]> {
  const { seconds, rounds } = settings;
  const section = setup.against === undefined
    ? "module / runtime baseline (TS load generator)"
    : `module / module at ${setup.against} (TS load generator)`;
  const limits = setup.against === undefined ? LIMITS.baseline : LIMITS.against;
  const module = await startServer(...setup.module);
  const baseline = await startServer(...setup.baseline);
  // Against the baseline, the echo is measured a second time with a handler that answers with
  // the command's bytes (context.raw), which pay no string round trip.
  const [command, args] = setup.module;
  const raw = setup.against === undefined
    ? await startServer(command, [...args, "--echo", "raw"])
    : undefined;
  const rows: Row[] = [];
  // A figure of both servers' turns: the medians, and the module's turns paired with the
  // reference's for the ratio and its range.
  const compared = (
    metric: string,
    [onModule, onReference]: number[][],
    target?: Row["target"],
  ) => {
    const ratios = pairedRatios(onModule, onReference);
    rows.push({
      section,
      server: setup.name,
      metric,
      value: median(onModule),
      reference: median(onReference),
      ratio: median(ratios),
      range: medianRange(ratios),
      target,
    });
  };
  const pipe = async (port: number) =>
    checked(await pipelined(port, PING_COMMAND, 1024, seconds), "pong\n".length).opsPerSec;
  const echo = async (port: number) => {
    const { opsPerSec } = checked(await pipelined(port, ECHO, 64, seconds), 1024 + 1);
    return opsPerSec * ECHO.length / 1e6;
  };
  // A throughput workload on both servers in turn, judged as a ratio.
  const throughput = async (
    metric: string,
    measure: (port: number) => Promise<number>,
    limit = limits.throughput,
  ) => {
    log(`${setup.name}: ${metric}`);
    const turns = await alternate(module, baseline, rounds, measure);
    compared(metric, turns, { on: "ratio", op: ">=", limit });
  };
  try {
    // Fresh processes: one unrecorded pass of the busy workloads first, so that the JIT's warm-up
    // is not measured.
    for (const { port } of [module, baseline]) {
      await pipe(port);
      await echo(port);
    }
    if (raw !== undefined) await echo(raw.port);
    // Round trips are judged on one core, where they are the servers' own work (see onOneCore),
    // and shown as the scheduler places the processes.
    const roundTrips = () => alternate(module, baseline, rounds, (port) => rtt(port, seconds));
    const rttRow = (
      metric: string,
      [onModule, onBaseline]: RttResult[][],
      pick: (r: RttResult) => number,
      target?: Row["target"],
    ) => compared(metric, [onModule.map(pick), onBaseline.map(pick)], target);
    log(`${setup.name}: rtt, one core`);
    const pinned = await onOneCore([module.pid, baseline.pid], roundTrips);
    rttRow("rtt p50 µs, one core", pinned, (r) => r.p50Us, {
      on: "ratio",
      op: "<=",
      limit: limits.rtt,
    });
    rttRow("rtt p99 µs, one core", pinned, (r) => r.p99Us);
    rttRow("rtt ops/s, one core", pinned, (r) => r.opsPerSec);
    log(`${setup.name}: rtt, unpinned`);
    rttRow("rtt p50 µs, unpinned", await roundTrips(), (r) => r.p50Us);

    await throughput("pipe ops/s (1024 out)", pipe);
    await throughput("echo MB/s (1 KiB, 64 out)", echo, limits.echo);
    if (raw !== undefined) {
      const metric = "echo MB/s, raw bytes (1 KiB, 64 out)";
      log(`${setup.name}: ${metric}`);
      const turns = await alternate(raw, baseline, rounds, echo);
      compared(metric, turns, { on: "ratio", op: ">=", limit: limits.echo });
    }
    // Churn takes turns by blocks of a few milliseconds, for as long as the other workloads'
    // turns take together.
    log(`${setup.name}: churn cycles/s`);
    const { onA, onB } = await churn(module.port, baseline.port, 2 * rounds * seconds);
    compared("churn cycles/s", [onA, onB], { on: "ratio", op: ">=", limit: limits.throughput });

    log(`${setup.name}: idle`);
    rows.push({
      section,
      server: setup.name,
      metric: "idle CPU % of a core",
      value: await idleCpu(module, settings.idleSeconds),
      target: { on: "value", op: "<=", limit: 1 },
    });

    log(`${setup.name}: flood`);
    const { growth, answered } = await floodMemory(module, settings.floodBytes);
    rows.push({
      section,
      server: setup.name,
      metric: `flood ${settings.floodBytes / MIB} MiB: peak RSS growth MiB`,
      value: growth / MIB,
      target: { on: "value", op: "<=", limit: 64 },
      failure: answered ? undefined : "no pong after the flood",
    });
  } finally {
    await Promise.all([module.stop(), baseline.stop(), raw?.stop()]);
  }
  return rows;
}

// Server CPU while one client is connected and silent, in percent of one core.
async function idleCpu(server: ServerProcess, seconds: number): Promise<number> {
  const disconnect = await idleClient(server.port);
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the ping's work settle
  const before = cpuSeconds(server.pid);
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = cpuSeconds(server.pid) - before;
  const elapsed = (performance.now() - start) / 1000;
  await disconnect();
  return used / elapsed * 100;
}

// Peak RSS growth of the server while a client floods it with one endless line.
async function floodMemory(
  server: ServerProcess,
  bytes: number,
): Promise<{ growth: number; answered: boolean }> {
  const peakReset = resetPeak(server.pid);
  const before = memory(server.pid).rss;
  let sampled = before;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, memory(server.pid).rss);
  }, 10);
  try {
    const answered = await flood(server.port, bytes);
    const { rss, peak } = memory(server.pid);
    // VmHWM catches spikes between samples, but only once reset to this run's start.
    const top = Math.max(sampled, rss, peakReset ? peak : 0);
    return { growth: top - before, answered };
  } finally {
    clearInterval(sampler);
  }
}

/** An olbench workload, the figure it reports, and its target for the module's servers. */
interface OlbenchMode {
  args: string[];
  metric: string;
  pick: (result: OlbenchResult) => number;
  target?: Row["target"];
  /** Whether it runs on one core (see {@linkcode onOneCore}). */
  oneCore: boolean;
}

/** The olbench workloads, with counts for a measured pass of about `seconds`. */
function olbenchModes(seconds: number): OlbenchMode[] {
  const n = (perSecond: number) => String(Math.max(1000, Math.round(perSecond * seconds)));
  const rtt = ["rtt", n(10_000)];

  return [
    // Round trips are judged on one core, where they are the servers' own work.
    {
      args: rtt,
      metric: "olbench rtt p50 µs, one core",
      pick: (r) => r.p50Us!,
      target: { on: "ratio", op: "<=", limit: 1.2 },
      oneCore: true,
    },
    { args: rtt, metric: "olbench rtt p50 µs, unpinned", pick: (r) => r.p50Us!, oneCore: false },
    {
      args: ["pipe", n(1_000_000), "1024"],
      metric: "olbench pipe ops/s (1024 out)",
      pick: (r) => r.opsPerSec,
      target: { on: "ratio", op: ">=", limit: 0.9 },
      oneCore: false,
    },
    {
      args: ["echo", n(100_000), "1024", "64"],
      metric: "olbench echo MB/s",
      pick: (r) => r.mbPerSec!,
      target: { on: "ratio", op: ">=", limit: 0.6 },
      oneCore: false,
    },
  ];
}

/** A server measured against the C reference: the module's (judged) or a baseline (shown). */
export interface NativeContender {
  name: string;
  server: ServerProcess;
  /** Whether the targets apply; a baseline is shown so the runtime's own cost can be read. */
  judged: boolean;
}

/**
 * Runs olbench rtt (on one core, then unpinned), pipe and echo against the C reference server
 * and each contender, taking turns: reference, contenders..., reference, contenders..., reference.
 *
 * @param olbench The olbench executable.
 * @param reference How to start refserver (it must print nothing; its port is given).
 * @param contenders The module's servers and the baselines.
 * @param settings Rough seconds per pass, and rounds.
 * @param log Progress messages.
 * @returns The figures: each server's median and the reference's, and the paired ratio.
 */
export async function measureNative(
  olbench: string,
  reference: ServerProcess,
  contenders: NativeContender[],
  { seconds, rounds }: Settings,
  log: (message: string) => void,
): Promise<Row[]> {
  const section = "module / C refserver (olbench)";
  const rows: Row[] = [];
  const modes = olbenchModes(seconds);
  // The servers are fresh processes: one unrecorded pass of each mode first, so that the JIT's
  // warm-up is not measured.
  // The two rtt modes share their arguments: one warm-up pass each, not two.
  const warmUps = new Set(modes.map(({ args }) => args));
  for (const { server } of contenders) {
    for (const args of warmUps) await runOlbench(olbench, server.port, args);
  }
  const pids = [reference.pid, ...contenders.map(({ server }) => server.pid)];
  for (const { args, metric, pick, target, oneCore } of modes) {
    log(metric);
    const measure = async () => {
      const references = [await runOlbench(olbench, reference.port, args)];
      const runs = contenders.map(() => [] as OlbenchResult[]);
      for (let round = 0; round < rounds; round++) {
        for (const [i, { server }] of contenders.entries()) {
          runs[i].push(await runOlbench(olbench, server.port, args));
        }
        references.push(await runOlbench(olbench, reference.port, args));
      }
      return { references, runs };
    };
    const { references, runs } = oneCore ? await onOneCore(pids, measure) : await measure();
    for (const [i, { name, judged }] of contenders.entries()) {
      const ratios = pairedRatios(references.map(pick), runs[i].map(pick)).map((r) => 1 / r);
      rows.push({
        section,
        server: name,
        metric,
        value: median(runs[i].map(pick)),
        reference: median(references.map(pick)),
        ratio: median(ratios),
        range: medianRange(ratios),
        target: judged ? target : undefined,
      });
    }
  }
  return rows;
}
