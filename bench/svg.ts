/**
 * A small hand-written SVG writer for the bench's charts: line charts with one or more panels
 * stacked over a shared x axis, linear or log scales, labelled axes, the spread of the runs behind
 * each point as a band, which way is better, and a legend that says what each line is. No
 * dependencies; the output is plain SVG that GitHub shows in a README (white background, so it
 * reads in dark mode too).
 *
 * @module
 */

/** How an axis maps values: evenly, or by powers. */
export type ScaleKind = "linear" | "log";

/** A tick: where, and what it says. */
export interface Tick {
  value: number;
  label: string;
}

/** One line: a name for the legend, its points, and how it is drawn. */
export interface Series {
  name: string;
  /** What the line is, said in the legend under its name. */
  description?: string;
  points: [x: number, y: number][];
  /** The lowest and highest of the runs behind each point, drawn as a band around the line. */
  spread?: [x: number, low: number, high: number][];
  color: string;
  /** An SVG `stroke-dasharray`, such as `"6 3"`; solid when not given. */
  dash?: string;
}

/** One panel: a y axis and its lines. */
export interface Panel {
  yLabel: string;
  yScale: ScaleKind;
  series: Series[];
  /** Which way is better, said in the panel's corner. */
  better?: "higher" | "lower";
}

/** A chart: panels over a shared x axis. */
export interface Chart {
  title: string;
  subtitle?: string;
  xLabel: string;
  xScale: ScaleKind;
  /** The x ticks; the x range spans them. */
  xTicks: Tick[];
  panels: Panel[];
  /** Said under the legend, such as what the bands are. */
  legendNote?: string;
  width?: number;
  panelHeight?: number;
}

/**
 * Escapes text for SVG content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` escaped.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A mapping from a domain of values to a range of pixels.
 *
 * @param kind Linear or log.
 * @param domain The values at either end (positive for log).
 * @param range The pixels they map to.
 * @returns The mapping.
 * @throws {RangeError} When a log domain is not positive.
 */
export function scale(
  kind: ScaleKind,
  [d0, d1]: [number, number],
  [r0, r1]: [number, number],
): (value: number) => number {
  if (kind === "log" && !(d0 > 0 && d1 > 0)) {
    throw new RangeError(`a log scale needs a positive domain, got ${d0}..${d1}`);
  }
  const f = kind === "log" ? Math.log : (v: number) => v;
  let [a, b] = [f(d0), f(d1)];
  // One value: it goes in the middle.
  if (a === b) [a, b] = [a - 1, b + 1];
  return (value) => r0 + (f(value) - a) / (b - a) * (r1 - r0);
}

/**
 * Ticks for a y axis covering `[min, max]`: 1-2-5 steps from zero when linear, powers of ten
 * (with 2 and 5 between when the span is short) when log.
 *
 * @param kind Linear or log.
 * @param min The smallest value shown.
 * @param max The largest value shown.
 * @returns The ticks; their first and last bound the axis.
 */
export function yTicks(kind: ScaleKind, min: number, max: number): Tick[] {
  if (kind === "log") {
    const low = Math.floor(Math.log10(min));
    const high = Math.ceil(Math.log10(max));
    const steps = high - low <= 2 ? [1, 2, 5] : [1];
    const ticks: Tick[] = [];
    for (let e = low; e <= high; e++) {
      for (const s of steps) {
        const value = s * 10 ** e;
        if (e === high && s > 1) break;
        ticks.push({ value, label: number(value) });
      }
    }
    // Trim the decades' in-between ticks that lie outside the data.
    while (ticks.length > 2 && ticks[1].value <= min) ticks.shift();
    while (ticks.length > 2 && ticks[ticks.length - 2].value >= max) ticks.pop();
    return ticks;
  }
  const top = max > 0 ? max : 1;
  const rough = top / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((s) => s * power).find((s) => s >= rough)!;
  const ticks: Tick[] = [];
  for (let v = 0; v < top + step; v += step) {
    ticks.push({ value: v, label: number(v) });
    if (v >= top) break;
  }
  return ticks;
}

/**
 * Formats a figure briefly: `1.5k`, `2M`, `0.25`.
 *
 * @param value The figure.
 * @returns Its short form.
 */
export function number(value: number): string {
  const trim = (v: number) => String(Number(v.toPrecision(3)));
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/**
 * An SVG path through points, in order (`M x y L x y ...`), with two decimals.
 *
 * @param points Pixel coordinates.
 * @returns The path's `d` attribute.
 */
export function pathData(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(2)} ${y.toFixed(2)}`)
    .join(" ");
}

/**
 * Breaks text into lines of at most `width` characters, at spaces (a longer word stands alone).
 *
 * @param text The text.
 * @param width The most characters per line.
 * @returns The lines.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/**
 * Draws a chart.
 *
 * @param chart What to draw.
 * @returns The SVG document.
 */
export function lineChart(chart: Chart): string {
  const width = chart.width ?? 760;
  const panelHeight = chart.panelHeight ?? 250;
  const left = 78, right = 210, top = chart.subtitle ? 62 : 44, gap = 36, bottom = 52;
  const plotWidth = width - left - right;
  const height = top + chart.panels.length * panelHeight + (chart.panels.length - 1) * gap +
    bottom;
  const xs = chart.xTicks.map((t) => t.value);
  const x = scale(chart.xScale, [Math.min(...xs), Math.max(...xs)], [left, left + plotWidth]);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  if (chart.subtitle) {
    out.push(`<text x="${left}" y="42" fill="#555555">${escapeXml(chart.subtitle)}</text>`);
  }
  chart.panels.forEach((panel, index) => {
    const y0 = top + index * (panelHeight + gap);
    const shown = (v: number) => Number.isFinite(v) && (panel.yScale === "linear" || v > 0);
    const values = panel.series.flatMap((s) => [
      ...s.points.map(([, v]) => v),
      ...(s.spread ?? []).flatMap(([, low, high]) => [low, high]),
    ]).filter(shown);
    const ticks = yTicks(panel.yScale, Math.min(...values, Infinity), Math.max(...values, 0));
    const y = scale(panel.yScale, [ticks[0].value, ticks[ticks.length - 1].value], [
      y0 + panelHeight,
      y0,
    ]);
    for (const tick of ticks) {
      const py = y(tick.value).toFixed(2);
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${py}" y2="${py}" stroke="#e4e4e4"/>`,
        `<text x="${left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">` +
          `${escapeXml(tick.label)}</text>`,
      );
    }
    for (const tick of chart.xTicks) {
      const px = x(tick.value).toFixed(2);
      out.push(
        `<line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#f0f0f0"/>`,
      );
      if (index === chart.panels.length - 1) {
        out.push(
          `<text x="${px}" y="${y0 + panelHeight + 16}" text-anchor="middle">` +
            `${escapeXml(tick.label)}</text>`,
        );
      }
    }
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotWidth}" height="${panelHeight}" fill="none" ` +
        `stroke="#888888"/>`,
      `<text transform="translate(${left - 58} ${y0 + panelHeight / 2}) rotate(-90)" ` +
        `text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
    );
    if (panel.better) {
      const arrow = panel.better === "higher" ? "↑" : "↓";
      // Above the panel's right corner, clear of the data.
      out.push(
        `<text x="${left + plotWidth}" y="${y0 - 6}" text-anchor="end" fill="#555555">` +
          `${arrow} ${panel.better} is better</text>`,
      );
    }
    // The bands first, so that every line is drawn over them.
    for (const series of panel.series) {
      const spread = (series.spread ?? []).filter(([, low, high]) => shown(low) && shown(high));
      if (spread.length === 0) continue;
      const outline: [number, number][] = [
        ...spread.map(([px, , high]): [number, number] => [x(px), y(high)]),
        ...spread.toReversed().map(([px, low]): [number, number] => [x(px), y(low)]),
      ];
      out.push(
        `<path d="${pathData(outline)} Z" fill="${escapeXml(series.color)}" ` +
          `fill-opacity="0.18" stroke="none"><title>${escapeXml(series.name)}: lowest to ` +
          `highest run</title></path>`,
      );
    }
    for (const series of panel.series) {
      const points = series.points
        .filter(([, v]) => shown(v))
        .map(([px, py]): [number, number] => [x(px), y(py)]);
      if (points.length === 0) continue;
      const dash = series.dash ? ` stroke-dasharray="${escapeXml(series.dash)}"` : "";
      out.push(
        `<path d="${pathData(points)}" fill="none" stroke="${escapeXml(series.color)}" ` +
          `stroke-width="2"${dash}><title>${escapeXml(series.name)}</title></path>`,
      );
      for (const [px, py] of points) {
        out.push(
          `<circle cx="${px.toFixed(2)}" cy="${py.toFixed(2)}" r="2.5" ` +
            `fill="${escapeXml(series.color)}"/>`,
        );
      }
    }
  });
  const last = top + chart.panels.length * panelHeight + (chart.panels.length - 1) * gap;
  out.push(
    `<text x="${left + plotWidth / 2}" y="${last + 38}" text-anchor="middle">` +
      `${escapeXml(chart.xLabel)}</text>`,
  );
  // The legend: every series name once, in the order first seen.
  const legend = new Map<string, Series>();
  for (const panel of chart.panels) {
    for (const s of panel.series) if (!legend.has(s.name)) legend.set(s.name, s);
  }
  const lx = left + plotWidth + 16;
  let ly = top + 10;
  const small = (text: string, at: number, indent = 0) =>
    `<text x="${lx + indent}" y="${at}" font-size="10" fill="#555555" ` +
    `dominant-baseline="middle">${escapeXml(text)}</text>`;
  for (const s of legend.values()) {
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : "";
    out.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${escapeXml(s.color)}" ` +
        `stroke-width="2"${dash}/>`,
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
    for (const line of s.description ? wrap(s.description, 30) : []) {
      ly += 13;
      out.push(small(line, ly, 34));
    }
    ly += 22;
  }
  for (const line of chart.legendNote ? wrap(chart.legendNote, 36) : []) {
    out.push(small(line, ly));
    ly += 13;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
