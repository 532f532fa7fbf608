/**
 * The C yardsticks from /work/shared/bench (or `$OLBENCH_SRC`): builds `olbench` and `refserver`
 * with `cc` into a temporary directory and runs `olbench` against a server.
 *
 * @module
 */

/** The built tools. */
export interface NativeTools {
  olbench: string;
  refserver: string;
  /** Removes the build directory. */
  remove(): void;
}

/** What one `olbench` run printed. */
export interface OlbenchResult {
  opsPerSec: number;
  mbPerSec?: number;
  p50Us?: number;
  p99Us?: number;
}

/**
 * Builds the tools, when `cc` and the sources are there.
 *
 * @param sourceDir Where `olbench.c` and `refserver.c` are.
 * @returns The tools, or a reason why they could not be built.
 */
export async function buildNativeTools(sourceDir: string): Promise<NativeTools | string> {
  const dir = Deno.makeTempDirSync({ prefix: "olbench-" });
  const remove = () => Deno.removeSync(dir, { recursive: true });
  try {
    for (const name of ["olbench", "refserver"]) {
      const output = await new Deno.Command("cc", {
        args: ["-O2", "-o", `${dir}/${name}`, `${sourceDir}/${name}.c`],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!output.success) throw new Error(new TextDecoder().decode(output.stderr).trim());
    }
  } catch (error) {
    remove();
    return `C tools not built: ${error instanceof Error ? error.message : error}`;
  }
  return { olbench: `${dir}/olbench`, refserver: `${dir}/refserver`, remove };
}

/**
 * Runs `olbench PORT ...args` and parses its one line of figures.
 *
 * @param olbench The executable.
 * @param port The server's port.
 * @param args Mode and counts, such as `["pipe", "1000000", "1024"]`.
 * @returns The figures.
 * @throws {Error} When olbench fails.
 */
export async function runOlbench(
  olbench: string,
  port: number,
  args: string[],
): Promise<OlbenchResult> {
  const output = await new Deno.Command(olbench, {
    args: [String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`olbench ${args.join(" ")}: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  const field = (name: string) => {
    const match = new RegExp(`${name}=([\\d.]+)`).exec(text);
    return match ? Number(match[1]) : undefined;
  };
  return {
    opsPerSec: field("ops_per_s")!,
    mbPerSec: field("mb_per_s"),
    p50Us: field("p50_us"),
    p99Us: field("p99_us"),
  };
}
