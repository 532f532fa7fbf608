import { test } from "node:test";
import assert from "node:assert/strict";
import { median, medianRange, pairedRatios } from "./turns.ts";
import { judge, table } from "./report.ts";

test("SRS-256 paired ratios cancel the machine's drift: each turn against each of the other server's beside it", () => {
  // The machine slows down steadily; A is always 1.25 times B.
  const speed = Array.from({ length: 13 }, (_, i) => 1 - i / 20);
  const onA = speed.filter((_, i) => i % 2 === 0).map((s) => 125 * s);
  const onB = speed.filter((_, i) => i % 2 === 1).map((s) => 100 * s);
  const ratios = pairedRatios(onA, onB);
  assert.equal(ratios.length, 12);
  assert.ok(Math.abs(median(ratios) - 1.25) < 1e-12, `${median(ratios)}`);
  // For each B turn: the A turn before it over it, then the one after it.
  assert.deepEqual(pairedRatios([1, 3, 8], [4, 5]), [0.25, 0.75, 0.6, 1.6]);
  assert.throws(
    () => pairedRatios([1, 2], [1, 2]),
    new RangeError("A takes one turn more than B: got 2 and 2"),
  );
});

test("SRS-256 paired ratios lean to neither server: a bad turn of either moves as many ratios", () => {
  const even = Array.from({ length: 9 }, () => 100);
  const slowA = even.map((x, i) => i === 4 ? 50 : x);
  const slowB = even.slice(1).map((x, i) => i === 4 ? 50 : x);
  const moved = (ratios: number[]) => ratios.filter((r) => r !== 1);
  assert.deepEqual(moved(pairedRatios(slowA, even.slice(1))), [0.5, 0.5]);
  assert.deepEqual(moved(pairedRatios(even, slowB)), [2, 2]);
  // With a bad turn in one of every three, the median still says 1.
  const often = even.map((x, i) => i % 3 === 1 ? 50 : x);
  assert.equal(median(pairedRatios(often, even.slice(1))), 1);
  assert.equal(median(pairedRatios(even, often.slice(1))), 1);
});

test("SRS-256 the median range: seeded, around the median, and as wide as the turns' spread", () => {
  const ratios = [0.93, 1.08, 0.97, 1.02, 1.11, 0.95, 1.0, 0.99, 1.04];
  const [low, high] = medianRange(ratios);
  assert.deepEqual(medianRange(ratios), [low, high], "the same figures give the same range");
  assert.ok(low < median(ratios) && median(ratios) < high, `${low} < 1.0 < ${high}`);
  assert.ok(low >= 0.93 && high <= 1.11, "within the figures");
  // Twice the spread, twice the range.
  const [wideLow, wideHigh] = medianRange(ratios.map((r) => 1 + 2 * (r - 1)));
  assert.ok(Math.abs(wideHigh - wideLow - 2 * (high - low)) < 1e-9);
  assert.deepEqual(medianRange([1.5]), [1.5, 1.5]);
  assert.throws(() => medianRange([]), new RangeError("no values to resample"));
  assert.equal(median([5]), 5);
  assert.equal(median([1, 9, 2, 8]), 5);
});

test("SRS-256 a paired ratio is the one judged and printed, with its range; otherwise value over reference", () => {
  const section = "module / module at abc1234";
  const verdicts = judge([
    {
      section,
      server: "deno",
      metric: "churn cycles/s",
      value: 2000,
      reference: 2200,
      ratio: 0.97,
      range: [0.94, 1.01],
      target: { on: "ratio", op: ">=", limit: 0.95 },
    },
    {
      section,
      server: "deno",
      metric: "pipe ops/s",
      value: 90,
      reference: 100,
      target: { on: "ratio", op: ">=", limit: 0.95 },
    },
  ]);
  assert.deepEqual(verdicts.map((v) => [v.ratio, v.pass]), [[0.97, true], [0.9, false]]);
  const lines = table(verdicts).split("\n");
  const churn = lines.find((line) => line.includes("churn"))!;
  assert.match(churn, /2,000\s+2,200\s+0\.97×\s+0\.94–1\.01\s+≥ 0\.95×\s+PASS$/);
  assert.match(lines.find((line) => line.startsWith("server"))!, /ratio\s+90 % range\s+target/);
  assert.ok(lines.includes("  FAIL module / module at abc1234: deno pipe ops/s: 0.90 not ≥ 0.95×"));
});
