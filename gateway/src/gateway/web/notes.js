// An operator's own case notes about a resident (counselling's list_case_notes, an
// audited read). Only the operator whose counsellors wrote them reads them: the city,
// social workers and other operators are refused, and the refusal is shown at the field.
import { api } from "./api.js";
import { h } from "./dom.js";
import { commandForm, field } from "./forms.js";
import { t, value } from "./i18n.js";
import { pager } from "./residents.js";

const LIMIT = 25;
const call = (body) => api("/api/v1/commands/counselling/list_case_notes", { method: "POST", body });

function notesTable(page) {
  if (!page.items.length) return h("p", { class: "empty" }, t("notes.none"));
  return h("table", { "data-notes": page.total }, h("caption", { class: "visually-hidden" }, t("notes.caption")),
    h("thead", {}, h("tr", {}, ...["notes.written_on", "notes.category", "notes.text"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, ...page.items.map((n) => h("tr", { "data-note": n.note_id },
      h("td", {}, n.written_on), h("td", {}, n.category ? value(n.category) : "–"), h("td", { class: "note" }, n.text)))));
}

/** The form to look a resident up, and their notes once asked for. */
export async function caseNotes(main, params) {
  const resident = params.get("resident");
  const offset = Number(params.get("offset") || 0);
  const page = resident ? await call({ resident_id: resident, offset, limit: LIMIT }) : null;
  const title = t("notes.title");
  main.append(h("h1", {}, title), h("p", { class: "hint" }, t("notes.intro")),
    commandForm({ id: "notes", title: t("notes.find"), submit: t("notes.show"), required: ["resident_id"],
      fields: [field("notes", { name: "resident_id", label: t("notes.resident"), value: resident || "", hint: t("notes.resident_hint") })],
      send: (v) => call({ ...v, limit: 1 }).then(() => v),
      done: (v) => { location.hash = `#/notes?${new URLSearchParams({ resident: v.resident_id })}`; } }),
    page ? h("section", { class: "card", "aria-labelledby": "notes-h" },
      h("h2", { id: "notes-h" }, t("notes.about", { id: resident })), h("p", {}, t("list.total", { n: page.total })),
      notesTable(page),
      pager(page, (o) => `#/notes?${new URLSearchParams({ resident, offset: o })}`)) : null);
  return title;
}
