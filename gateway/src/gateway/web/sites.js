// Sites: the list (GET /api/v1/sites) and one site (GET /api/v1/sites/{id}).
import { api, optional } from "./api.js";
import { barChart } from "./charts.js";
import { fill, h } from "./dom.js";
import { field, t, value } from "./i18n.js";
import { render, missingWarning, sectionCard } from "./render.js";
import { pager, residentTable } from "./residents.js";

const LIMIT = 50;
const siteHref = (id) => `#/sites/${encodeURIComponent(id)}`;

export async function sites(main, params) {
  const offset = Number(params.get("offset") || 0);
  const page = await api(`/api/v1/sites?limit=${LIMIT}&offset=${offset}`);
  const cols = ["name", "kind", "district", "operator_id", "capacity", "occupancy"];
  fill(main, 
    h("h1", {}, t("sites.title")),
    h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, h("table", {},
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, field(c))))),
      h("tbody", {}, ...page.items.map((s) => h("tr", {},
        h("td", {}, h("a", { href: siteHref(s.site_id) }, s.name)),
        ...cols.slice(1).map((c) => h("td", {}, render(s[c], c)))))))),
    pager(page, (o) => `#/sites?offset=${o}`),
  );
  return t("sites.title");
}

function siteCharts(sections) {
  const out = [];
  const housing = sections.housing;
  if (housing) {
    out.push(barChart({ id: "site-occupancy", title: t("chart.occupancy"),
      series: [{ key: "occupancy", label: field("occupancy") }, { key: "capacity", label: field("capacity") }],
      rows: [{ label: housing.name, values: housing }] }));
  }
  const courses = sections.education?.courses || [];
  if (courses.length) {
    const keys = ["confirmed", "free_seats", "waitlist", "childcare_waitlist"];
    out.push(barChart({ id: "site-courses", title: t("chart.site_courses"),
      series: keys.map((key) => ({ key, label: field(key) })),
      rows: courses.map((c) => ({ label: `${c.title} (${value(c.kind)})`, values: c })) }));
  }
  return out.map((c) => h("div", { class: "card" }, c));
}

export async function site(main, id) {
  const [agg, people] = await Promise.all([
    api(`/api/v1/sites/${encodeURIComponent(id)}`),
    optional(`/api/v1/residents?site=${encodeURIComponent(id)}&limit=100`)]);
  const name = agg.sections.housing?.name || id;
  const names = Object.keys(agg.sections).sort((a, b) => (a === "housing" ? -1 : b === "housing" ? 1 : a.localeCompare(b)));
  fill(main, 
    h("p", {}, h("a", { href: "#/sites" }, `← ${t("sites.title")}`)),
    h("h1", {}, t("site.title", { name })),
    missingWarning(agg.missing),
    h("div", { class: "charts" }, ...siteCharts(agg.sections)),
    ...names.map((n) => sectionCard(n, agg.sections[n], "site", { id, sections: agg.sections })),
    h("section", { class: "card", "aria-labelledby": "site-residents" },
      h("h2", { id: "site-residents" }, t("site.residents")),
      people ? residentTable(people.items) : h("p", { class: "empty" }, t("site.no_residents"))),
  );
  return t("site.title", { name });
}
