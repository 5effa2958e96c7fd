// Horizontal (grouped) bar charts drawn as inline SVG: no library, nothing fetched.
import { num, t } from "./i18n.js";
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const LABEL = 190;
const VALUE = 56;
const BAR = 14;
const GAP = 10;
let uid = 0;

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

const clip = (label, n = 28) => (label.length > n ? `${label.slice(0, n - 1)}…` : label);

/**
 * A bar chart figure. `series`: [{key, label}]; `rows`: [{label, values: {key: number}}].
 * One bar per series in each row; the longest bar spans the width.
 */
export function barChart({ id, title, series, rows }) {
  const fig = h("figure", { class: "chart", "data-chart": id });
  const captionId = `chart-${id}-${++uid}`;
  fig.append(h("figcaption", {}, h("h3", { id: captionId }, title)));
  const shown = rows.filter((r) => series.some((se) => (r.values[se.key] ?? 0) > 0));
  if (!shown.length) {
    fig.append(h("p", { class: "empty" }, t("chart.empty")));
    return fig;
  }
  const max = Math.max(...shown.flatMap((r) => series.map((se) => r.values[se.key] ?? 0)));
  const rowHeight = series.length * BAR + GAP;
  const height = shown.length * rowHeight + GAP;
  const scale = (WIDTH - LABEL - VALUE) / max;
  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-labelledby": captionId,
    preserveAspectRatio: "xMinYMin meet",
  });
  const desc = shown.map((r) => `${r.label}: ${series.map((se) =>
    `${se.label} ${num(r.values[se.key] ?? 0)}`).join(", ")}`).join("; ");
  svg.append(s("desc", {}, desc));
  svg.append(s("line", { class: "axis", x1: LABEL, x2: LABEL, y1: 0, y2: height }));
  shown.forEach((r, i) => {
    const top = GAP / 2 + i * rowHeight;
    const name = s("text", { x: LABEL - 8, y: top + (series.length * BAR) / 2 + 4,
      "text-anchor": "end" }, clip(r.label));
    name.append(s("title", {}, r.label));
    svg.append(name);
    series.forEach((se, j) => {
      const v = r.values[se.key] ?? 0;
      const y = top + j * BAR;
      const w = Math.max(v > 0 ? 1 : 0, v * scale);
      const bar = s("rect", { class: `bar c${j % 6}`, x: LABEL, y, width: w, height: BAR - 2,
        "data-value": v });
      bar.append(s("title", {}, `${r.label} · ${se.label}: ${num(v)}`));
      svg.append(bar, s("text", { x: LABEL + w + 4, y: y + BAR - 4 }, num(v)));
    });
  });
  fig.append(svg);
  if (series.length > 1) {
    fig.append(h("ul", { class: "legend" }, ...series.map((se, j) =>
      h("li", {}, h("span", { class: `swatch c${j % 6}`, "aria-hidden": "true" }), se.label))));
  }
  return fig;
}
