// A resident's courses on her page: enrol in a running or planned course (a seat, or the
// waitlist), withdraw (education's enrol and withdraw, through the gateway's named routes).
import { Unauthorised, api, mayUse } from "./api.js";
import { h } from "./dom.js";
import { field, submitting } from "./forms.js";
import { t, value } from "./i18n.js";

const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let saved = null;

function saidOf(reply) {
  return reply.state === "waitlisted" ? t("courses.waitlisted", { position: reply.position })
    : reply.state === "withdrawn" ? t("courses.withdrawn") : t("courses.confirmed");
}

function enrolmentRow(e) {
  const active = ["confirmed", "waitlisted"].includes(e.status);
  return h("tr", { "data-enrolment": e.enrolment_id, "data-state": e.status },
    h("th", { scope: "row" }, e.title), h("td", {}, value(e.status)),
    h("td", {}, e.waitlist_position ? String(e.waitlist_position) : "–"),
    h("td", {}, active ? withdrawal(e) : null));
}

function withdrawal(e) {
  const id = `withdraw-${e.enrolment_id}`;
  const form = h("form", { class: "inline", novalidate: true, "aria-label": t("courses.withdraw_from", { title: e.title }),
    onsubmit: async (ev) => {
      ev.preventDefault();
      const reason = form.elements.reason.value.trim();
      const reply = await submitting(form, () => api(
        `/api/v1/education/enrolments/${encodeURIComponent(e.enrolment_id)}/withdrawal`,
        { method: "POST", body: reason ? { reason } : {} }));
      if (reply) {
        saved = saidOf(reply);
        reroute();
      }
    } },
  field(id, { name: "reason", label: t("courses.reason") }),
  h("button", { type: "submit", class: "secondary" }, t("courses.withdraw")));
  return form;
}

/** The courses card for staff on a resident's page, from education's section. */
export async function courses(residentId, education) {
  // Only where education answered for her (a stopped service is named in the page's warning).
  if (!education || !mayUse("city_admin", "social_worker")) return null;
  const said = saved;
  saved = null;
  const list = await api("/api/v1/commands/education/list_courses", { method: "POST", body: { limit: 200 } })
    .catch((e) => { if (e instanceof Unauthorised) throw e; return { items: [] }; }); // education not running: enrolling waits, the rest of the page does not
  const open = list.items.filter((c) => c.state !== "finished");
  const mine = education?.enrolments || [];
  const form = h("form", { class: "stack", novalidate: true, "data-form": "enrol", "aria-labelledby": "enrol-h",
    onsubmit: async (e) => {
      e.preventDefault();
      const course = form.elements.course_id.value;
      const reply = await submitting(form, () => api("/api/v1/education/enrolments",
        { method: "POST", body: { ...(course ? { course_id: course } : {}), resident_id: residentId } }));
      if (reply) {
        saved = saidOf(reply);
        reroute();
      }
    } },
  h("h3", { id: "enrol-h" }, t("courses.enrol")),
  field("enrol", { name: "course_id", label: t("courses.course"), type: "select",
    options: [["", t("household.choose")], ...open.map((c) => [c.course_id, `${c.title} (${value(c.kind)}, ${c.starts})`])] }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("courses.enrol_submit"))));
  return h("section", { class: "card work", "aria-labelledby": "courses-h", "data-courses": residentId },
    h("h2", { id: "courses-h" }, t("courses.title")),
    said ? h("p", { class: "notice", role: "status" }, said) : null,
    mine.length ? h("table", {},
      h("thead", {}, h("tr", {}, ...["courses.course", "courses.state", "courses.position", "users.actions"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...mine.map(enrolmentRow))) : h("p", { class: "empty" }, t("courses.none")),
    form);
}
