// A resident's erasure (docs/privacy.md): the request a city administrator makes on the
// resident's page (a category and optional details), which another city administrator
// approves on the erasures page (erasures.js), and its status as the services confirm
// (POST/GET …/erasure).
import { Unauthorised, api, mayUse, optional } from "./api.js";
import { fill, h } from "./dom.js";
import { field, num, service, t, when } from "./i18n.js";

export const CATEGORIES = ["subject_request", "retention", "unlawful_processing", "consent_withdrawn", "other"];

// kind: "residents", "volunteers" or "staff" (the request); the status of any is under "people"
const path = (id, kind = "residents") => `/api/v1/${kind}/${encodeURIComponent(id)}/erasure`;
const none = () => h("span", { class: "empty" }, t("none"));
const time = (iso) => (iso ? h("time", { datetime: iso }, when(iso)) : none());

// The router renders the current hash again on this event: a fresh status, or the login.
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

function counts(obj) {
  const entries = Object.entries(obj || {}).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([k, n]) => `${field(k)}: ${num(n)}`).join(", ") : none();
}

function table(head, rows) {
  if (!rows.length) return h("p", { class: "empty" }, t("none"));
  return h("table", {},
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...rows));
}

function confirmations(list) {
  return table(
    [t("erasure.service"), t("erasure.removed"), t("erasure.anonymised"), t("erasure.confirmed_at")],
    list.map((c) => h("tr", { "data-confirmation": c.service },
      h("th", { scope: "row" }, service(c.service)), h("td", {}, counts(c.removed)),
      h("td", {}, counts(c.anonymised)), h("td", {}, time(c.confirmed_at)))));
}

function purges(list) {
  return table([t("erasure.stream"), t("erasure.messages"), t("erasure.at")],
    list.map((p) => h("tr", {}, h("td", {}, p.stream), h("td", {}, num(p.messages)), h("td", {}, time(p.at)))));
}

function pending(s) {
  if (s.complete) return null;
  // Until the ledger's worker has listed the request's consumers, nobody is known to be pending.
  const known = s.expected.length > 0;
  return [
    h("h3", {}, t("erasure.pending")),
    h("p", { "data-pending": s.pending.join(" ") },
      known ? (s.pending.length ? s.pending.map(service).join(", ") : none()) : t("erasure.expected_unknown")),
    known && s.pending.length ? h("p", { class: "hint" }, t("erasure.pending_hint")) : null,
  ];
}

function state(s) {
  return s.complete ? t("erasure.complete", { at: when(s.completed_at) }) : t("erasure.running");
}

/** The erasure's status as a card: who asked and why, each confirmation, what is pending, the purges. */
export function statusCard(s) {
  const facts = [
    [t("erasure.state"), s.state === "awaiting_approval" ? t("erasure.awaiting_approval") : state(s)],
    [t("erasure.category"), t(`erasure_category.${s.category}`)],
    ...(s.reason ? [[t("erasure.reason"), s.reason]] : []),
    [t("erasure.requested_by"), s.requested_by], [t("erasure.requested_at"), time(s.requested_at)],
    ...(s.approved_by ? [[t("erasure.approved_by"), s.approved_by]] : [])];
  return h("section", { class: "card", "aria-labelledby": "erasure-h", "data-erasure": s.erasure_id,
    "data-expected": s.expected.join(" "), "data-complete": String(s.complete) },
  h("h2", { id: "erasure-h" }, t("erasure.title")),
  h("dl", { class: "kv" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
  h("h3", {}, t("erasure.confirmations")), confirmations(s.confirmations),
  pending(s),
  h("h3", {}, t("erasure.purges")), purges(s.purges),
  s.complete ? null : h("p", {}, h("button", { type: "button", class: "secondary", onclick: reroute },
    t("erasure.refresh"))));
}

function erasedView(id, status) {
  return [
    h("p", {}, h("a", { href: "#/residents" }, `← ${t("residents.title")}`)),
    h("h1", { tabindex: "-1" }, t("erased.title")),
    h("p", { class: "notice", "data-erased": id }, t("erased.text", { id })),
    status ? statusCard(status) : null,
  ];
}

/** The page of a resident the API answers 410 for: erased, with the status for those who may see it. */
export async function erasedPage(main, id) {
  const status = mayUse("city_admin", "auditor") ? await optional(path(id)) : null;
  fill(main, ...erasedView(id, status));
  return t("erased.title");
}

function reasonFields() {
  return [
    h("div", {}, h("label", { for: "erase-category" }, t("erase.category")),
      h("select", { id: "erase-category", name: "category", required: true },
        h("option", { value: "" }, t("erase.choose")),
        ...CATEGORIES.map((c) => h("option", { value: c }, t(`erasure_category.${c}`))))),
    h("div", {}, h("label", { for: "erase-reason" }, t("erase.reason")),
      h("textarea", { id: "erase-reason", name: "reason", minlength: 3, maxlength: 500,
        "aria-describedby": "erase-reason-hint" })),
    h("p", { id: "erase-reason-hint", class: "hint" }, t("erase.reason_hint")),
  ];
}

async function request(id, kind, form, error) {
  const submit = form.querySelector("[type=submit]");
  submit.disabled = true;
  error.hidden = true;
  try {
    const reason = form.elements.reason.value.trim();
    const body = { category: form.elements.category.value, ...(reason ? { reason } : {}) };
    const status = await api(path(id, kind), { method: "POST", body });
    if (status.state === "awaiting_approval" || kind !== "residents") {
      // four eyes: nothing is erased yet (a volunteer's or staff member's page has no "erased" view)
      const card = form.closest("section");
      fill(card, h("h2", { id: "erase-h" }, t("erase.title")),
        h("p", { class: "notice", role: "status", "data-awaiting": id },
          t(status.state === "awaiting_approval" ? "erase.requested" : "erase.under_way")),
        h("p", {}, h("a", { href: "#/erasures" }, t("erasures.title"))));
      return;
    }
    const main = form.closest("main");
    fill(main, ...erasedView(id, status));
    document.title = `${t("erased.title")} – ${t("brand")}`;
    main.querySelector("h1").focus();
  } catch (e) {
    if (e instanceof Unauthorised) return reroute();
    error.textContent = t("erase.failed", { reason: e.message });
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

/** "Erase this person's data": a button that opens the form (category, details, confirmation). */
export function erasureControl(id, name, kind = "residents") {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { id: "erase-form", class: "stack", hidden: true, onsubmit: (e) => {
    e.preventDefault();
    request(id, kind, form, error);
  } },
  ...reasonFields(),
  h("div", { class: "check" },
    h("input", { type: "checkbox", id: "erase-confirm", name: "confirm", required: true }),
    h("label", { for: "erase-confirm" }, t("erase.confirm", { name }))),
  error,
  h("div", { class: "actions" },
    h("button", { type: "submit", class: "danger" }, t("erase.submit")),
    h("button", { type: "button", class: "secondary", onclick: () => toggle(false) }, t("erase.cancel"))));
  const open = h("button", { type: "button", class: "danger", "aria-expanded": "false",
    "aria-controls": "erase-form", onclick: () => toggle(form.hidden) },
  t(kind === "residents" ? "erase.open" : "erase.open_person"));
  function toggle(show) {
    form.hidden = !show;
    open.setAttribute("aria-expanded", String(show));
    if (show) form.elements.category.focus();
    else open.focus();
  }
  return h("section", { class: "card", "aria-labelledby": "erase-h", "data-erase": id },
    h("h2", { id: "erase-h" }, t("erase.title")), h("p", {}, open), form);
}
