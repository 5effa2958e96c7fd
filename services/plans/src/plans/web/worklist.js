// The worklist: a social worker's own (the plans she is responsible for, and households
// without a plan at her sites) or a site's: reviews due, goals past their due date,
// households without a plan; one list at a time, in pages, the goals by field.
import { api, mayUse } from "/dashboard/api.js";
import { fill, h } from "/dashboard/dom.js";
import { num, t } from "/dashboard/i18n.js";
import { pager } from "/dashboard/residents.js";
import { FIELDS, command, planHref, residentHref, word } from "./common.js";

const LIMIT = 20;
const LISTS = ["overdue_goals", "reviews_due", "households_without_plan"];

function scopes(me, sites) {
  const own = mayUse("social_worker") ? [[`worker:${me.username}`, t("plans.worklist.mine")]] : [];
  return [...own, ...sites.map((s) => [`site:${s.site_id}`, t("plans.worklist.site", { name: s.name })])];
}

function filters(params, options) {
  const select = (name, label, opts, value) => h("div", {}, h("label", { for: `wl-${name}` }, label),
    h("select", { id: `wl-${name}`, name }, ...opts.map(([v, l]) => h("option", { value: v, selected: v === value }, l))));
  return h("form", { class: "inline", "aria-label": t("plans.worklist.filter"), onsubmit: (e) => {
    e.preventDefault();
    const data = new URLSearchParams(new FormData(e.target));
    for (const [k, v] of [...data]) if (!v) data.delete(k);
    location.hash = `#/plans?${data}`;
  } },
  select("scope", t("plans.worklist.scope"), options, params.get("scope")),
  select("list", t("plans.worklist.list"), LISTS.map((l) => [l, t(`plans.worklist.${l}`)]), params.get("list") || LISTS[0]),
  select("field", t("plans.worklist.field"), [["", t("plans.worklist.any_field")], ...FIELDS.map((f) => [f, word("field", f)])], params.get("field") || ""),
  h("button", { type: "submit" }, t("plans.worklist.show")));
}

const household = (id) => h("a", { href: planHref(id) }, id);

function table(list, items) {
  if (!items.length) return h("p", { class: "empty" }, t("plans.worklist.empty"));
  const cols = {
    overdue_goals: [["field", (g) => word("field", g.field)], ["household", (g) => household(g.household_id)],
      ["member", (g) => (g.resident_id ? h("a", { href: residentHref(g.resident_id) }, g.resident_id) : t("plans.goal.household"))],
      ["due", (g) => g.due]],
    reviews_due: [["household", (r) => household(r.household_id)], ["due", (r) => r.due]],
    households_without_plan: [["household", (id) => household(id)]],
  }[list];
  return h("table", { "data-list": list },
    h("thead", {}, h("tr", {}, ...cols.map(([k]) => h("th", { scope: "col" }, t(`plans.worklist.col.${k}`))))),
    h("tbody", {}, ...items.map((item) => h("tr", {}, ...cols.map(([, cell]) => h("td", {}, cell(item)))))));
}

export async function worklist(main, params) {
  const [me, sites] = await Promise.all([api("/api/auth/me"),
    api("/api/v1/sites?limit=500").then((r) => r.items).catch(() => [])]);
  const mine = mayUse("social_worker") ? sites.filter((s) => me.sites.includes(s.site_id)) : sites;
  const options = scopes(me, mine);
  const scope = params.get("scope") || (params.get("site") ? `site:${params.get("site")}` : options[0]?.[0]);
  const title = t("plans.worklist.title");
  if (!scope) {
    fill(main, h("h1", {}, title), h("p", { class: "empty" }, t("plans.worklist.no_scope")));
    return title;
  }
  params.set("scope", scope);
  const list = LISTS.includes(params.get("list")) ? params.get("list") : LISTS[0];
  const offset = Number(params.get("offset") || 0);
  const [kind, id] = [scope.slice(0, scope.indexOf(":")), scope.slice(scope.indexOf(":") + 1)];
  const body = { [kind === "site" ? "site_id" : "social_worker"]: id, offset, limit: LIMIT };
  if (params.get("field")) body.field = params.get("field");
  const wl = await command("get_worklist", body);
  const query = new URLSearchParams(params);
  fill(main,
    h("h1", {}, title),
    filters(params, options.some(([v]) => v === scope) ? options : [...options, [scope, id]]),
    h("p", { class: "hint" }, t("plans.audited")),
    h("dl", { class: "figures card", "data-worklist": scope },
      h("dt", {}, t("plans.worklist.plans_open")), h("dd", {}, num(wl.plans_open)),
      ...LISTS.flatMap((l) => [h("dt", {}, t(`plans.worklist.${l}`)), h("dd", { "data-total": l }, num(wl[`${l}_total`]))])),
    h("section", { class: "card", "aria-labelledby": "wl-h" },
      h("h2", { id: "wl-h" }, t(`plans.worklist.${list}`)),
      table(list, wl[list])),
    pager({ offset, limit: LIMIT, total: wl[`${list}_total`] }, (o) => { query.set("offset", o); return `#/plans?${query}`; }),
  );
  return title;
}
