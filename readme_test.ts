// The README's TypeScript examples, run as written on the runtime under test: each ```ts block is
// written to a file in .readme-snippets/ (git-ignored), with the package's import specifiers
// (`jsr:@oneline/socket-oneline`, `@oneline/socket-oneline/client`, …) pointed at this checkout,
// and run in a subprocess, against the servers it talks to. Each must exit 0 and print what its
// comments show: `console.log(x); // "ack"` says that it prints `ack`.
//
// The ports the README names (5001, 5025) are never bound: each run gets free ones, written into
// the snippet in their place, so that two checkouts, or a sample server left running, do not
// collide with the test.
//
// A block that can run on one runtime only is preceded by `<!-- deno only -->` or
// `<!-- bun only -->`, and skipped on the other. Run from the repository's root (as the test tasks
// do): the TLS example reads `testdata/` relative to it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect } from "./client.ts";
import { serve } from "./server.ts";
import type { OnelineServer } from "./server.ts";
import { sampleHandler } from "./sample/server.ts";
import { assertSocketsClosed, openSockets, spawnScript } from "./test_util.ts";

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const SNIPPETS = path.join(ROOT, ".readme-snippets");
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** One ```ts block of the README. */
interface Snippet {
  /** The line of its opening fence (1-based). */
  line: number;
  /** The heading of the section it is in. */
  section: string;
  /** The fence's info string, such as `ts` or `ts ignore`. */
  info: string;
  /** The runtime it is marked for (`<!-- deno only -->`), if any. */
  only: "deno" | "bun" | undefined;
  code: string;
  /** Where it is written, with its imports pointed at the checkout. */
  file: string;
}

/** The package's subpath exports (`"."`, `"./client"`, …) → files, from deno.json. */
function packageExports(): Map<string, string> {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, "deno.json"), "utf8"));
  return new Map(Object.entries(config.exports as Record<string, string>));
}

/** Every ```ts block of the README, in order. */
export function readmeSnippets(readme: string): Snippet[] {
  const lines = readme.split("\n");
  const snippets: Snippet[] = [];
  let section = "(top)";
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#+\s+(.*)$/.exec(lines[i]);
    if (heading) section = heading[1];
    const fence = /^```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!fence) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const language = fence[1];
    if (language === "ts" || language === "typescript") {
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === "") before--;
      const marker = /^<!--\s*(deno|bun) only\s*-->$/.exec(lines[before]?.trim() ?? "");
      snippets.push({
        line: i + 1,
        section,
        info: `${language} ${fence[2]}`.trim(),
        only: marker ? marker[1] as "deno" | "bun" : undefined,
        code: lines.slice(i + 1, end).join("\n") + "\n",
        file: path.join(SNIPPETS, `line_${i + 1}.ts`),
      });
    }
    i = end;
  }
  return snippets;
}

/** The code with the package's import specifiers pointed at the checkout's files. */
export function localImports(code: string, exports: Map<string, string>, fromDir: string): string {
  return code.replace(
    /(["'])(?:jsr:)?@oneline\/socket-oneline(\/[\w-]+)?\1/g,
    (whole, quote: string, subpath: string | undefined) => {
      const target = exports.get(subpath === undefined ? "." : `.${subpath}`);
      if (target === undefined) {
        throw new Error(`the README imports ${whole}, which is not exported`);
      }
      const relative = path.relative(fromDir, path.join(ROOT, target)).split(path.sep).join("/");
      return `${quote}${relative.startsWith(".") ? relative : `./${relative}`}${quote}`;
    },
  );
}

// One literal shown in a comment, and how console.log prints it: a string without its quotes,
// anything else as written (compared after normalizing whitespace).
function takeLiteral(text: string): { length: number; printed: string } | undefined {
  if (text.startsWith('"')) {
    for (let i = 1; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') {
        return { length: i + 1, printed: JSON.parse(text.slice(0, i + 1)) };
      }
    }
    return undefined;
  }
  if (text.startsWith("[") || text.startsWith("{")) {
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      } else if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") {
        if (--depth === 0) return { length: i + 1, printed: text.slice(0, i + 1) };
      }
    }
    return undefined;
  }
  const word = /^(?:true|false|null|undefined|-?\d+(?:\.\d+)?)(?=$|[\s,:;.)])/.exec(text);
  return word ? { length: word[0].length, printed: word[0] } : undefined;
}

/**
 * What a `console.log(…); // …` comment shows it prints: literals separated by spaces make one
 * line (`"ack" "ack"` → `ack ack`), `, then ` starts the next; an `e.g.` before them is allowed
 * and the first other text ends them (`"ack": exactly one line` → `ack`).
 */
export function shownOutput(comment: string): string[] | undefined {
  let rest = comment.replace(/^e\.g\.\s+/, "");
  const lines: string[] = [];
  let line: string[] = [];
  for (;;) {
    const literal = takeLiteral(rest);
    if (literal === undefined) break;
    line.push(literal.printed);
    rest = rest.slice(literal.length);
    if (rest.startsWith(", then ")) {
      lines.push(line.join(" "));
      line = [];
      rest = rest.slice(", then ".length);
    } else if (rest.startsWith(" ") && takeLiteral(rest.slice(1)) !== undefined) {
      rest = rest.slice(1);
    } else {
      break;
    }
  }
  if (line.length > 0) lines.push(line.join(" "));
  return lines.length > 0 ? lines : undefined;
}

/** What the snippet's comments show it prints, in order; throws for a console.log that shows nothing. */
export function expectedOutput(code: string): string[] {
  const expected: string[] = [];
  for (const line of code.split("\n")) {
    if (!line.includes("console.log(")) continue;
    const comment = /console\.log\(.*\);\s*\/\/\s?(.*)$/.exec(line)?.[1];
    const shown = comment === undefined ? undefined : shownOutput(comment);
    if (shown === undefined) {
      throw new Error(`this console.log does not show what it prints in a comment: ${line.trim()}`);
    }
    expected.push(...shown);
  }
  return expected;
}

// console.log prints an object on one line on Deno and over several on Bun: compare the text
// with runs of whitespace made one space, no space inside brackets, and no trailing commas.
function normalize(text: string): string {
  // Node's console quotes strings with ' where Deno and Bun use ".
  return text.replace(/'/g, '"').replace(/\s+/g, " ").replace(/,\s*([}\]])/g, "$1").replace(
    /([[{]) /g,
    "$1",
  )
    .replace(/ ([}\]])/g, "$1").trim();
}

// What servers a snippet starts log on stdout: not part of what its comments show.
const SERVER_LOG = /^(listening on \S+|stopped|shutdown requested)$/;

function printedLines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => line !== "" && !SERVER_LOG.test(line));
}

function describeRun(run: { code: number | null; stdout: string; stderr: string }): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/** Something a snippet talks to, started by the test on a free port. */
interface Fixture {
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

// The sample server (`sample/server.ts`), which the Client and framing examples talk to.
async function sampleServer(): Promise<Fixture> {
  const server: OnelineServer = await serve({ port: 0, logger: null, handler: sampleHandler });
  return { port: server.port!, close: () => server.close() };
}

// A line-based instrument that is not a oneline server: it answers `*IDN?` with its name, CR LF,
// and `CURV?` with a binary block.
async function fakeMeter(): Promise<Fixture> {
  const sockets = new Set<net.Socket>();
  const meter = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n"); end !== -1; end = pending.indexOf("\r\n")) {
        const command = pending.slice(0, end);
        pending = pending.slice(end + 2);
        // CURV? answers a definite-length block of four bytes, an LF and a CR among them.
        if (command === "CURV?") socket.write(Buffer.from("#14\x01\n\r\x02\r\n", "latin1"));
        else socket.write(command === "*IDN?" ? "ACME,METER,1\r\n" : "ERR\r\n");
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    meter.once("error", reject);
    meter.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (meter.address() as net.AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => meter.close(resolve));
    },
  };
}

// The servers the test starts for the ports snippets talk to without starting a server there.
const FIXTURES: Record<number, () => Promise<Fixture>> = {
  5001: sampleServer,
  5025: fakeMeter,
};

const PORT = /\bport:(\s*)(\d+)/g;

/** The fixed ports a snippet names (`port: 5001`), in order, each once; not `port: 0`. */
export function fixedPorts(code: string): number[] {
  const ports = [...code.matchAll(PORT)].map((m) => Number(m[2]));
  return [...new Set(ports)].filter((port) => port !== 0);
}

/** The code with each fixed port it names that `ports` maps replaced by the port it maps to. */
export function withPorts(code: string, ports: ReadonlyMap<number, number>): string {
  return code.replace(PORT, (whole, space: string, port: string) => {
    const free = ports.get(Number(port));
    return free === undefined ? whole : `port:${space}${free}`;
  });
}

/**
 * Writes the snippet's file with free ports for the fixed ones it names: any (0) where it starts
 * a server of its own, else those of the fixtures started for it (added to `fixtures`).
 */
async function writeSnippet(snippet: Snippet, fixtures: Fixture[]): Promise<void> {
  const serves = /\bserve\(/.test(snippet.code);
  const ports = new Map<number, number>();
  for (const port of fixedPorts(snippet.code)) {
    const start = FIXTURES[port];
    if (serves) ports.set(port, 0);
    else {
      assert.ok(
        start,
        `the README example at line ${snippet.line} talks to port ${port}: no fixture`,
      );
      const fixture = await start();
      fixtures.push(fixture);
      ports.set(port, fixture.port);
    }
  }
  fs.writeFileSync(snippet.file, withPorts(localImports(snippet.code, EXPORTS, SNIPPETS), ports));
}

// A snippet that serves until told to stop (`await server.finished`): the test talks to it, checks
// the answers its handler's comments promise, and stops it with `shutdown`.
async function driveServer(snippet: Snippet): Promise<void> {
  // The test reads the port bound from the server's log.
  await writeSnippet(snippet, []);
  const child = spawnScript(snippet.file, []);
  try {
    const [, address] = await child.waitFor(/listening on (\S+)/);
    const port = Number(address.slice(address.lastIndexOf(":") + 1));
    const client = await connect({ port, timeout: 5000 });
    try {
      assert.equal(await client.request("cmd01"), "ack");
      assert.deepEqual(await client.query("status"), ["busy", "temperature 21.5"]);
      assert.deepEqual(await client.query("quiet"), []);
      assert.equal(await client.request("junk"), "nak - unknown cmd");
      await client.shutdown();
    } finally {
      client.close();
    }
    const run = await child.done;
    assert.equal(run.code, 0, describeRun(run));
  } finally {
    if (child.child.exitCode === null) child.child.kill("SIGKILL");
    await child.done;
  }
}

async function runSnippet(snippet: Snippet): Promise<void> {
  const expected = expectedOutput(snippet.code);
  const fixtures: Fixture[] = [];
  try {
    await writeSnippet(snippet, fixtures);
    const run = await spawnScript(snippet.file, []).done;
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(
      normalize(printedLines(run.stdout).join("\n")),
      normalize(expected.join("\n")),
      describeRun(run),
    );
  } finally {
    for (const fixture of fixtures) await fixture.close();
  }
}

// Runs `deno check` on the files, killed if it outlives `limitMs`.
function checkTypes(
  files: string[],
  limitMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["check", "--quiet", ...files], { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => stdout += text);
  child.stderr.setEncoding("utf8").on("data", (text: string) => stderr += text);
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

const snippets = readmeSnippets(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
const EXPORTS = packageExports();
const socketsAtStart = openSockets();

describe("README examples", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  before(() => {
    fs.rmSync(SNIPPETS, { recursive: true, force: true });
    fs.mkdirSync(SNIPPETS, { recursive: true });
    // As written, for the type check; each run writes its free ports in.
    for (const snippet of snippets) {
      fs.writeFileSync(snippet.file, localImports(snippet.code, EXPORTS, SNIPPETS));
    }
  });

  after(() => fs.rmSync(SNIPPETS, { recursive: true, force: true }));

  test("SRS-096 every ts block of the README is run: none is ignored, each is runnable", () => {
    assert.ok(snippets.length >= 8, `only ${snippets.length} ts blocks found`);
    for (const snippet of snippets) {
      assert.equal(snippet.info, "ts", `the ts block at README.md:${snippet.line} is not run`);
    }
  });

  test("SRS-230 the README's examples are run on free ports, never on the ports they name", () => {
    const code =
      "serve({ port: 5001 });\nconnect({ port:  5025, timeout: 2000 });\nserve({ port: 0 });\n";
    assert.deepEqual(fixedPorts(code), [5001, 5025]);
    assert.equal(
      withPorts(code, new Map([[5001, 40001], [5025, 0]])),
      "serve({ port: 40001 });\nconnect({ port:  0, timeout: 2000 });\nserve({ port: 0 });\n",
    );
    // Every fixed port a README example names is one the test has a free-port fixture for, or one
    // its own server binds (then port 0 instead).
    for (const snippet of snippets) {
      for (const port of fixedPorts(snippet.code)) {
        assert.ok(
          /\bserve\(/.test(snippet.code) || FIXTURES[port] !== undefined,
          `README.md:${snippet.line} names port ${port}`,
        );
      }
    }
  });

  test("SRS-097 every console.log of the README's examples shows what it prints", () => {
    for (const snippet of snippets) {
      assert.doesNotThrow(() => expectedOutput(snippet.code), `README.md:${snippet.line}`);
    }
  });

  test("SRS-096 the README's examples type-check as written", {
    skip: RUNTIME === "deno" ? false : "Deno type-checks; Bun and Node only strip the types",
  }, async () => {
    const files = snippets.filter((s) => s.only !== "bun").map((s) => s.file);
    // A cold type check of the whole module graph can outlive a test subprocess's usual bound.
    const run = await checkTypes(files, 60_000);
    assert.equal(run.code, 0, describeRun(run));
  });

  // Named by section and rank in it, which other edits of the README leave alone more often than
  // its line numbers; the line is in every failure's message.
  const ranks = new Map<string, number>();
  for (const snippet of snippets) {
    const rank = (ranks.get(snippet.section) ?? 0) + 1;
    ranks.set(snippet.section, rank);
    const name = `SRS-096 SRS-097 README "${snippet.section}" example ${rank} runs on ${RUNTIME} ` +
      "and prints what it shows";
    const skip = snippet.only !== undefined && snippet.only !== RUNTIME
      ? `marked ${snippet.only} only`
      : false;
    test(name, { skip }, async () => {
      try {
        if (/await server\.finished/.test(snippet.code)) await driveServer(snippet);
        else await runSnippet(snippet);
      } catch (error) {
        throw new Error(`the example at README.md:${snippet.line} failed`, { cause: error });
      }
    });
  }
});
