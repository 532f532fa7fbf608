import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeXml, lineChart, number, pathData, scale, yTicks } from "./svg.ts";

test("linear and log scales map the domain onto the range", () => {
  const linear = scale("linear", [0, 100], [10, 210]);
  assert.equal(linear(0), 10);
  assert.equal(linear(50), 110);
  assert.equal(linear(100), 210);
  const log = scale("log", [1, 10_000], [0, 400]);
  assert.ok(Math.abs(log(100) - 200) < 1e-9);
  assert.ok(Math.abs(log(10) - 100) < 1e-9);
  // An inverted range, as y axes are: larger values higher up.
  const y = scale("linear", [0, 10], [300, 100]);
  assert.equal(y(10), 100);
  assert.throws(() => scale("log", [0, 10], [0, 1]), RangeError);
});

test("ticks cover the data", () => {
  assert.deepEqual(yTicks("linear", 0, 9).map((t) => t.value), [0, 2, 4, 6, 8, 10]);
  const log = yTicks("log", 3, 40_000).map((t) => t.value);
  assert.ok(log[0] <= 3 && log[log.length - 1] >= 40_000);
  assert.equal(number(1_500_000), "1.5M");
  assert.equal(number(2048), "2.05k");
  assert.equal(number(0.25), "0.25");
});

test("paths go through the points in order", () => {
  assert.equal(pathData([[1, 2], [3.456, 4]]), "M1.00 2.00 L3.46 4.00");
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    xScale: "linear",
    xTicks: [{ value: 0, label: "0" }, { value: 10, label: "10" }],
    width: 400,
    panelHeight: 100,
    panels: [{
      yLabel: "y",
      yScale: "linear",
      series: [{ name: "s", color: "#000000", points: [[0, 0], [10, 10]] }],
    }],
  });
  // Plot area: x from 78 to 400 - 190 = 210; y from 44 + 100 = 144 (at 0) up to 44 (at 10).
  assert.match(svg, /<path d="M78\.00 144\.00 L210\.00 44\.00"/);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
});

test("labels are escaped", () => {
  assert.equal(escapeXml(`a<b & "c" 'd'>`), "a&#60;b &#38; &#34;c&#34; &#39;d&#39;&#62;");
  const svg = lineChart({
    title: "<script>",
    subtitle: "A & B",
    xLabel: "x",
    xScale: "log",
    xTicks: [{ value: 1, label: "1" }, { value: 100, label: "100 <B>" }],
    panels: [{
      yLabel: "µs",
      yScale: "log",
      series: [{ name: 'module-deno "x"', color: "#123456", points: [[1, 5], [100, 50]] }],
    }],
  });
  assert.ok(!svg.includes("<script>"));
  assert.ok(svg.includes("&#60;script&#62;"));
  assert.ok(svg.includes("A &#38; B"));
  assert.ok(svg.includes("100 &#60;B&#62;"));
  assert.ok(svg.includes("module-deno &#34;x&#34;"));
});
