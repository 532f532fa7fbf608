/**
 * The Bun baseline: the smallest hand-written server for the bench workloads on `Bun.listen`,
 * Bun's own socket API, which carried about a third more than a `node:net` version in the echo
 * workload. One client at a time (later ones wait paused), LF framing with
 * `indexOf`, `ping` → `pong`, `echo X` → `X`, `disconnect`, `shutdown`; one write per read.
 * Prints `listening 127.0.0.1:PORT` when ready.
 *
 * Run with `bun run bench/baseline_bun.ts --port N`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { answerLines } from "./baseline_lines.ts";

// The little of Bun's socket API used here, so that `deno check` passes without Bun's types.
interface BunSocket {
  data: State;
  write(data: Uint8Array): number;
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on: boolean): void;
}
interface BunServer {
  port: number;
  stop(closeActive: boolean): void;
}
interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, data: Uint8Array): void;
      drain(socket: BunSocket): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket): void;
    };
  }): BunServer;
}

interface State {
  carry: Uint8Array;
  unsent: Uint8Array | undefined;
}

const output = new Uint8Array(2 << 20);
const waiting: BunSocket[] = [];
let active: BunSocket | undefined;

// Writes what the socket takes and keeps the rest for `drain`.
function send(socket: BunSocket, data: Uint8Array): void {
  const unsent = socket.data.unsent;
  if (unsent !== undefined) {
    socket.data.unsent = concat(unsent, data);
    return;
  }
  const written = socket.write(data);
  if (written < data.length) {
    socket.data.unsent = data.slice(written);
    socket.pause(); // read no more until the client takes its answers
  }
}

function onData(socket: BunSocket, chunk: Uint8Array): void {
  const state = socket.data;
  const input = state.carry.length > 0 ? concat(state.carry, chunk) : chunk;
  const { used: start, out, end } = answerLines(input, output);
  state.carry = input.slice(start);
  if (out > 0) send(socket, output.subarray(0, out));
  if (end) socket.end();
  if (end === "shutdown") server.stop(true);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function release(socket: BunSocket): void {
  if (socket !== active) {
    const index = waiting.indexOf(socket);
    if (index !== -1) waiting.splice(index, 1);
    return;
  }
  active = waiting.shift();
  active?.resume();
}

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
const server = bun.listen({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open(socket) {
      socket.data = { carry: new Uint8Array(0), unsent: undefined };
      socket.setNoDelay(true);
      if (active === undefined) active = socket;
      else {
        socket.pause();
        waiting.push(socket);
      }
    },
    data: onData,
    drain(socket) {
      const unsent = socket.data.unsent;
      if (unsent === undefined) return;
      socket.data.unsent = undefined;
      send(socket, unsent);
      if (socket.data.unsent === undefined) socket.resume();
    },
    close: release,
    error: release,
  },
});
console.log(`listening 127.0.0.1:${server.port}`);
