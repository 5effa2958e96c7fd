// Move-out cases: the worklist (a social worker's sites, or the city's; by site and stage,
// the longest waiting first, paged) and a case's own page with everything recorded on it
// (housing's list_move_out_cases and get_move_out_case, both audited reads). The work on
// a case stays on the applicant's page, where its forms are.
import { api, mayUse } from "./api.js";
import { h } from "./dom.js";
import { field } from "./forms.js";
import { num, t, value, when } from "./i18n.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields, siteNamer, visibleSites } from "./scope.js";

const LIMIT = 25;
const STAGES = ["opened", "searching", "offer_received", "viewing", "lease_signed", "moving", "paused"];
const CLOSED = ["moved_out", "cancelled"];
const call = (name, body) => api(`/api/v1/commands/housing/${name}`, { method: "POST", body });
const days = (iso) => (iso ? Math.floor((Date.now() - Date.parse(iso)) / 86400000) : null);
const age = (iso) => (days(iso) === null ? "–" : t("cases.days", { n: num(days(iso)) }));

function filters(params, sites) {
  const form = h("form", { class: "inline", role: "search", "aria-label": t("cases.filter"),
    onsubmit: (e) => {
      e.preventDefault();
      const q = queryOf(form, ["site", "district", "stage"]);
      location.hash = `#/cases${q.size ? `?${q}` : ""}`;
    } },
  ...scopeFields("cases", params, sites),
  field("cases", { name: "stage", label: t("cases.stage"), type: "select", value: params.get("stage") || "",
    options: [["", t("cases.open_stages")], ...[...STAGES, ...CLOSED].map((s) => [s, value(s)])] }),
  h("button", { type: "submit" }, t("cases.show")));
  return form;
}

function caseRow(c, siteName) {
  return h("tr", { "data-case-row": c.case_id, "data-stage": c.stage },
    h("th", { scope: "row" }, h("a", { href: `#/cases/${encodeURIComponent(c.case_id)}` }, c.name || c.resident_id)),
    h("td", {}, siteName(c.site_id)), h("td", {}, value(c.stage)), h("td", {}, age(c.since)),
    h("td", {}, age(c.opened_at)), h("td", {}, String(c.offers)), h("td", {}, String(c.viewings)));
}

/** The worklist of move-out cases. */
export async function caseList(main, params) {
  const sites = await visibleSites();
  const stage = params.get("stage");
  const offset = Number(params.get("offset") || 0);
  const body = { offset, limit: LIMIT, ...scopeBody(params),
    ...(stage ? { stage, open: !CLOSED.includes(stage) } : {}) };
  const page = await call("list_move_out_cases", body);
  const siteName = siteNamer(sites);
  const title = mayUse("social_worker") ? t("cases.mine") : t("cases.title");
  main.append(h("h1", {}, title), filters(params, sites),
    h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", { "data-cases": page.total },
      h("caption", { class: "visually-hidden" }, t("cases.caption")),
      h("thead", {}, h("tr", {}, ...["cases.applicant", "cases.site", "cases.stage", "cases.in_stage", "cases.open_for",
        "cases.offers", "cases.viewings"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map((c) => caseRow(c, siteName)))) : h("p", { class: "empty" }, t("cases.none"))),
    pager(page, (o) => { const q = new URLSearchParams(params); q.set("offset", o); return `#/cases?${q}`; }));
  return title;
}

const kv = (pairs) => h("dl", { class: "kv" }, ...pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]));
const card = (id, title, ...body) => h("section", { class: "card", "aria-labelledby": id, "data-part": id },
  h("h2", { id }, title), ...body);
const table = (cols, rows, empty) => (rows.length ? h("table", {},
  h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, t(c))))),
  h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((v) => h("td", {}, v ?? "–")))))) : h("p", { class: "empty" }, t(empty)));

/** A move-out case with everything recorded on it. */
export async function casePage(main, params, id) {
  const c = await call("get_move_out_case", { case_id: id });
  const crit = c.criteria;
  const offers = Object.fromEntries(c.offers.map((o) => [o.offer_id, o]));
  const title = t("cases.case_of", { name: c.name || c.resident_id });
  main.append(h("p", {}, h("a", { href: "#/cases" }, `← ${t("nav.cases")}`)),
    h("h1", {}, title),
    card("case-h", t("cases.state"), kv([[t("cases.stage"), value(c.stage)], [t("cases.in_stage"), age(c.since)],
      [t("cases.opened"), c.opened_at ? when(c.opened_at) : null], [t("cases.site"), c.site_id]]),
    h("p", {}, h("a", { href: `#/residents/${encodeURIComponent(c.resident_id)}` }, t("cases.work_on", { name: c.name || c.resident_id })))),
    card("criteria-h", t("cases.criteria"), crit ? kv([[t("work.household_size"), String(crit.household_size)],
      [t("cases.rent_ceiling"), num(crit.rent_ceiling, { style: "currency", currency: "EUR" })],
      [t("cases.districts"), crit.districts.join(", ") || null], [t("cases.accessible"), t(crit.accessible ? "cases.yes" : "cases.no")],
      [t("work.wbs"), t(`work.wbs.${crit.wbs}`)]]) : h("p", { class: "empty" }, t("cases.no_criteria"))),
    card("offers-h", t("cases.offers"), table(["cases.landlord", "cases.address", "cases.rooms", "cases.rent", "cases.available"],
      c.offers.map((o) => [o.landlord, [o.address, o.district].filter(Boolean).join(", "), String(o.rooms),
        num(o.rent, { style: "currency", currency: "EUR" }), o.available_from]), "cases.no_offers")),
    card("viewings-h", t("cases.viewings"), table(["cases.on", "cases.address", "cases.outcome"],
      c.viewings.map((v) => [v.on, offers[v.offer_id]?.address, value(v.outcome)]), "cases.no_viewings")),
    card("help-h", t("cases.help"), h("ul", {}, ...Object.entries(c.help).map(([item, done]) =>
      h("li", { "data-help": item, "data-done": String(done) }, `${value(item)}: ${t(done ? "cases.done" : "cases.not_done")}`)))),
    card("history-h", t("cases.history"), table(["cases.when", "cases.from", "cases.to", "cases.reason", "cases.by"],
      c.history.map((s) => [s.at ? when(s.at) : null, value(s.from_stage), value(s.stage), s.reason, s.by]), "cases.no_history")));
  return title;
}
