import { test } from "node:test";
import assert from "node:assert/strict";
import { scalingCharts } from "./scaling.ts";
import type { Point, ScalingRecord } from "./scaling.ts";

// A point of three runs, its medians as the point's figures.
function point(x: number, ops: [number, number, number], cpu: [number, number, number]): Point {
  return {
    x,
    opsPerSec: ops[1],
    cpuUsPerOp: cpu[1],
    runs: ops.map((opsPerSec, i) => ({ opsPerSec, cpuUsPerOp: cpu[i] })),
  };
}

test("SRS-246 the scaling charts say what each line is, which way is better, and the spread of the runs", () => {
  const record: ScalingRecord = {
    settings: { quick: false, seconds: 0.4, turns: 3, waitingPairs: 0, waitingSeconds: 1 },
    notes: [],
    waiting: {},
    dimensions: {
      size: {
        "module-deno": [point(16, [90, 100, 110], [4, 5, 6]), point(64, [80, 95, 99], [5, 6, 9])],
        "C": [point(16, [200, 210, 220], [1, 2, 3]), point(64, [190, 200, 230], [2, 3, 4])],
      },
    },
  };
  const charts = scalingCharts(record, "a machine, a date");
  assert.deepEqual(Object.keys(charts), ["line-size.svg"]);
  const svg = charts["line-size.svg"];
  assert.ok(svg.includes("this module&#39;s server on Deno")); // escaped
  assert.ok(svg.includes("the C reference server"));
  assert.ok(svg.includes("↑ higher is better"));
  assert.ok(svg.includes("↓ lower is better"));
  assert.ok(svg.includes("the median of 3 runs"));
  // One band per server and panel, drawn from the runs' lowest and highest.
  assert.equal(svg.match(/fill-opacity="0\.18"/g)?.length, 4);
});
