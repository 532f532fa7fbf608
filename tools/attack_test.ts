import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, parseConfig } from "./attack.ts";

test("SRS-200 the attack runs on the runtimes and socket kinds named on its command line", () => {
  const defaults = parseConfig([]);
  assert.deepEqual(defaults.runtimes, ["deno", "bun"]);
  assert.deepEqual(defaults.kinds, ["tcp"]);
  assert.equal(defaults.timeoutMs, 900_000);
  const all = parseConfig(["--runtime", "all", "--unix", "--tls", "--quick"]);
  assert.deepEqual(all.runtimes, ["deno", "bun", "node"]);
  assert.deepEqual(all.kinds, ["tcp", "tls", "unix"]); // in this order, whatever the flags'
  assert.equal(all.timeoutMs, 150_000);
  const some = parseConfig(["--runtime", "node,deno", "--sockets", "unix", "--node", "/bin/n"]);
  assert.deepEqual(some.runtimes, ["node", "deno"]);
  assert.deepEqual(some.kinds, ["unix"]);
  assert.equal(some.executables.node, "/bin/n");
});

test("SRS-200 a wrong runtime, socket kind or timeout is a typed error that names it", () => {
  assert.throws(() => parseConfig(["--runtime", "deno,java"]), {
    name: "TypeError",
    message: "--runtime takes a comma-separated list of deno, bun, node, both, all; got deno,java",
  });
  assert.throws(() => parseConfig(["--sockets", "udp"]), {
    name: "TypeError",
    message: "--sockets takes a comma-separated list of tcp, tls, unix; got udp",
  });
  assert.throws(() => parseConfig(["--timeout", "0"]), RangeError);
});

test("SRS-200 the table names each row's socket kind, and so do its notes", () => {
  const table = formatTable([
    {
      runtime: "node",
      kind: "unix",
      scenario: "churn",
      verdict: "FAIL",
      nextMs: null,
      afterMs: 2.4,
      fds: [20, 21],
      rss: [40, 50, null],
      notes: ["2000 cycles"],
      problems: ["3 refused"],
    },
  ]).split("\n");
  assert.deepEqual(table.slice(2), [
    "churn    |   unix |   never |        2 | 20→21 |           40.0 / 50.0 / ? |    FAIL",
    "  churn (unix): 2000 cycles",
    "  churn (unix): FAIL: 3 refused",
  ]);
  assert.match(table[0], /^scenario \| socket \| next ms \| after ms \|/);
});
