// The employment programme as its providers and the city run it: the programmes with
// their phases (a provider's own), and a phase's page with its participants, where one
// activates a participant, records a placement (which completes the participation) or a
// drop-out (employment's get_phase_participants, activate_participant, record_placement,
// drop_out_participant).
import { api, mayUse, me } from "./api.js";
import { h } from "./dom.js";
import { field, submitting, values } from "./forms.js";
import { num, t, value } from "./i18n.js";

const call = (name, body) => api(`/api/v1/commands/employment/${name}`, { method: "POST", body });
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const KINDS = ["internship", "vocational_training", "job"];
const REASONS = ["moved_away", "health", "family_care", "no_show", "lost_interest", "other"];
const ACTIVATABLE = ["registered", "waiting_for_language_course"];
let saved = null;

function said() {
  const text = saved;
  saved = null;
  return text ? h("p", { class: "notice", role: "status" }, text) : null;
}

/** The programmes with their phases. */
export async function programmeList(main) {
  const stats = await api("/api/v1/stats");
  const all = stats.sections?.employment?.programmes || [];
  const mine = mayUse("provider") ? all.filter((p) => p.providers.includes(me().provider)) : all;
  const title = t("programmes.title");
  main.append(h("h1", {}, title),
    mine.length ? h("div", { class: "grid" }, ...mine.map((p) => h("section", { class: "card", "aria-labelledby": `p-${p.programme_id}`, "data-programme": p.programme_id },
      h("h2", { id: `p-${p.programme_id}` }, p.name),
      h("ul", {}, ...p.phases.map((ph) => h("li", {},
        h("a", { href: `#/programmes/${encodeURIComponent(p.programme_id)}/${ph.phase}` }, t("chart.phase", { programme: p.name, phase: ph.phase })),
        ` – ${value(ph.status)}: ${t("programmes.counts", { active: num(ph.active), registered: num(ph.registered), waitlisted: num(ph.waitlisted), capacity: num(ph.capacity) })}`))))))
      : h("p", { class: "empty" }, t("programmes.none")));
  return title;
}

// One participant's next steps, each a small form in the row.
function actions(p) {
  const id = p.participation_id;
  const forms = [];
  const act = (name, label, fields, send, done, cls = "secondary") => {
    const form = h("form", { class: "inline", novalidate: true, "data-form": `${name}-${id}`, "aria-label": t(`programmes.${name}_for`, { id: p.resident_id }),
      onsubmit: async (e) => {
        e.preventDefault();
        const reply = await submitting(form, () => send(values(form, ["hours"])));
        if (reply) { saved = done(reply); reroute(); }
      } }, ...fields, h("button", { type: "submit", class: cls }, label));
    forms.push(form);
  };
  if (ACTIVATABLE.includes(p.state)) {
    act("activate", t("programmes.activate"), [], () => call("activate_participant", { participation_id: id }),
      () => t("programmes.activated", { id: p.resident_id }), "");
  }
  if (p.state === "active") {
    const f = (name, label, extra = {}) => field(`placement-${id}`, { name, label, ...extra });
    act("placement", t("programmes.place"), [
      f("kind", t("programmes.kind"), { type: "select", options: [["", t("household.choose")], ...KINDS.map((k) => [k, value(k)])] }),
      f("sector", t("programmes.sector")), f("starts", t("programmes.starts"), { type: "date" }),
      f("hours", t("programmes.hours"), { inputmode: "decimal" }),
    ], (v) => call("record_placement", { ...v, participation_id: id }), () => t("programmes.placed", { id: p.resident_id }));
  }
  if (!["completed", "dropped_out"].includes(p.state)) {
    act("dropout", t("programmes.drop_out"), [
      field(`dropout-${id}`, { name: "reason", label: t("programmes.reason"), type: "select",
        options: [["", t("household.choose")], ...REASONS.map((r) => [r, value(r)])] }),
    ], (v) => call("drop_out_participant", { ...v, participation_id: id }), () => t("programmes.dropped", { id: p.resident_id }));
  }
  return forms;
}

/** A phase with its participants and their next steps. */
export async function phasePage(main, params, programmeId, number) {
  const got = await call("get_phase_participants", { programme_id: programmeId, phase: Number(number) });
  const title = t("chart.phase", { programme: got.name, phase: got.phase.phase });
  const ph = got.phase;
  main.append(h("p", {}, h("a", { href: "#/programmes" }, `← ${t("programmes.title")}`)),
    h("h1", {}, title), said(),
    h("section", { class: "card", "aria-labelledby": "phase-h" }, h("h2", { id: "phase-h" }, t("programmes.phase")),
      h("dl", { class: "kv" }, ...[["programmes.state", value(ph.phase_status)], ["programmes.dates", `${ph.starts} – ${ph.ends}`],
        ["programmes.seats", `${num(ph.taken)} / ${num(ph.capacity)}`], ["programmes.waitlist", num(ph.waitlisted)]]
        .flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]))),
    h("section", { class: "card work", "aria-labelledby": "participants-h", "data-participants": got.total },
      h("h2", { id: "participants-h" }, t("programmes.participants")),
      got.items.length ? h("table", {},
        h("thead", {}, h("tr", {}, ...["programmes.participant", "programmes.state", "programmes.next"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...got.items.map((p) => h("tr", { "data-participation": p.participation_id, "data-state": p.state },
          h("th", { scope: "row" }, mayUse("city_admin", "social_worker")
            ? h("a", { href: `#/residents/${encodeURIComponent(p.resident_id)}` }, p.resident_id) : p.resident_id),
          h("td", {}, value(p.state) + (p.position ? ` (${p.position})` : "") + (p.reason ? `: ${value(p.reason)}` : "")),
          h("td", {}, ...actions(p))))))
        : h("p", { class: "empty" }, t("programmes.nobody"))));
  return title;
}
