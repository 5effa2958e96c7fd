// The city overview: GET /api/v1/stats (one section per service) and the sites for
// occupancy per site.
import { api, optional } from "./api.js";
import { barChart } from "./charts.js";
import { fill, h } from "./dom.js";
import { field, service, t, value } from "./i18n.js";
import { mySites } from "./mysites.js";
import { waiting } from "./waiting.js";
import { figures, missingWarning } from "./render.js";

const ORDER = ["housing", "education", "employment", "counselling"];
const byOrder = (a, b) => ((ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99)) || a.localeCompare(b);
const counts = (obj, label = value) => Object.entries(obj || {}).map(([k, v]) => ({ label: label(k), values: { n: v } }));
const count = () => [{ key: "n", label: t("chart.count") }];

function occupancyChart(sites) {
  const shelters = sites.filter((s) => s.kind !== "apartment");
  const flats = sites.filter((s) => s.kind === "apartment");
  const rows = shelters.map((s) => ({ label: s.name, values: s }));
  if (flats.length) {
    const sum = (k) => flats.reduce((a, s) => a + s[k], 0);
    rows.push({ label: t("chart.apartments", { n: flats.length }),
      values: { occupancy: sum("occupancy"), capacity: sum("capacity") } });
  }
  return barChart({ id: "occupancy", title: t("chart.occupancy"),
    series: [{ key: "occupancy", label: field("occupancy") }, { key: "capacity", label: field("capacity") }], rows });
}

function phaseChart(employment) {
  const keys = ["registered", "active", "completed", "placed", "waitlisted"];
  const rows = (employment.programmes || []).flatMap((p) => p.phases.map((ph) => ({
    label: t("chart.phase", { programme: p.name, phase: ph.phase }), values: ph })));
  return barChart({ id: "phases", title: t("chart.phases"),
    series: keys.map((key) => ({ key, label: field(key) })), rows });
}

function courseChart(education) {
  const statuses = ["enrolled", "waitlisted", "completed", "withdrawn"];
  const rows = statuses.map((k) => ({ label: field(k), values: { n: education[k] ?? 0 } }));
  rows.unshift(...counts(education.courses_by_kind, (k) => t("chart.courses_of_kind", { kind: value(k) })));
  return barChart({ id: "courses", title: t("chart.courses"), series: count(), rows });
}

function charts(sections, sites) {
  const out = [];
  if (sites) out.push(occupancyChart(sites));
  const { housing, education, employment, counselling } = sections;
  if (housing?.move_outs) {
    out.push(barChart({ id: "moveouts", title: t("chart.moveouts"), series: count(),
      rows: counts(housing.move_outs, field) }));
  }
  if (education) out.push(courseChart(education));
  if (employment) out.push(phaseChart(employment));
  if (counselling) {
    out.push(barChart({ id: "counselling", title: t("chart.counselling"),
      series: [{ key: "n", label: t("chart.sessions") }], rows: counts(counselling.sessions_by_category) }));
  }
  return out.map((c) => h("div", { class: "card" }, c));
}

export async function overview(main) {
  const [stats, sites, mine] = await Promise.all([api("/api/v1/stats"), optional("/api/v1/sites?limit=500"), mySites()]);
  const names = Object.keys(stats.sections).sort(byOrder);
  const work = await waiting(names); // only the services that answered just now
  fill(main, 
    h("h1", {}, t("overview.title")),
    missingWarning(stats.missing),
    work,
    mine,
    h("section", { "aria-labelledby": "figures-h" },
      h("h2", { id: "figures-h", class: "visually-hidden" }, t("overview.figures")),
      h("div", { class: "grid" }, ...names.map((n) => h("section", { class: "card", "data-section": n, "aria-labelledby": `fig-${n}` },
        h("h2", { id: `fig-${n}` }, service(n)), figures(stats.sections[n], n))))),
    h("section", { "aria-labelledby": "charts-h" },
      h("h2", { id: "charts-h" }, t("overview.charts")),
      h("div", { class: "charts" }, ...charts(stats.sections, sites?.items))),
  );
  return t("overview.title");
}
