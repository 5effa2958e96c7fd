// The forms of one goal: add a goal, record a step (optionally linked to a fact another
// service reports), link the goal or one of its steps to a fact later, set its status by
// hand, take a dropped goal up again, mark a step done. Refusals are shown next to the
// field they concern; nothing changes.
import { ApiFailure } from "/dashboard/api.js";
import { h } from "/dashboard/dom.js";
import { commandForm, field } from "/dashboard/forms.js";
import { t } from "/dashboard/i18n.js";
import { BY_HAND, FACTS, FIELDS, LEVELS, PARTIES, PLACEMENTS, REASONS, choices, command, memberChoices, say } from "./common.js";

const none = () => [["", t("plans.none_chosen")]];

function linkFields(form, label = t("plans.form.fact")) {
  return [
    field(form, { name: "fact", label, type: "select", hint: t("plans.form.fact_hint"),
      options: [...none(), ...choices("fact", FACTS)] }),
    field(form, { name: "level", label: t("plans.form.level"), type: "select",
      options: [...none(), ...LEVELS.map((l) => [l, l])] }),
    field(form, { name: "placement_kind", label: t("plans.form.placement_kind"), type: "select",
      options: [...none(), ...choices("placement", PLACEMENTS)] }),
  ];
}

function responsibleFields(form) {
  return [
    field(form, { name: "party", label: t("plans.form.party"), type: "select", options: choices("party", PARTIES) }),
    field(form, { name: "responsible_id", label: t("plans.form.responsible_id"), hint: t("plans.form.responsible_id_hint") }),
  ];
}

const link = (v) => (v.fact ? { fact: v.fact, level: v.level, placement_kind: v.placement_kind } : undefined);
const responsible = (v) => ({ party: v.party, id: v.responsible_id });
// Where the service names a field inside the goal or step, and the form calls it otherwise.
const NAMES = { id: "responsible_id" };

export function addGoalForm(view, names) {
  const members = memberChoices(view, names);
  return commandForm({ id: "goal", title: t("plans.form.add_goal"), required: ["title"], names: NAMES, fields: [
    field("goal", { name: "resident_id", label: t("plans.form.for"), type: "select",
      options: [["", t("plans.goal.household")], ...members] }),
    field("goal", { name: "field", label: t("plans.form.field"), type: "select", options: choices("field", FIELDS) }),
    field("goal", { name: "title", label: t("plans.form.title") }),
    ...responsibleFields("goal"),
    field("goal", { name: "due", label: t("plans.form.due"), type: "date" }),
    ...linkFields("goal"),
  ], submit: t("plans.form.add_goal_submit"),
  send: (v) => command("add_goal", { plan_id: view.plan_id, goal: {
    resident_id: v.resident_id, field: v.field, title: v.title, responsible: responsible(v), due: v.due,
    links: v.fact ? [link(v)] : [] } }),
  done: () => say(t("plans.saved.goal")) });
}

function stepForm(goal) {
  const id = `step-${goal.goal_id}`;
  return commandForm({ id, title: t("plans.form.add_step"), required: ["title"], names: NAMES, fields: [
    field(id, { name: "title", label: t("plans.form.step_title") }),
    ...responsibleFields(id),
    field(id, { name: "due", label: t("plans.form.due"), type: "date" }),
    ...linkFields(id),
  ], submit: t("plans.form.add_step_submit"),
  send: (v) => command("add_step", { goal_id: goal.goal_id, step: {
    title: v.title, responsible: responsible(v), due: v.due, link: link(v) } }),
  done: () => say(t("plans.saved.step")) });
}

/** Link the goal (or one of its open steps) to a fact once the goal exists. A household's
 * goal names the member a fact about one person must be about. */
function linkForm(goal, members) {
  const id = `link-${goal.goal_id}`;
  const open = goal.steps.filter((s) => !s.done);
  return commandForm({ id, title: t("plans.form.link"), required: ["fact"], fields: [
    field(id, { name: "step_id", label: t("plans.form.link_to"), type: "select",
      options: [["", t("plans.form.link_goal_itself")], ...open.map((s) => [s.step_id, s.title])] }),
    ...linkFields(id, t("plans.form.link_fact")),
    goal.resident_id ? null : field(id, { name: "resident_id", label: t("plans.form.link_member"), type: "select",
      hint: t("plans.form.link_member_hint"), options: [["", t("plans.form.link_household")], ...members] }),
  ].filter(Boolean), submit: t("plans.form.link_submit"),
  send: (v) => command("link_goal", { goal_id: goal.goal_id, step_id: v.step_id,
    link: { ...link(v), resident_id: v.resident_id } }),
  done: () => say(t("plans.saved.linked")) });
}

function statusForm(goal) {
  const id = `status-${goal.goal_id}`;
  return commandForm({ id, title: t("plans.form.status"), required: ["status", "reason"], fields: [
    field(id, { name: "status", label: t("plans.form.new_status"), type: "select",
      options: [...none(), ...choices("status", BY_HAND.filter((s) => s !== goal.status))] }),
    field(id, { name: "reason", label: t("plans.form.reason"), type: "select", hint: t("plans.form.reason_hint"),
      options: [...none(), ...choices("reason", REASONS)] }),
    field(id, { name: "note", label: t("plans.form.note"), hint: t("plans.form.note_hint") }),
  ], submit: t("plans.form.status_submit"),
  send: (v) => command("set_goal_status", { goal_id: goal.goal_id, ...v }),
  done: (reply) => say(t("plans.saved.status", { status: t(`plans.status.${reply.goals.find((g) => g.goal_id === goal.goal_id).status}`) })) });
}

function reopenForm(goal) {
  const id = `reopen-${goal.goal_id}`;
  return commandForm({ id, title: t("plans.form.reopen"), fields: [
    field(id, { name: "note", label: t("plans.form.note"), hint: t("plans.form.note_hint") }),
  ], submit: t("plans.form.reopen_submit"),
  send: (v) => command("reopen_goal", { goal_id: goal.goal_id, ...v }),
  done: () => say(t("plans.saved.reopened")) });
}

/** A button that marks a step done; a refusal is said beside it. */
export function completeButton(goal, step) {
  const slot = h("span", { class: "field-error", role: "alert" });
  const button = h("button", { type: "button", class: "secondary",
    "aria-label": t("plans.step.complete_named", { title: step.title }),
    onclick: async () => {
      button.disabled = true;
      try {
        await command("complete_step", { goal_id: goal.goal_id, step_id: step.step_id });
        say(t("plans.saved.step_done", { title: step.title }));
      } catch (e) {
        if (!(e instanceof ApiFailure)) throw e;
        slot.textContent = e.message;
        button.disabled = false;
      }
    } }, t("plans.step.complete"));
  return [" ", button, " ", slot];
}

/** The work on one goal, folded away under its card: what fits its status. `members`:
 * [resident id, name] of the household's members. */
export function goalWork(goal, members) {
  const forms = goal.status === "dropped" ? [reopenForm(goal)]
    : goal.status === "reached" ? [] : [stepForm(goal), linkForm(goal, members), statusForm(goal)];
  if (!forms.length) return null;
  return h("details", { class: "work-on", "data-work-on": goal.goal_id },
    h("summary", {}, t("plans.goal.work_on", { title: goal.title })), ...forms);
}
