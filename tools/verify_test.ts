// Tests of the verification tool itself (tools/verify.ts and its modules). They verify the
// tool, not the module, so they cite no requirement.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { decodeEntities, parseJUnit } from "./junit.ts";
import { escapeHtml, renderHtml, renderMarkdown, type Report, totalsLine } from "./report.ts";
import {
  buildTrace,
  citedIds,
  findProblems,
  parseSrs,
  type RuntimeRun,
  type Srs,
} from "./trace.ts";
import { parseArgs, readRun } from "./verify.ts";
import { scriptArgs } from "../sample/script.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const data = (name: string) => fileURLToPath(new URL(`testdata/${name}`, import.meta.url));
const fixtureSrs = () => parseSrs(readFileSync(data("srs.json"), "utf8")).srs;
const fixtureRuns = (): RuntimeRun[] => [
  readRun("deno", data("deno.junit")),
  readRun("bun", data("bun.junit")),
];

function fixtureReport(srs: Srs = fixtureSrs(), runs = fixtureRuns()): Report {
  const trace = buildTrace(srs, runs);
  return {
    module: srs.module,
    version: "1.2.3",
    commit: "abc1234 (dirty)",
    date: "2026-01-01T00:00:00.000Z",
    versions: { deno: "2.9.6", bun: "1.4.5" },
    srs,
    runs,
    trace,
    problems: findProblems(srs, runs, trace),
  };
}

describe("JUnit parsing", () => {
  test("entities decode, named and numeric", () => {
    assert.equal(decodeEntities("&amp;&lt;&gt;&quot;&apos;&#233;&#x263A;&nbsp;"), `&<>"'é☺&nbsp;`);
  });

  test("Deno: nested cases get their file and full name; containers are dropped", () => {
    const results = parseJUnit(readFileSync(data("deno.junit"), "utf8"));
    assert.deepEqual(results.map((r) => [r.file, r.name, r.status]), [
      ["a_test.ts", "top SRS-003 runs", "passed"],
      ["a_test.ts", `grp & <x> > SRS-001 passes "q" 'a' é☺`, "passed"],
      ["a_test.ts", "grp & <x> > SRS-002 fails", "failed"],
      ["a_test.ts", "grp & <x> > SRS-002 skipped", "skipped"],
      ["a_test.ts", "grp & <x> > inner > SRS-099 cites an unknown id", "passed"],
    ]);
    assert.equal(results[2].message, "Uncaught AssertionError: one <is> not & two");
  });

  test("Bun: nested suites become the group path", () => {
    const results = parseJUnit(readFileSync(data("bun.junit"), "utf8"));
    assert.deepEqual(results.map((r) => [r.file, r.name, r.status]), [
      ["a_test.ts", `grp & <x> > SRS-001 passes "q" 'a' é☺`, "passed"],
      ["a_test.ts", "grp & <x> > SRS-002 skipped", "skipped"],
      ["a_test.ts", "grp & <x> > inner > SRS-001 deep <![CDATA[not cdata]]>", "passed"],
      ["a_test.ts", "top SRS-003 runs", "passed"],
    ]);
  });

  test("a container that failed while its children passed still counts as a failure", () => {
    const xml = `<testsuites><testsuite name="./b_test.ts">
      <testcase name="g"><error message="hook failed"/></testcase></testsuite>
      <testsuite name="ext:deno_node/testing.ts"><testcase name="g &gt; t"/></testsuite></testsuites>`;
    assert.deepEqual(parseJUnit(xml).map((r) => [r.name, r.status, r.message]), [
      ["g", "failed", "hook failed"],
      ["g > t", "passed", undefined],
    ]);
  });

  test("unbalanced XML and a missing file are run errors, not crashes", () => {
    assert.throws(() => parseJUnit("<testsuites><testsuite></testsuites>"), SyntaxError);
    const run = readRun("bun", data("no-such-file.junit"));
    assert.match(run.runError!, /no JUnit report/);
    assert.match(readRun("deno", data("deno.junit"), 1).runError ?? "none", /none/);
    assert.match(readRun("bun", data("bun.junit"), 1).runError!, /exited with code 1/);
  });
});

describe("trace", () => {
  test("ids are taken from test names, once each", () => {
    assert.deepEqual(citedIds("SRS-017 SRS-040 and SRS-017 again, not SRS-1"), [
      "SRS-017",
      "SRS-040",
    ]);
  });

  test("cells: pass, fail, missing when only skipped, n/a off its runtimes, inspection", () => {
    const trace = buildTrace(fixtureSrs(), fixtureRuns());
    assert.deepEqual(Object.fromEntries(trace.map((r) => [r.requirement.id, r.cells])), {
      "SRS-001": { deno: "pass", bun: "pass" },
      "SRS-002": { deno: "fail", bun: "missing" },
      "SRS-003": { deno: "pass", bun: "n/a" },
      "SRS-004": { deno: "inspection", bun: "inspection" },
    });
    assert.equal(trace[0].tests.length, 2);
  });

  test("problems name the missing requirement, the unknown id and the failed test", () => {
    const { problems } = fixtureReport();
    assert.deepEqual(problems, [
      "SRS-002 has no passing test on deno",
      "SRS-002 has no passing test on bun",
      'test "a_test.ts: grp & <x> > inner > SRS-099 cites an unknown id" on deno cites SRS-099, ' +
      "which srs.json lacks",
      'test "a_test.ts: grp & <x> > SRS-002 fails" failed on deno: Uncaught AssertionError: ' +
      "one <is> not & two",
    ]);
  });

  test("a failure counts in the totals; a failed run without failing tests counts one", () => {
    assert.equal(totalsLine(fixtureRuns()), "6 passed, 1 failed");
    assert.equal(
      totalsLine([{ runtime: "bun", results: [], runError: "crashed" }]),
      "0 passed, 1 failed",
    );
  });

  test("srs.json checks: ids, duplicates, groups, verification, runtimes, shall", () => {
    const bad = {
      module: "m",
      requirements: [
        {
          id: "SRS-1",
          group: "server",
          description: "The x shall y.",
          verification: "test",
          runtimes: ["deno"],
        },
        {
          id: "SRS-002",
          group: "nope",
          description: "Does y.",
          verification: "maybe",
          runtimes: [],
        },
        {
          id: "SRS-002",
          group: "cli",
          description: "It shall.",
          verification: "test",
          runtimes: ["bun"],
        },
      ],
    };
    assert.deepEqual(parseSrs(JSON.stringify(bad)).problems, [
      "srs.json SRS-1: id is not SRS-nnn",
      'srs.json SRS-002: unknown group "nope"',
      'srs.json SRS-002: verification must be "test" or "inspection"',
      "srs.json SRS-002: runtimes must list at least one runtime",
      'srs.json SRS-002: description must be a "shall" sentence',
      "srs.json SRS-002: duplicate id",
    ]);
  });

  test("the project's srs.json is well formed", () => {
    const { srs, problems } = parseSrs(readFileSync(join(root, "srs.json"), "utf8"));
    assert.deepEqual(problems, []);
    assert.ok(srs.requirements.length > 0);
  });
});

describe("rendering", () => {
  test("HTML is one self-contained page with escaped text", () => {
    const html = renderHtml(fixtureReport());
    assert.doesNotMatch(html, /\ssrc=|href=|<link|<script|@import|url\(/i);
    assert.match(html, /The client shall &#60;fail&#62; &#38; &#34;quote&#34;\./);
    assert.match(html, /<td class="na">n\/a<\/td>/);
    assert.match(html, /SRS-002 has no passing test on bun/);
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
    );
  });

  test("Markdown has the summary, the matrix and every description", () => {
    const md = renderMarkdown(fixtureReport());
    assert.match(md, /\| deno \| 5 tests: 3 passed, 1 failed, 1 skipped \|/);
    assert.match(md, /\| SRS-002 \| fail \| missing \| a_test\.ts: grp & <x> > SRS-002 fails<br>/);
    assert.match(md, /\| SRS-004 \| inspection \| inspection \| — \|/);
    for (const r of fixtureSrs().requirements) assert.ok(md.includes(r.description), r.id);
    assert.match(md, /NOT VERIFIED \(4 problems\)/);
  });

  test("with every requirement passing, the report says so", () => {
    const srs: Srs = { ...fixtureSrs(), requirements: fixtureSrs().requirements.slice(0, 1) };
    const runs: RuntimeRun[] = [{
      runtime: "deno",
      results: [{ file: "a", name: "SRS-001 x", status: "passed" }],
    }];
    const report = fixtureReport(srs, runs);
    assert.deepEqual(report.problems, []);
    assert.match(renderMarkdown(report), /\| result \| VERIFIED \|/);
  });
});

describe("command line", () => {
  test("arguments parse, and wrong ones are TypeErrors", () => {
    assert.deepEqual(parseArgs(["--from-junit", "deno=a.xml", "bun=b=c.xml", "--out", "o"]), {
      fromJunit: { deno: "a.xml", bun: "b=c.xml" },
      out: "o",
      srs: "srs.json",
    });
    assert.throws(() => parseArgs(["--from-junit"]), TypeError);
    assert.throws(() => parseArgs(["--out"]), TypeError);
    assert.throws(() => parseArgs(["--bogus"]), TypeError);
  });

  test("--from-junit writes both reports, names the problems, exits 1 and ends with the totals", () => {
    const out = mkdtempSync(join(tmpdir(), "verify-test-"));
    try {
      // verify.ts uses node:* only, so it runs on whichever runtime runs this test.
      const r = spawnSync(
        process.execPath,
        scriptArgs(join(root, "tools", "verify.ts"), [
          ...["--srs", data("srs.json"), "--out", out],
          ...["--from-junit", `deno=${data("deno.junit")}`, `bun=${data("bun.junit")}`],
        ]),
        { cwd: root, encoding: "utf8" },
      );
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.at(-1), "6 passed, 1 failed");
      assert.ok(lines.includes("PROBLEM: SRS-002 has no passing test on bun"), r.stdout);
      assert.match(readFileSync(join(out, "verification.md"), "utf8"), /# Verification report/);
      assert.match(readFileSync(join(out, "verification.html"), "utf8"), /^<!DOCTYPE html>/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
