// A household's integration plan: who is responsible, the next review, consent, and each
// goal with its steps, what moved them forward (which service's event, when), and the
// work on it. A household without a plan gets the form to make one.
import { ApiFailure, mayUse } from "/dashboard/api.js";
import { fill, h } from "/dashboard/dom.js";
import { t, when } from "/dashboard/i18n.js";
import { command, memberChoices, names, residentHref, said, word } from "./common.js";
import { addGoalForm, completeButton, goalWork } from "./goalforms.js";
import { createForm, planWork, socialWorkers } from "./planforms.js";

async function fetchPlan(household) {
  try {
    return await command("get_plan", { household_id: household });
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 404 && /has no plan/.test(e.message)) return null;
    throw e;
  }
}

const pair = (label, ...value) => [h("dt", {}, label), h("dd", {}, ...value)];
const dash = (v) => v ?? "—";

function byEvent(ref) {
  return t("plans.by_event", { fact: word("fact", ref.fact), on: when(ref.time), type: ref.type });
}

function who(responsible) {
  return responsible.id ? `${word("party", responsible.party)} (${responsible.id})` : word("party", responsible.party);
}

function about(view, names) {
  const consent = view.consent.map((c) => `${names[c.resident_id] || c.resident_id}: ${t(c.given ? "plans.consent.given" : "plans.consent.withdrawn", { on: c.on })}`);
  return h("section", { class: "card", "aria-labelledby": "plan-about", "data-plan": view.plan_id, "data-state": view.state },
    h("h2", { id: "plan-about" }, t("plans.plan.about")),
    h("dl", { class: "kv" },
      ...pair(t("plans.plan.state"), word("state", view.state), view.close_reason ? ` – ${word("closing", view.close_reason)}` : ""),
      ...pair(t("plans.plan.social_worker"), h("span", { "data-social-worker": view.social_worker || "" }, dash(view.social_worker))),
      ...pair(t("plans.plan.site"), view.site_id ? h("a", { href: `#/sites/${encodeURIComponent(view.site_id)}` }, view.site_id) : "—"),
      ...pair(t("plans.plan.members"), ...view.members.flatMap((m, i) => [i ? ", " : "",
        h("a", { href: residentHref(m.resident_id) }, names[m.resident_id] || m.resident_id)])),
      ...pair(t("plans.plan.created_on"), view.created_on),
      ...pair(t("plans.plan.next_review"), dash(view.next_review)),
      ...pair(t("plans.plan.consent"), consent.length ? consent.join("; ") : t("plans.consent.none"))));
}

/** A link as the reader says it: the fact, and what it must say (a level, a kind). */
function linkText(l) {
  const detail = [l.level, l.placement_kind && word("placement", l.placement_kind), l.phase && t("plans.link.phase", { phase: l.phase })];
  const said = detail.filter(Boolean).join(", ");
  return word("fact", l.fact) + (said ? ` (${said})` : "");
}

function steps(goal, open) {
  if (!goal.steps.length) return h("p", { class: "empty" }, t("plans.steps.none"));
  const waits = (s) => goal.links.filter((l) => l.step_id === s.step_id).map(linkText);
  return h("ul", { class: "steps" }, ...goal.steps.map((s) => h("li", { "data-step": s.step_id, "data-done": String(s.done) },
    h("strong", {}, s.title), ` – ${who(s.responsible)}`, s.due ? ` · ${t("plans.step.due", { due: s.due })}` : "",
    " · ", s.done ? (s.done_by ? byEvent(s.done_by) : t("plans.step.done")) : t("plans.step.open"),
    !s.done && waits(s).length ? ` · ${t("plans.step.waits", { facts: waits(s).join(", ") })}` : "",
    !s.done && open ? completeButton(goal, s) : null)));
}

function goalCard(goal, names, open, members) {
  const id = `goal-h-${goal.goal_id}`;
  const links = goal.links.filter((l) => !l.step_id);
  return h("section", { class: "card goal", "aria-labelledby": id, "data-goal": goal.goal_id, "data-status": goal.status },
    h("h3", { id }, goal.title),
    h("dl", { class: "kv" },
      ...pair(t("plans.goal.field"), word("field", goal.field)),
      ...pair(t("plans.goal.for"), goal.resident_id
        ? h("a", { href: residentHref(goal.resident_id) }, names[goal.resident_id] || goal.resident_id) : t("plans.goal.household")),
      ...pair(t("plans.goal.responsible"), who(goal.responsible)),
      ...pair(t("plans.goal.due"), dash(goal.due)),
      ...pair(t("plans.goal.status"), h("span", { "data-goal-status": goal.status },
        word("status", goal.status), goal.reason ? ` – ${word("reason", goal.reason)}` : "")),
      goal.reached_by ? pair(t("plans.goal.reached_by"), byEvent(goal.reached_by)) : [],
      goal.reached_on && !goal.reached_by ? pair(t("plans.goal.reached_on"), goal.reached_on) : [],
      links.length ? pair(t("plans.goal.moved_by"), links.map(linkText).join(", ")) : [],
      goal.note ? pair(t("plans.goal.note"), goal.note) : []),
    h("h4", {}, t("plans.steps")),
    steps(goal, open),
    open ? goalWork(goal, members) : null);
}

function reviews(view) {
  if (!view.reviews.length) return null;
  return h("section", { class: "card", "aria-labelledby": "plan-reviews" },
    h("h2", { id: "plan-reviews" }, t("plans.reviews")),
    h("table", {}, h("thead", {}, h("tr", {}, ...["review_on", "by", "outcome", "next_review"].map((k) => h("th", { scope: "col" }, t(`plans.review.${k}`))))),
      h("tbody", {}, ...view.reviews.map((r) => h("tr", {}, h("td", {}, r.on), h("td", {}, r.by),
        h("td", {}, word("outcome", r.outcome)), h("td", {}, dash(r.next_review)))))));
}

export async function plan(main, household) {
  const view = await fetchPlan(household);
  const notice = said();
  const staff = mayUse("city_admin", "social_worker");
  const [people, workers] = await Promise.all([
    view ? names(view.members.map((m) => m.resident_id)) : {},
    staff ? socialWorkers(household) : []]);
  const title = view?.members.length
    ? t("plans.plan.title", { names: view.members.map((m) => people[m.resident_id]).join(", ") })
    : t("plans.plan.title_household", { id: household });
  const open = staff && view?.state === "open";
  fill(main,
    h("p", {}, h("a", { href: "#/plans" }, `← ${t("plans.worklist.title")}`)),
    h("h1", {}, title),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("p", { class: "hint" }, t("plans.audited")),
    view ? about(view, people) : h("p", { class: "empty", "data-no-plan": household }, t("plans.plan.none")),
    view ? h("section", { "aria-labelledby": "plan-goals" },
      h("h2", { id: "plan-goals" }, t("plans.goals")),
      view.goals.length ? view.goals.map((g) => goalCard(g, people, open, memberChoices(view, people)))
        : h("p", { class: "empty" }, t("plans.goals.none")))
      : null,
    open ? addGoalForm(view, people) : null,
    view ? reviews(view) : null,
    open ? planWork(view, people, workers) : null,
    staff && view?.state !== "open" ? createForm(household, workers) : null,
  );
  return title;
}
