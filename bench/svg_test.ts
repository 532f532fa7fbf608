import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeXml, lineChart, number, pathData, scale, wrap, yTicks } from "./svg.ts";

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
  // Plot area: x from 78 to 400 - 210 = 190; y from 44 + 100 = 144 (at 0) up to 44 (at 10).
  assert.match(svg, /<path d="M78\.00 144\.00 L190\.00 44\.00"/);
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

test("SRS-246 a band shows the spread of the runs, the panel which way is better, the legend each line", () => {
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    xScale: "linear",
    xTicks: [{ value: 0, label: "0" }, { value: 10, label: "10" }],
    width: 400,
    panelHeight: 100,
    legendNote: "bands: lowest to highest of 3 runs",
    panels: [{
      yLabel: "y",
      yScale: "linear",
      better: "lower",
      series: [{
        name: "s",
        description: "what s is",
        color: "#123456",
        points: [[0, 5], [10, 5]],
        spread: [[0, 4, 6], [10, 2, 10]],
      }],
    }],
  });
  // The band: up along the highs, back along the lows (y 0..10 maps to 144..44), closed.
  assert.match(
    svg,
    /<path d="M78\.00 84\.00 L190\.00 44\.00 L190\.00 124\.00 L78\.00 104\.00 Z" fill="#123456" fill-opacity="0\.18"/,
  );
  // Drawn before the line, so the line stays on top.
  assert.ok(svg.indexOf("fill-opacity") < svg.indexOf('<path d="M78.00 94.00 L190.00 94.00"'));
  assert.ok(svg.includes("↓ lower is better"));
  assert.ok(svg.includes(">what s is</text>"));
  assert.ok(svg.includes(">bands: lowest to highest of 3 runs</text>"));
});

test("SRS-246 legend text is wrapped at spaces", () => {
  assert.deepEqual(wrap("the module's server on Deno", 12), ["the module's", "server on", "Deno"]);
  assert.deepEqual(wrap("averyveryverylongword ok", 5), ["averyveryverylongword", "ok"]);
  assert.deepEqual(wrap("", 5), []);
});
