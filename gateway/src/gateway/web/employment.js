// A resident's employment work on her page: register her for a programme's phase, record
// a coaching session (employment's register_participant and record_coaching). The
// programmes come from employment's section of the city figures; without employment
// running there is no card.
import { api, mayUse, optional } from "./api.js";
import { h } from "./dom.js";
import { commandForm, field } from "./forms.js";
import { t, value } from "./i18n.js";

const TOPICS = ["recognition_of_qualifications", "applications", "vocational_training", "internships"];
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const today = () => new Date().toISOString().slice(0, 10);
let saved = null;

function form(id, title, fields, submit, send, required = []) {
  return commandForm({ id, title, fields, submit, send, required, done: (reply) => {
    saved = t(`employment.saved.${id}`, { status: value(reply.state || "") });
    reroute();
  } });
}

export async function employment(residentId, section) {
  if (!mayUse("city_admin", "social_worker")) return null;
  const stats = await optional("/api/v1/stats");
  const programmes = stats?.sections?.employment?.programmes;
  if (!programmes) return null;
  const said = saved;
  saved = null;
  const phases = programmes.flatMap((p) => p.phases.filter((ph) => ph.status !== "closed")
    .map((ph) => [`${p.programme_id}|${ph.phase}`, t("chart.phase", { programme: p.name, phase: ph.phase })]));
  const mine = section?.participations || [];
  const names = Object.fromEntries(programmes.map((p) => [p.programme_id, p.name]));
  return h("section", { class: "card work", "aria-labelledby": "employment-h", "data-employment": residentId },
    h("h2", { id: "employment-h" }, t("employment.title")),
    said ? h("p", { class: "notice", role: "status" }, said) : null,
    mine.length ? h("ul", {}, ...mine.map((p) => h("li", { "data-participation": p.participation_id, "data-state": p.state },
      t("chart.phase", { programme: names[p.programme_id] || p.programme_id, phase: p.phase }), ": ", value(p.state)))) : null,
    h("p", {}, t("employment.coached", { n: (section?.coaching || []).length })),
    form("participant", t("employment.register"), [
      field("participant", { name: "phase", label: t("employment.phase"), type: "select",
        options: [["", t("household.choose")], ...phases] }),
    ], t("employment.register_submit"), ({ phase }) => {
      const [programmeId, number] = (phase || "|").split("|");
      return api("/api/v1/employment/participants", { method: "POST",
        body: { programme_id: programmeId, phase: Number(number), resident_id: residentId } });
    }, ["phase"]),
    form("coaching", t("employment.coaching"), [
      field("coaching", { name: "topic", label: t("employment.topic"), type: "select",
        options: [["", t("household.choose")], ...TOPICS.map((x) => [x, value(x)])] }),
      field("coaching", { name: "on", label: t("employment.on"), type: "date", value: today() }),
      field("coaching", { name: "summary", label: t("employment.summary"), hint: t("employment.summary_hint") }),
    ], t("employment.coaching_submit"),
    (body) => api("/api/v1/employment/coaching", { method: "POST", body: { ...body, resident_id: residentId } })));
}
