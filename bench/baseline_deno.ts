/**
 * The Deno baseline: the smallest hand-written server for the bench workloads on `Deno.listen`.
 * One client at a time, LF framing with `indexOf`, `ping` → `pong`, `echo X` → `X`,
 * `disconnect`, `shutdown`; one write per read. Prints `listening 127.0.0.1:PORT` when ready.
 *
 * Run with `deno run -A bench/baseline_deno.ts --port N`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { answerLines } from "./baseline_lines.ts";

// One client at a time, so one pair of buffers serves them all.
const input = new Uint8Array(1 << 20);
const output = new Uint8Array(2 << 20);

// Serves one connection; resolves true when the client asked for shutdown.
async function serveConn(conn: Deno.TcpConn): Promise<boolean> {
  conn.setNoDelay(true);
  let have = 0;
  try {
    for (;;) {
      // A full buffer without LF only happens on abuse, which the baseline does not handle.
      if (have === input.length) have = 0;
      const n = await conn.read(input.subarray(have));
      if (n === null) return false;
      have += n;
      const { used: start, out, end } = answerLines(input.subarray(0, have), output);
      if (out > 0) await writeAll(conn, output.subarray(0, out));
      if (end) return end === "shutdown";
      input.copyWithin(0, start, have);
      have -= start;
    }
  } catch {
    return false;
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) {
    written += await conn.write(data.subarray(written));
  }
}

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(values.port) });
console.log(`listening 127.0.0.1:${listener.addr.port}`);
for (;;) {
  const conn = await listener.accept();
  if (await serveConn(conn)) break;
}
listener.close();
