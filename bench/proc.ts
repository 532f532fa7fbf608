/**
 * Server processes for the bench: start one, wait for its ready line, read its memory and CPU
 * from /proc, and make sure every one is killed when the bench ends.
 *
 * @module
 */

const running = new Set<Deno.ChildProcess>();

/** A started server. */
export interface ServerProcess {
  /** The process id (of the runtime itself, not a wrapper). */
  pid: number;
  /** The port it listens on. */
  port: number;
  /** Stops it: SIGTERM, then SIGKILL after a second. */
  stop(): Promise<void>;
}

/**
 * Starts a server that prints `listening 127.0.0.1:PORT` on stdout when ready, or, when `port`
 * is given, one that is ready once that port accepts a connection.
 *
 * @param command The executable.
 * @param args Its arguments (our servers pick a free port with `--port 0`).
 * @param port The port a silent server was told to use.
 * @returns The running server.
 * @throws {Error} When it exits or is not ready within 20 s.
 */
export async function startServer(
  command: string,
  args: string[],
  port?: number,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: port === undefined ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
  running.add(child);
  const stop = async () => {
    if (!running.delete(child)) return;
    const killer = setTimeout(() => kill(child, "SIGKILL"), 1000);
    kill(child, "SIGTERM");
    await child.status;
    clearTimeout(killer);
  };
  if (port !== undefined) {
    try {
      await waitForPort(port, child);
    } catch (error) {
      await stop();
      throw error;
    }
    return { pid: child.pid, port, stop };
  }
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => kill(child, "SIGKILL"), 20_000);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${command} ${args.join(" ")} exited before it was ready`);
      text += value;
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  const match = /listening 127\.0\.0\.1:(\d+)/.exec(text);
  if (!match) {
    await stop();
    throw new Error(`unexpected ready line from ${command}: ${text.trim()}`);
  }
  return { pid: child.pid, port: Number(match[1]), stop };
}

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && !exited;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

/**
 * Finds a free TCP port on 127.0.0.1, for servers that cannot report the one they took.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

/**
 * Has {@linkcode killAll} kill a child process too (such as a load generator) until it ends.
 *
 * @param child The process.
 */
export function track(child: Deno.ChildProcess): void {
  running.add(child);
  child.status.finally(() => running.delete(child));
}

/** Kills every server still running (on exit, error or Ctrl-C). */
export function killAll(): void {
  for (const child of running) kill(child, "SIGKILL");
  running.clear();
}

/**
 * Reads a process's resident memory.
 *
 * @param pid The process.
 * @returns `rss` (VmRSS) and `peak` (VmHWM), in bytes.
 */
export function memory(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]);
  return { rss: kib("VmRSS") * 1024, peak: kib("VmHWM") * 1024 };
}

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS, where the kernel allows it.
 *
 * @param pid The process.
 * @returns Whether the reset worked.
 */
export function resetPeak(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the CPU time a process has used so far.
 *
 * @param pid The process.
 * @returns User plus system time, in seconds (clock ticks of 1/100 s).
 */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `work` with this process (and so the load generators it spawns) and the given ones, all
 * their threads, pinned to one core with `taskset`, then gives them back the cores this process
 * had. A round trip between two cores of a virtual machine is mostly the wake-up of the other
 * core, which wanders by tens of µs with where the scheduler puts the processes; on one core it
 * is the client's and server's own work.
 *
 * @param pids The servers to pin along.
 * @param work What to measure meanwhile.
 * @returns What `work` returned.
 * @throws {Error} When `taskset` (util-linux) fails or is missing.
 */
export async function onOneCore<T>(pids: number[], work: () => Promise<T>): Promise<T> {
  const all = [Deno.pid, ...pids];
  // Such as "pid 12's current affinity list: 0-3".
  const cpus = (await taskset(["--cpu-list", "--pid", String(Deno.pid)])).split(": ").pop()!;
  const setCpus = async (list: string) => {
    for (const pid of all) await taskset(["--all-tasks", "--cpu-list", "--pid", list, String(pid)]);
  };
  await setCpus(cpus.split(/[,-]/)[0]);
  try {
    return await work();
  } finally {
    await setCpus(cpus);
  }
}

async function taskset(args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("taskset", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    throw new Error(`taskset (util-linux) is needed to pin round trips to one core: ${error}`);
  }
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`taskset ${args.join(" ")} failed: ${decoder.decode(output.stderr).trim()}`);
  }
  return decoder.decode(output.stdout).trim();
}
