// Residents: search (GET /api/v1/residents?q=…&site=…) and one resident's aggregated
// sections (GET /api/v1/residents/{id}), with the services that did not answer; an erased
// resident (410) shows that, and a city administrator may request the erasure.
import { ApiFailure, api, mayUse } from "./api.js";
import { fill, h } from "./dom.js";
import { casework } from "./casework.js";
import { courses } from "./courses.js";
import { kitaCard } from "./kita.js";
import { tandemsCard } from "./tandems.js";
import { employment } from "./employment.js";
import { erasedPage, erasureControl } from "./erasure.js";
import { field, t } from "./i18n.js";
import { render, missingWarning, sectionCard } from "./render.js";

const LIMIT = 50;

export function pager(page, href) {
  const prev = page.offset > 0 ? h("a", { href: href(Math.max(0, page.offset - page.limit)) }, `← ${t("list.previous")}`) : null;
  const next = page.offset + page.limit < page.total ? h("a", { href: href(page.offset + page.limit) }, `${t("list.next")} →`) : null;
  return prev || next ? h("nav", { class: "pager", "aria-label": t("list.pages") }, prev, " ", next) : null;
}

export function residentTable(items) {
  if (!items.length) return h("p", { class: "empty" }, t("residents.none"));
  const cols = ["site_id", "residence_status", "arrival_date", "languages"];
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, field("name")),
      ...cols.map((c) => h("th", { scope: "col" }, field(c))))),
    h("tbody", {}, ...items.map((r) => h("tr", {},
      h("td", {}, h("a", { href: `#/residents/${encodeURIComponent(r.resident_id)}` },
        `${r.family_name}, ${r.given_name}`)),
      ...cols.map((c) => h("td", {}, render(r[c], c)))))));
}

// A social worker picks one of the sites she is deployed to (housing says which); others type one.
function siteField(siteId, mySites) {
  if (!mySites) return h("div", {}, h("label", { for: "site" }, t("residents.site")), h("input", { id: "site", name: "site", value: siteId }));
  return h("div", {}, h("label", { for: "site" }, t("residents.my_site")),
    h("select", { id: "site", name: "site" }, ...mySites.map((s) => h("option", { value: s, selected: s === siteId }, s))));
}

function searchForm(q, siteId, mySites) {
  return h("form", { class: "inline", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const data = new URLSearchParams(new FormData(e.target));
    for (const [k, v] of [...data]) if (!v.trim()) data.delete(k);
    location.hash = `#/residents?${data}`;
  } },
  h("div", {}, h("label", { for: "q" }, t("residents.q")), h("input", { id: "q", name: "q", type: "search", value: q })),
  siteField(siteId, mySites),
  h("button", { type: "submit" }, t("residents.search")));
}

export async function residents(main, params) {
  const q = params.get("q") || "";
  const mySites = mayUse("social_worker") ? (await api("/api/auth/me")).sites : null;
  let siteId = params.get("site") || "";
  if (mySites && !mySites.includes(siteId)) siteId = mySites[0] || "";
  if (mySites && !siteId) {
    fill(main, h("h1", {}, t("residents.title")), h("p", { class: "empty" }, t("residents.no_sites")));
    return t("residents.title");
  }
  const offset = Number(params.get("offset") || 0);
  const query = new URLSearchParams({ limit: LIMIT, offset });
  if (q) query.set("q", q);
  if (siteId) query.set("site", siteId);
  const page = await api(`/api/v1/residents?${query}`);
  fill(main, 
    h("h1", {}, t("residents.title")),
    searchForm(q, siteId, mySites),
    h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, residentTable(page.items)),
    pager(page, (o) => { query.set("offset", o); query.delete("limit"); return `#/residents?${query}`; }),
  );
  return t("residents.title");
}

async function aggregate(id) {
  try {
    return await api(`/api/v1/residents/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 410) return null;
    throw e;
  }
}

export async function resident(main, id) {
  const agg = await aggregate(id);
  if (agg === null) return erasedPage(main, id);
  const personal = agg.sections.housing?.personal;
  const name = personal ? `${personal.given_name} ${personal.family_name}` : id;
  const names = Object.keys(agg.sections).sort((a, b) => (a === "housing" ? -1 : b === "housing" ? 1 : a.localeCompare(b)));
  const [work, learning, jobs, tandems] = await Promise.all([casework(agg.sections.housing),
    courses(id, agg.sections.education), employment(id, agg.sections.employment),
    tandemsCard(id, agg.sections.volunteers)]);
  fill(main, 
    h("p", {}, h("a", { href: "#/residents" }, `← ${t("residents.title")}`)),
    h("h1", {}, t("resident.title", { name })),
    h("p", { class: "hint" }, t("resident.audited")),
    missingWarning(agg.missing),
    names.length ? null : h("p", { class: "empty" }, t("resident.nothing")),
    work,
    learning,
    kitaCard(id, agg.sections.education),
    jobs,
    tandems,
    ...names.map((n) => sectionCard(n, agg.sections[n], "resident", { id, sections: agg.sections })),
    mayUse("city_admin") ? erasureControl(id, name) : null,
  );
  return t("resident.title", { name });
}
