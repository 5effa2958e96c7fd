// Erasures awaiting a second city administrator (four eyes, docs/privacy.md): each request
// (a resident, a volunteer or a staff member) with its category and details, approved or
// rejected here (GET /api/v1/erasures/pending, POST /api/v1/people/{id}/erasure/approve|reject). The requester's own approval is
// refused by the ledger; the refusal is shown next to the request.
import { api, mayUse, me } from "./api.js";
import { fill, h } from "./dom.js";
import { erasureControl } from "./erasure.js";
import { reason as why } from "./forms.js";
import { t, when } from "./i18n.js";

const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let done = null; // what the last decision did, said once after re-rendering

function decide(e, p, step) {
  const row = e.target.closest("tr");
  const error = row.querySelector("[role=alert]");
  for (const b of row.querySelectorAll("button")) b.disabled = true;
  error.hidden = true;
  api(`/api/v1/people/${encodeURIComponent(p.resident_id)}/erasure/${step}`, { method: "POST" })
    .then(() => {
      done = t(step === "approve" ? "erasures.approved" : "erasures.rejected", { id: p.resident_id });
      reroute();
    })
    .catch((err) => {
      error.textContent = t("erasures.failed", { reason: why(err) });
      error.hidden = false;
      for (const b of row.querySelectorAll("button")) b.disabled = false;
    });
}

function actions(p) {
  if (!mayUse("city_admin")) return null;
  const mine = p.requested_by === me()?.username;
  const button = (step, cls) => h("button", { type: "button", class: cls,
    "aria-label": `${t(`erasures.${step}`)}: ${p.resident_id}`,
    onclick: (e) => decide(e, p, step) }, t(`erasures.${step}`));
  return [button("approve", "danger"), " ", button("reject", "secondary"),
    mine ? h("p", { class: "hint" }, t("erasures.yours")) : null,
    h("p", { class: "error", role: "alert", hidden: true })];
}

function row(p) {
  return h("tr", { "data-pending-erasure": p.resident_id },
    h("th", { scope: "row" }, p.person === "resident"
      ? h("a", { href: `#/residents/${encodeURIComponent(p.resident_id)}` }, p.resident_id) : p.resident_id),
    h("td", {}, t(`erasure_person.${p.person}`)),
    h("td", {}, t(`erasure_category.${p.category}`)),
    h("td", {}, p.reason || h("span", { class: "empty" }, t("none"))),
    h("td", {}, p.requested_by),
    h("td", {}, h("time", { datetime: p.requested_at }, when(p.requested_at))),
    mayUse("city_admin") ? h("td", {}, actions(p)) : null);
}

export async function erasureList(main) {
  const { pending } = await api("/api/v1/erasures/pending");
  const cols = ["resident", "person", "category", "reason", "requested_by", "requested_at",
    ...(mayUse("city_admin") ? ["actions"] : [])];
  const said = done;
  done = null;
  fill(main,
    h("h1", {}, t("erasures.title")),
    said ? h("p", { class: "notice", role: "status" }, said) : null,
    h("p", { class: "hint" }, t("erasures.hint")),
    h("div", { class: "card" }, pending.length ? h("table", {},
      h("caption", { class: "visually-hidden" }, t("erasures.title")),
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, t(`erasures.${c}`))))),
      h("tbody", {}, ...pending.map(row)))
      : h("p", { class: "empty", "data-no-pending": "" }, t("erasures.none"))));
  return t("erasures.title");
}

/** The erasure of a volunteer or a staff member (kind "volunteers" or "staff"): the request
 * form on a page of its own, reached from the volunteers' and the users' lists. */
export async function personErasure(main, kind, id) {
  const title = t(`erase.title_${kind}`, { id });
  fill(main,
    h("p", {}, h("a", { href: kind === "staff" ? "#/users" : "#/volunteers" }, `← ${t(kind === "staff" ? "users.title" : "tandems.volunteers")}`)),
    h("h1", { tabindex: "-1" }, title),
    h("p", { class: "hint" }, t(`erase.what_${kind}`)),
    erasureControl(id, id, kind));
  return title;
}
