/**
 * The line handling both baselines share: the bench protocol answered
 * straight from the bytes, with no framing options and no handler dispatch.
 *
 * @module
 */

const LF = 0x0a;
const encoder = new TextEncoder();
const PONG = encoder.encode("pong\n");
const [PING, ECHO, DISCONNECT, SHUTDOWN] = ["ping", "echo ", "disconnect", "shutdown"].map((s) =>
  encoder.encode(s)
);

function startsWith(buf: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

function is(buf: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  return end - start === word.length && startsWith(buf, start, end, word);
}

/** What {@linkcode answerLines} did with one batch of input. */
export interface Answered {
  /** Bytes of input used (complete lines); the rest is a partial line. */
  used: number;
  /** Bytes of responses written to the output. */
  out: number;
  /** Set when a line asked to end the connection. */
  end: "disconnect" | "shutdown" | undefined;
}

/**
 * Answers every complete line of `input` into `output`: `ping` → `pong`,
 * `echo X` → `X`; stops after `disconnect` or `shutdown`.
 *
 * @param input The bytes read.
 * @param output Where the responses go (large enough for a batch).
 * @returns What was used and written.
 */
export function answerLines(input: Uint8Array, output: Uint8Array): Answered {
  let start = 0;
  let out = 0;
  let end: Answered["end"];
  for (let lf = input.indexOf(LF); lf !== -1; lf = input.indexOf(LF, start)) {
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
  return { used: start, out, end };
}
