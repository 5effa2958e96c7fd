// A course's class register (one form per session day, every confirmed participant) and
// its roster with the completion of each participant (education's record_attendance and
// complete_enrolment). Participants are shown by their pseudonymous id: education holds
// no names, and a provider sees no more than it needs.
import { api, mayUse } from "./api.js";
import { h } from "./dom.js";
import { checkbox, field, submitting } from "./forms.js";
import { num, t, value } from "./i18n.js";

const call = (name, body) => api(`/api/v1/commands/education/${name}`, { method: "POST", body });
const percent = (r) => (r === null || r === undefined ? "–" : num(r, { style: "percent" }));

function who(e) {
  return mayUse("city_admin", "social_worker")
    ? h("a", { href: `#/residents/${encodeURIComponent(e.resident_id)}` }, e.resident_id) : e.resident_id;
}

function dayLabel(d) {
  return `${new Intl.DateTimeFormat(document.documentElement.lang, { weekday: "short", timeZone: "UTC" }).format(new Date(d.on))} ${d.on} (${t("register.marked", { recorded: d.recorded, expected: d.expected })})`;
}

/** The class register of a course for one session day; `done(text)` once it is saved. */
export function classRegister(roster, done) {
  const seated = roster.entries.filter((e) => e.state === "confirmed");
  const days = roster.sessions_due;
  const next = days.find((d) => d.recorded < d.expected) ?? days[days.length - 1];
  const section = (...body) => h("section", { class: "card work", "aria-labelledby": "register-h", "data-register": roster.course.course_id },
    h("h2", { id: "register-h" }, t("register.title")), ...body);
  if (!seated.length) return section(h("p", { class: "empty" }, t("register.nobody")));
  const day = days.length
    ? field("register", { name: "session_on", label: t("register.day"), type: "select", value: next.on,
      options: [...days].reverse().map((d) => [d.on, dayLabel(d)]) })
    : field("register", { name: "session_on", label: t("register.day"), type: "date", hint: t("register.no_sessions") });
  const marks = (on) => seated.map((e) => checkbox("register", { name: `present-${e.enrolment_id}`,
    label: t("register.present", { id: e.resident_id }), checked: e.attendance[on] ?? true }));
  const box = h("fieldset", {}, h("legend", {}, t("register.who")), ...marks(next?.on));
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "register-h", "data-form": "register",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const on = form.elements.session_on.value;
      let present = 0;
      const ok = await submitting(form, async () => {
        for (const e of seated) { // each mark is its own command: saving again is harmless
          const here = form.elements[`present-${e.enrolment_id}`].checked;
          await call("record_attendance", { enrolment_id: e.enrolment_id, ...(on ? { session_on: on } : {}), present: here });
          present += here ? 1 : 0;
        }
        return true;
      });
      if (ok) done(t("register.saved", { day: on, present, n: seated.length }));
    } },
  day, box, h("div", { class: "actions" }, h("button", { type: "submit" }, t("register.submit"))));
  // Another day: show what is recorded for it (unmarked participants default to present).
  form.elements.session_on.addEventListener("change", () => box.replaceChildren(h("legend", {}, t("register.who")), ...marks(form.elements.session_on.value)));
  return section(h("p", { class: "hint" }, t("register.hint")), form);
}

function completion(e, course, done) {
  const id = `complete-${e.enrolment_id}`;
  const form = h("form", { class: "inline", novalidate: true, "data-form": id, "aria-label": t("roster.complete_for", { id: e.resident_id }),
    onsubmit: async (ev) => {
      ev.preventDefault();
      const passed = form.elements.passed.value;
      const level = form.elements.certificate_level?.value;
      const reply = await submitting(form, () => call("complete_enrolment", { enrolment_id: e.enrolment_id,
        ...(passed ? { passed: passed === "yes" } : {}), ...(level ? { certificate_level: level } : {}) }));
      if (reply) done(t("roster.completed", { id: e.resident_id, result: t(reply.passed ? "roster.passed" : "roster.not_passed") }));
    } },
  field(id, { name: "passed", label: t("roster.result"), type: "select",
    options: [["", t("household.choose")], ["yes", t("roster.passed")], ["no", t("roster.not_passed")]] }),
  course.kind === "integration_course" ? field(id, { name: "certificate_level", label: t("roster.level"), type: "select",
    options: [["", "–"], ...["A1", "A2", "B1"].map((l) => [l, l])] }) : null,
  h("button", { type: "submit", class: "secondary" }, t("roster.complete")));
  return form;
}

function result(e) {
  if (e.state !== "completed") return "–";
  return t(e.passed ? "roster.passed" : "roster.not_passed") + (e.certificate_level ? ` (${e.certificate_level})` : "");
}

/** Who is enrolled, waiting or done, with attendance and the completion of each. */
export function rosterCard(roster, done) {
  const teach = mayUse("city_admin", "provider");
  const rows = roster.entries.map((e) => h("tr", { "data-enrolment": e.enrolment_id, "data-state": e.state },
    h("th", { scope: "row" }, who(e)),
    h("td", {}, value(e.state) + (e.position ? ` (${e.position})` : "")),
    h("td", {}, percent(e.attendance_rate)), h("td", {}, String(Object.keys(e.attendance).length)),
    h("td", {}, result(e)),
    h("td", {}, teach && e.state === "confirmed" ? completion(e, roster.course, done) : null)));
  return h("section", { class: "card", "aria-labelledby": "roster-h", "data-roster": roster.entries.length },
    h("h2", { id: "roster-h" }, t("roster.title")),
    rows.length ? h("table", {},
      h("thead", {}, h("tr", {}, ...["roster.participant", "roster.state", "roster.rate", "roster.marks", "roster.result", "roster.complete"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...rows)) : h("p", { class: "empty" }, t("roster.none")));
}
