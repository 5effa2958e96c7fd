// The forms of a whole plan: make one, record a member's consent, review it, hand it to
// another social worker, close it. The social workers to choose from are those deployed
// to the household's site (plans' list_social_workers, from housing's deployments).
import { h } from "/dashboard/dom.js";
import { commandForm, field } from "/dashboard/forms.js";
import { t } from "/dashboard/i18n.js";
import { CLOSING, OUTCOMES, choices, command, memberChoices, say, today } from "./common.js";

const none = () => [["", t("plans.none_chosen")]];
const staff = (ids) => ids.map((id) => [id, id]);

/** The social workers deployed to the household's site (none where it has no site). */
export async function socialWorkers(household) {
  return (await command("list_social_workers", { household_id: household })).social_workers;
}

export function createForm(household, workers) {
  return commandForm({ id: "create", title: t("plans.form.create"), fields: [
    field("create", { name: "social_worker", label: t("plans.form.social_worker"), type: "select",
      hint: t("plans.form.social_worker_hint"), options: [["", t("plans.form.social_worker_self")], ...staff(workers)] }),
    field("create", { name: "next_review", label: t("plans.form.next_review"), type: "date" }),
  ], submit: t("plans.form.create_submit"),
  send: (v) => command("create_plan", { household_id: household, ...v }),
  done: () => say(t("plans.saved.create")) });
}

export function consentForm(view, names) {
  return commandForm({ id: "consent", title: t("plans.form.consent"), required: ["resident_id", "given"], fields: [
    field("consent", { name: "resident_id", label: t("plans.form.member"), type: "select",
      options: [...none(), ...memberChoices(view, names)] }),
    field("consent", { name: "given", label: t("plans.form.given"), type: "select",
      options: [...none(), ["yes", t("plans.form.given_yes")], ["no", t("plans.form.given_no")]] }),
    field("consent", { name: "on", label: t("plans.form.consent_on"), type: "date", value: today() }),
  ], submit: t("plans.form.consent_submit"),
  send: (v) => command("record_consent", { plan_id: view.plan_id,
    consent: { resident_id: v.resident_id, given: v.given === "yes", on: v.on } }),
  done: () => say(t("plans.saved.consent")) });
}

export function reviewForm(view) {
  return commandForm({ id: "review", title: t("plans.form.review"), required: ["outcome"], fields: [
    field("review", { name: "on", label: t("plans.form.review_on"), type: "date", value: today() }),
    field("review", { name: "outcome", label: t("plans.form.outcome"), type: "select",
      options: [...none(), ...choices("outcome", OUTCOMES)] }),
    field("review", { name: "next_review", label: t("plans.form.next_review"), type: "date" }),
  ], submit: t("plans.form.review_submit"),
  send: (v) => command("record_review", { plan_id: view.plan_id, ...v }),
  done: () => say(t("plans.saved.review")) });
}

export function handOverForm(view, workers) {
  const others = workers.filter((id) => id !== view.social_worker);
  return commandForm({ id: "handover", title: t("plans.form.hand_over"), required: ["social_worker"], fields: [
    field("handover", { name: "social_worker", label: t("plans.form.to_social_worker"), type: "select",
      hint: t(others.length ? "plans.form.to_social_worker_hint" : "plans.form.no_colleagues"),
      options: [...none(), ...staff(others)] }),
  ], submit: t("plans.form.hand_over_submit"),
  send: (v) => command("hand_over_plan", { plan_id: view.plan_id, ...v }),
  done: (reply) => say(t("plans.saved.handed_over", { social_worker: reply.social_worker })) });
}

export function closeForm(view) {
  return commandForm({ id: "close", title: t("plans.form.close"), required: ["reason"], fields: [
    field("close", { name: "reason", label: t("plans.form.close_reason"), type: "select",
      options: [...none(), ...choices("closing", CLOSING)] }),
  ], submit: t("plans.form.close_submit"),
  send: (v) => command("close_plan", { plan_id: view.plan_id, ...v }),
  done: () => say(t("plans.saved.closed")) });
}

/** The plan's forms, for the city team while it is open. */
export function planWork(view, names, workers) {
  return h("div", { class: "grid plan-work" }, consentForm(view, names), reviewForm(view),
    handOverForm(view, workers), closeForm(view));
}
