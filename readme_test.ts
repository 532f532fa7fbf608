// The examples of the README and of docs/*.md, run as written on the runtime under test: each
// ```ts block is written to a file in .readme-snippets/ (git-ignored) and run in a subprocess,
// against the servers it talks to. Each must exit 0 and print what its comments show:
// `console.log(x); // "ack"` says that it prints `ack`. The blocks import the package by its name,
// `@oneline/socket-oneline`, which every runtime resolves to this checkout: Deno by deno.json's
// name and exports, Bun and Node by the same in package.json (a package may import itself).
//
// A block that can run on one runtime only is preceded by `<!-- deno only -->` (or bun, node),
// and skipped on the others. Run from the repository's root (as the test tasks do): the TLS
// example reads `testdata/` relative to it.

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
const PACKAGE = "@oneline/socket-oneline";

/** The markdown files whose examples are run: the README, then docs/ in name order. */
export const DOCUMENTS = [
  "README.md",
  ...fs.readdirSync(path.join(ROOT, "docs")).filter((name) => name.endsWith(".md")).sort()
    .map((name) => `docs/${name}`),
];

/** One ```ts block of a document. */
interface Snippet {
  /** The document it is in, relative to the root. */
  document: string;
  /** The line of its opening fence (1-based). */
  line: number;
  /** The heading of the section it is in. */
  section: string;
  /** The fence's info string, such as `ts` or `ts ignore`. */
  info: string;
  /** The runtime it is marked for (`<!-- deno only -->`), if any. */
  only: "deno" | "bun" | "node" | undefined;
  code: string;
  /** Where it is written. */
  file: string;
}

/** Every ```ts block of a document, in order. */
export function readmeSnippets(text: string, document = "README.md"): Snippet[] {
  const lines = text.split("\n");
  const snippets: Snippet[] = [];
  let section = "(top)";
  const stem = document.replace(/\.md$/, "").replace(/\W+/g, "_");
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
      const marker = /^<!--\s*(deno|bun|node) only\s*-->$/.exec(lines[before]?.trim() ?? "");
      snippets.push({
        document,
        line: i + 1,
        section,
        info: `${language} ${fence[2]}`.trim(),
        only: marker ? marker[1] as "deno" | "bun" | "node" : undefined,
        code: lines.slice(i + 1, end).join("\n") + "\n",
        file: path.join(SNIPPETS, `${stem}_${i + 1}.ts`),
      });
    }
    i = end;
  }
  return snippets;
}

/** The code with each `port: FROM` (a fixed port it talks to or serves on) made `port: TO`. */
export function movePort(code: string, from: number, to: number): string {
  return code.replace(new RegExp(`\\bport:(\\s*)${from}\\b`, "g"), `port:$1${to}`);
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

// The servers the test starts, on free ports, for the fixed ports the examples show: the port in
// the example's text is changed to the fixture's before it runs, so that two checkouts (or the
// sample server left running) never meet.
const FIXTURES: Record<number, () => Promise<Fixture>> = {
  5001: sampleServer,
  5025: fakeMeter,
};

/** The fixed ports a snippet connects to or serves on (`port: 5001`). */
function fixedPorts(code: string): number[] {
  const ports = [...code.matchAll(/\bport:\s*(\d+)/g)].map((m) => Number(m[1]));
  return [...new Set(ports)].filter((port) => port !== 0);
}

// A snippet that serves until told to stop (`await server.finished`), on port 0 instead of the
// port it shows: the test talks to it, checks the answers its handler's comments promise, and
// stops it with `shutdown`.
async function driveServer(snippet: Snippet): Promise<void> {
  let code = snippet.code;
  for (const port of fixedPorts(code)) code = movePort(code, port, 0);
  fs.writeFileSync(snippet.file, code);
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
    let code = snippet.code;
    for (const port of fixedPorts(code)) {
      const start = FIXTURES[port];
      assert.ok(start, `the example at ${where(snippet)} talks to port ${port}: no fixture`);
      const fixture = await start();
      fixtures.push(fixture);
      code = movePort(code, port, fixture.port);
    }
    fs.writeFileSync(snippet.file, code);
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

function where(snippet: Snippet): string {
  return `${snippet.document}:${snippet.line}`;
}

const readText = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const snippets = DOCUMENTS.flatMap((document) => readmeSnippets(readText(document), document));
const socketsAtStart = openSockets();

describe("README and docs examples", () => {
  after(() => assertSocketsClosed(socketsAtStart));

  before(() => {
    fs.rmSync(SNIPPETS, { recursive: true, force: true });
    fs.mkdirSync(SNIPPETS, { recursive: true });
    // As written, for the type check; a run writes its own copy, its ports moved.
    for (const snippet of snippets) fs.writeFileSync(snippet.file, snippet.code);
  });

  after(() => fs.rmSync(SNIPPETS, { recursive: true, force: true }));

  test("SRS-096 every ts block of the README and docs/ is run: none is ignored", () => {
    assert.ok(snippets.filter((s) => s.document === "README.md").length >= 6);
    for (const snippet of snippets) {
      assert.equal(snippet.info, "ts", `the ts block at ${where(snippet)} is not run`);
    }
  });

  test("SRS-097 every console.log of the examples shows what it prints", () => {
    for (const snippet of snippets) {
      assert.doesNotThrow(() => expectedOutput(snippet.code), where(snippet));
    }
  });

  test("SRS-241 the examples import the package by its name, which package.json exports as deno.json does", () => {
    const deno = JSON.parse(readText("deno.json"));
    const node = JSON.parse(readText("package.json"));
    assert.equal(deno.name, PACKAGE);
    assert.equal(node.name, PACKAGE);
    assert.deepEqual(node.exports, deno.exports);
    for (const snippet of snippets) {
      for (const [, specifier] of snippet.code.matchAll(/from\s+"([^"]+)"/g)) {
        const local = specifier.startsWith(".") || specifier.startsWith("jsr:");
        assert.ok(!local, `${where(snippet)} imports ${specifier}: import "${PACKAGE}"`);
      }
    }
  });

  test("SRS-096 the examples type-check as written", {
    skip: RUNTIME === "deno" ? false : "Deno type-checks; Bun and Node only strip the types",
  }, async () => {
    const files = snippets.filter((s) => s.only === undefined || s.only === "deno");
    // A cold type check of the whole module graph can outlive a test subprocess's usual bound.
    const run = await checkTypes(files.map((s) => s.file), 60_000);
    assert.equal(run.code, 0, describeRun(run));
  });

  // Named by document, section and rank in it, which other edits leave alone more often than line
  // numbers; the line is in every failure's message.
  const ranks = new Map<string, number>();
  for (const snippet of snippets) {
    const key = `${snippet.document} "${snippet.section}"`;
    const rank = (ranks.get(key) ?? 0) + 1;
    ranks.set(key, rank);
    const name = `SRS-096 SRS-097 SRS-230 SRS-240 ${key} example ${rank} runs on ${RUNTIME} ` +
      "and prints what it shows";
    const skip = snippet.only !== undefined && snippet.only !== RUNTIME
      ? `marked ${snippet.only} only`
      : false;
    test(name, { skip }, async () => {
      try {
        if (/await server\.finished/.test(snippet.code)) await driveServer(snippet);
        else await runSnippet(snippet);
      } catch (error) {
        throw new Error(`the example at ${where(snippet)} failed`, { cause: error });
      }
    });
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces made hyphens. */
export function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
}

/** The links of a markdown text, `[text](target)`, outside code blocks and code spans. */
export function links(text: string): string[] {
  const prose = text.replace(/^```[^]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

describe("README and docs: the house", () => {
  test("SRS-242 the README is at most 300 lines and shows the two commands word for word", () => {
    const readme = readText("README.md");
    const lines = readme.trimEnd().split("\n").length;
    assert.ok(lines <= 300, `README.md has ${lines} lines`);
    assert.match(readme, /^npx --yes deno@2\.9\.6 task doit {3}#/m);
    assert.match(readme, /^npx --yes deno@2\.9\.6 task test {3}#/m);
  });

  test("SRS-243 every link of the README and docs/ stays in the repository and finds its file and heading", () => {
    for (const document of DOCUMENTS) {
      for (const target of links(readText(document))) {
        assert.doesNotMatch(target, /^[a-z]+:/i, `${document} links outside: ${target}`);
        const [file, fragment] = target.split("#");
        const linked = file === "" ? document : path.join(path.dirname(document), file);
        assert.ok(fs.existsSync(path.join(ROOT, linked)), `${document}: ${target}: no such file`);
        if (fragment === undefined) continue;
        const headings = readText(linked).split("\n").filter((line) => /^#+\s/.test(line))
          .map((line) => anchor(line.replace(/^#+\s+/, "")));
        assert.ok(headings.includes(fragment), `${document}: ${target}: no such heading`);
      }
    }
  });

  test("SRS-244 every deno task has a description", () => {
    const tasks = JSON.parse(readText("deno.json")).tasks as Record<string, unknown>;
    for (const [name, task] of Object.entries(tasks)) {
      const { command, description } = task as { command?: unknown; description?: unknown };
      assert.equal(typeof command, "string", `task ${name}`);
      assert.ok(typeof description === "string" && description.length > 0, `task ${name}`);
    }
  });

  test("SRS-245 the README and docs/ use no wording that dates", () => {
    for (const document of DOCUMENTS) {
      assert.doesNotMatch(readText(document), /\btoday|\bcurrently\b|\bnowadays\b/i, document);
    }
  });
});
