// Plans' sections on the dashboard's own pages: on a resident's page the household's plan
// in brief and the way to it; on a site's page its figures and the way to its worklist;
// in the city overview the figures and the goals by field and status.
import { mayUse } from "/dashboard/api.js";
import { h } from "/dashboard/dom.js";
import { num, t } from "/dashboard/i18n.js";
import { figures } from "/dashboard/render.js";
import { FIELDS, planHref, word } from "./common.js";

export function residentCard(data, { sections }) {
  const plan = data?.plan;
  const household = sections?.housing?.household_id;
  const link = household && mayUse("city_admin", "social_worker")
    ? h("p", {}, h("a", { href: planHref(household) }, t(plan ? "plans.resident.open" : "plans.resident.make"))) : null;
  if (!plan) return [h("p", { class: "empty" }, t("plans.resident.none")), link];
  return [
    h("p", {}, t("plans.resident.summary", { state: word("state", plan.state), social_worker: plan.social_worker || "—",
      next_review: plan.next_review || "—" })),
    plan.goals.length ? h("ul", {}, ...plan.goals.map((g) => h("li", { "data-goal": g.goal_id, "data-status": g.status },
      `${g.title} (${word("field", g.field)}): ${word("status", g.status)}`,
      g.steps ? ` · ${t("plans.resident.steps", { done: g.steps_done, all: g.steps })}` : ""))) : h("p", { class: "empty" }, t("plans.goals.none")),
    link,
  ];
}

export function siteCard(data, { id }) {
  return [figures(data || {}),
    h("p", {}, h("a", { href: `#/plans?scope=${encodeURIComponent(`site:${id}`)}` }, t("plans.site.worklist")))];
}

export function cityFigures(data) {
  if (!data) return h("p", { class: "empty" }, t("none"));
  const { goals_by_field: byField = {}, ...rest } = data;
  const statuses = ["open", "in_progress", "reached", "dropped"];
  const rows = FIELDS.filter((f) => byField[f]);
  return [figures(rest),
    rows.length ? h("table", { class: "plans-goals" },
      h("caption", {}, t("plans.city.goals")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("plans.goal.field")),
        ...statuses.map((s) => h("th", { scope: "col" }, word("status", s))))),
      h("tbody", {}, ...rows.map((f) => h("tr", {}, h("th", { scope: "row" }, word("field", f)),
        ...statuses.map((s) => h("td", {}, num(byField[f][s] || 0))))))) : null];
}
