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

const LF = 0x0a;
const PONG = new TextEncoder().encode("pong\n");
const [PING, ECHO, DISCONNECT, SHUTDOWN] = ["ping", "echo ", "disconnect", "shutdown"].map((s) =>
  new TextEncoder().encode(s)
);

function startsWith(buf: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

function is(buf: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  return end - start === word.length && startsWith(buf, start, end, word);
}

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
      const view = input.subarray(0, have);
      let start = 0;
      let out = 0;
      let end: "disconnect" | "shutdown" | undefined;
      for (let lf = view.indexOf(LF); lf !== -1; lf = view.indexOf(LF, start)) {
        if (is(input, start, lf, PING)) {
          output.set(PONG, out);
          out += PONG.length;
        } else if (startsWith(input, start, lf, ECHO)) {
          output.set(input.subarray(start + ECHO.length, lf + 1), out);
          out += lf + 1 - start - ECHO.length;
        } else if (is(input, start, lf, DISCONNECT)) end = "disconnect";
        else if (is(input, start, lf, SHUTDOWN)) end = "shutdown";
        start = lf + 1;
        if (end) break;
      }
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
