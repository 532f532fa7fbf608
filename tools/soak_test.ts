import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "./soak.ts";

test("SRS-050 a short soak loses nothing, keeps order and leaks no descriptors", async () => {
  const result = await runSoak({ cycles: 200, commands: 20_000, timeoutMs: 30_000 });
  assert.deepEqual(result.errors, []);
  assert.equal(result.ok, true);
  assert.equal(result.cycles.answered, 200);
  assert.equal(result.commands.answered, 20_000);
  assert.equal(result.commands.inOrder, true);
  // Linux only: elsewhere there is no /proc/self/fd to count.
  if (result.fds.before !== null) assert.equal(result.fds.after, result.fds.before);
});

// The soak is only worth something if it fails on a faulty server.
test("the soak reports an answer out of order", async () => {
  const result = await runSoak({
    cycles: 10,
    commands: 1000,
    timeoutMs: 30_000,
    handler: (command) => command === "n 500" ? "501" : command.slice(2),
  });
  assert.equal(result.ok, false);
  assert.equal(result.commands.inOrder, false);
  assert.equal(result.commands.answered, 500);
  assert.match(
    result.errors[0],
    /^phase 2 \(pipelined commands\) failed: answer 500: expected 500/,
  );
});

test("the soak reports a lost answer, and a lost last answer as the phase that hung", async () => {
  const drop = (k: number) => (command: string) =>
    command === `n ${k}` ? undefined : command.slice(2);
  const middle = await runSoak({ cycles: 10, commands: 1000, handler: drop(700) });
  assert.equal(middle.ok, false);
  assert.equal(middle.commands.answered, 700);
  assert.match(
    middle.errors[0],
    /^phase 2 \(pipelined commands\) failed: answer 700: expected 700/,
  );

  const last = await runSoak({ cycles: 10, commands: 1000, timeoutMs: 1000, handler: drop(999) });
  assert.equal(last.ok, false);
  assert.equal(last.commands.answered, 999);
  assert.match(last.errors[0], /^phase 2 \(pipelined commands\) hung: 999 of 1000 answered/);
  if (last.fds.before !== null) assert.equal(last.fds.after, last.fds.before);
});

test("the soak reports a wrong answer in phase 1", async () => {
  const result = await runSoak({
    cycles: 20,
    commands: 10,
    timeoutMs: 30_000,
    handler: (command) => command === "n 3" ? "nak" : command.slice(2),
  });
  assert.equal(result.ok, false);
  assert.equal(result.cycles.answered, 3);
  assert.equal(result.commands.answered, 0);
  assert.match(result.errors[0], /^phase 1 \(connect \+ command \+ disconnect\) failed: cycle 3/);
});
