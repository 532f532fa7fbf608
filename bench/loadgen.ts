/**
 * The TypeScript load generator (Deno): each workload opens its own connection to 127.0.0.1,
 * warms up, measures, then says `disconnect` and waits for the server to close, so the next
 * workload finds the server free. Writes are batched (a whole window of commands per write) and
 * responses are counted by scanning for LF, so the generator is not the bottleneck.
 *
 * @module
 */

const LF = 0x0a;
const encoder = new TextEncoder();
const PING = encoder.encode("ping\n");
// Lenient: every LF byte decodes to one "\n", whatever the bytes around it.
const decoder = new TextDecoder();
const DISCONNECT = encoder.encode("disconnect\n");

/** Result of {@linkcode rtt}. */
export interface RttResult {
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** A connection with a read buffer, counting response lines. */
class Client {
  readonly conn: Deno.TcpConn;
  readonly #buffer = new Uint8Array(1 << 20);
  /** Bytes received so far. */
  received = 0;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    conn.setNoDelay(true);
  }

  static async open(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async write(data: Uint8Array): Promise<void> {
    for (let written = 0; written < data.length;) {
      written += await this.conn.write(data.subarray(written));
    }
  }

  /** Reads once; returns the number of LFs read (throws when the server closes). */
  async readLines(): Promise<number> {
    const n = await this.conn.read(this.#buffer);
    if (n === null) throw new Error("server closed the connection");
    this.received += n;
    // V8 finds "\n" in a string several times faster than LF in bytes, decoding included,
    // and a slow count would make this generator the bottleneck.
    const text = decoder.decode(this.#buffer.subarray(0, n));
    let lines = 0;
    for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n", lf + 1)) lines++;
    return lines;
  }

  /** Reads until `count` more lines have arrived. */
  async awaitLines(count: number): Promise<void> {
    while (count > 0) count -= await this.readLines();
  }

  /** Says `disconnect` and waits until the server has closed the connection. */
  async disconnect(): Promise<void> {
    await this.write(DISCONNECT);
    try {
      while (await this.conn.read(this.#buffer) !== null) { /* drain until EOF */ }
    } catch {
      // A reset also means the server is done with us.
    }
    this.conn.close();
  }
}

/**
 * Sequential `ping` round trips.
 *
 * @param port The server's port.
 * @param seconds How long to measure (after a warm-up of a fifth of that).
 * @returns Round trips per second and p50/p99 latency in µs.
 */
export async function rtt(port: number, seconds: number): Promise<RttResult> {
  const client = await Client.open(port);
  const latencies: number[] = [];
  const warmEnd = performance.now() + seconds * 200;
  while (performance.now() < warmEnd) await pingOnce(client);
  const start = performance.now();
  const end = start + seconds * 1000;
  for (let now = start; now < end;) {
    await pingOnce(client);
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  const elapsed = performance.now() - start;
  await client.disconnect();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  return {
    opsPerSec: latencies.length / (elapsed / 1000),
    p50Us: at(0.5) * 1000,
    p99Us: at(0.99) * 1000,
  };
}

async function pingOnce(client: Client): Promise<void> {
  await client.write(PING);
  await client.awaitLines(1);
}

/**
 * Keeps `window` copies of `command` outstanding: sends the whole window in one write, then
 * after each read sends as many commands as responses arrived.
 *
 * @param port The server's port.
 * @param command One command, LF included.
 * @param window Commands outstanding.
 * @param seconds How long to measure (after a warm-up of a fifth of that).
 * @returns Commands answered per second, and bytes received per answer.
 */
export async function pipelined(
  port: number,
  command: Uint8Array,
  window: number,
  seconds: number,
): Promise<{ opsPerSec: number; bytesPerAnswer: number }> {
  const batch = new Uint8Array(command.length * window);
  for (let i = 0; i < window; i++) batch.set(command, i * command.length);
  const client = await Client.open(port);
  await client.write(batch);
  const run = async (until: number) => {
    let answered = 0;
    while (performance.now() < until) {
      const lines = await client.readLines();
      answered += lines;
      if (lines > 0) await client.write(batch.subarray(0, lines * command.length));
    }
    return answered;
  };
  await run(performance.now() + seconds * 200);
  const receivedBefore = client.received;
  const start = performance.now();
  const answered = await run(start + seconds * 1000);
  const elapsed = performance.now() - start;
  const bytesPerAnswer = (client.received - receivedBefore) / answered;
  await client.awaitLines(window); // every command sent is still answered
  await client.disconnect();
  return { opsPerSec: answered / (elapsed / 1000), bytesPerAnswer };
}

// Cycles per block of churn: a few milliseconds, over which the machine barely drifts.
const CHURN_BLOCK_CYCLES = 20;

/**
 * Cycles of connect, `ping`, `disconnect` (waiting for the server to close each time), on two
 * servers in turn, a block of 20 cycles each: A, then B, A, B, …, A. A cycle takes a fraction of
 * a millisecond, and a turn of a second would see the machine's drift, which is as large as the
 * differences asked about; blocks of a few milliseconds see the same machine on both servers.
 *
 * @param portA One server's port (it has the first and the last block).
 * @param portB The other's.
 * @param seconds How long to measure, both servers together (after a warm-up of a fifth of that
 *   on each).
 * @returns Each block's cycles per second, per server: A has one block more than B.
 */
export async function churn(
  portA: number,
  portB: number,
  seconds: number,
): Promise<{ onA: number[]; onB: number[] }> {
  const cycle = async (port: number) => {
    const client = await Client.open(port);
    await pingOnce(client);
    await client.disconnect();
  };
  for (const port of [portA, portB]) {
    const warmEnd = performance.now() + seconds * 200;
    while (performance.now() < warmEnd) await cycle(port);
  }
  const block = async (port: number) => {
    const start = performance.now();
    for (let i = 0; i < CHURN_BLOCK_CYCLES; i++) await cycle(port);
    return CHURN_BLOCK_CYCLES / ((performance.now() - start) / 1000);
  };
  const onA = [await block(portA)];
  const onB: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    onB.push(await block(portB));
    onA.push(await block(portA));
  }
  return { onA, onB };
}

/**
 * Sends `bytes` bytes without a newline, then `\n` and `ping`, and waits for `pong`.
 *
 * @param port The server's port.
 * @param bytes How much to send before the newline.
 * @returns Whether `pong` came back (within 10 s of the flood).
 */
export async function flood(port: number, bytes: number): Promise<boolean> {
  const client = await Client.open(port);
  const chunk = new Uint8Array(1 << 20).fill(0x78); // "x"
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    await client.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
  }
  await client.write(encoder.encode("\nping\n"));
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  const deadline = setTimeout(() => client.conn.close(), 10_000);
  try {
    while (!text.split("\n").includes("pong")) {
      const n = await client.conn.read(buffer);
      if (n === null) return false;
      text += decoder.decode(buffer.subarray(0, n));
    }
  } catch {
    return false;
  } finally {
    clearTimeout(deadline);
  }
  await client.disconnect();
  return true;
}

/**
 * Connects, pings once, and stays silent until the returned function is called.
 *
 * @param port The server's port.
 * @returns A function that disconnects.
 */
export async function idleClient(port: number): Promise<() => Promise<void>> {
  const client = await Client.open(port);
  await pingOnce(client);
  return () => client.disconnect();
}

/** `ping\n`, for {@linkcode pipelined}. */
export const PING_COMMAND: Uint8Array = PING;

/**
 * `echo <size bytes>\n`, for {@linkcode pipelined}.
 *
 * @param size Payload bytes.
 * @returns The command, LF included.
 */
export function echoCommand(size: number): Uint8Array {
  const command = new Uint8Array(5 + size + 1);
  command.set(encoder.encode("echo "));
  for (let i = 0; i < size; i++) command[5 + i] = 0x61 + (i % 26);
  command[command.length - 1] = LF;
  return command;
}
