// Kita and school places: on a child's page, request one, record the place offered and
// conclude (placed, or declined with a reason); the worklist of requests waiting for a
// place, the longest waiting first (education's request_access, offer_access_place,
// conclude_access and list_access_requests).
import { api, mayUse } from "./api.js";
import { h } from "./dom.js";
import { commandForm, field } from "./forms.js";
import { num, t, value } from "./i18n.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields, visibleSites } from "./scope.js";

const LIMIT = 25;
const KINDS = ["kita", "school"];
const call = (name, body) => api(`/api/v1/commands/education/${name}`, { method: "POST", body });
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const days = (iso) => (iso ? Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 86400000)) : null);
const waited = (r) => (days(r.opened_at) === null ? "–" : t("kita.days", { n: num(days(r.opened_at)) }));
let saved = null;

function step(id, title, fields, submit, send, required) {
  return commandForm({ id, title, fields, submit, send, required,
    done: (reply) => { saved = t("kita.saved", { kind: value(reply.kind), state: value(reply.state) }); reroute(); } });
}

function nextStep(r) {
  const id = r.request_id;
  if (r.status === "open") {
    return step(`offer-${id}`, t("kita.offer", { kind: value(r.kind) }), [
      field(`offer-${id}`, { name: "institution", label: t("kita.institution") }),
      field(`offer-${id}`, { name: "starts", label: t("kita.starts"), type: "date" }),
    ], t("kita.offer_submit"), (v) => call("offer_access_place", { ...v, request_id: id }), ["institution", "starts"]);
  }
  if (r.status === "offered") {
    return step(`conclude-${id}`, t("kita.conclude", { institution: r.institution }), [
      field(`conclude-${id}`, { name: "outcome", label: t("kita.outcome"), type: "select",
        options: [["", t("household.choose")], ["placed", value("placed")], ["declined", value("declined")]] }),
      field(`conclude-${id}`, { name: "reason", label: t("kita.reason"), hint: t("kita.reason_hint") }),
    ], t("kita.conclude_submit"), (v) => call("conclude_access", { ...v, request_id: id }), ["outcome"]);
  }
  return null;
}

/** The Kita and school card on a resident's page, from education's section. */
export function kitaCard(residentId, education) {
  if (!education || !mayUse("city_admin", "social_worker")) return null;
  const said = saved;
  saved = null;
  const requests = [...(education.access_requests || []), ...(education.children_access || [])];
  return h("section", { class: "card work", "aria-labelledby": "kita-h", "data-kita": residentId },
    h("h2", { id: "kita-h" }, t("kita.title")),
    said ? h("p", { class: "notice", role: "status" }, said) : null,
    requests.length ? h("ul", {}, ...requests.map((r) => h("li", { "data-request": r.request_id, "data-state": r.status },
      `${value(r.kind)} (${r.district}): ${value(r.status)}`, r.institution ? ` – ${r.institution}, ${r.starts}` : "")))
      : h("p", { class: "empty" }, t("kita.none")),
    ...requests.map(nextStep),
    step("kita", t("kita.request"), [
      field("kita", { name: "kind", label: t("kita.kind"), type: "select", options: [["", t("household.choose")], ...KINDS.map((k) => [k, value(k)])] }),
      field("kita", { name: "district", label: t("kita.district"), hint: t("kita.district_hint") }),
    ], t("kita.request_submit"), (v) => call("request_access", { ...v, resident_id: residentId }), ["kind", "district"]));
}

/** The worklist: requests waiting for a place. */
export async function kitaList(main, params) {
  const kind = params.get("kind") || "";
  const offset = Number(params.get("offset") || 0);
  const [page, sites] = await Promise.all([call("list_access_requests",
    { offset, limit: LIMIT, ...(kind ? { kind } : {}), ...scopeBody(params) }), visibleSites()]);
  const form = h("form", { class: "inline", role: "search", "aria-label": t("kita.filter"),
    onsubmit: (e) => { e.preventDefault(); const q = queryOf(form, ["kind", "site", "district"]); location.hash = `#/kita${q.size ? `?${q}` : ""}`; } },
  field("kitalist", { name: "kind", label: t("kita.kind"), type: "select", value: kind,
    options: [["", t("kita.any")], ...KINDS.map((k) => [k, value(k)])] }),
  ...scopeFields("kitalist", params, sites),
  h("button", { type: "submit" }, t("kita.show")));
  const title = t("kita.list");
  main.append(h("h1", {}, title), form, h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", { "data-requests": page.total },
      h("thead", {}, h("tr", {}, ...["kita.child", "kita.kind", "kita.district", "kita.state", "kita.waiting", "kita.institution"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map((r) => h("tr", { "data-request": r.request_id, "data-state": r.state },
        h("th", { scope: "row" }, h("a", { href: `#/residents/${encodeURIComponent(r.resident_id)}` }, r.resident_id)),
        h("td", {}, value(r.kind)), h("td", {}, r.district), h("td", {}, value(r.state)), h("td", {}, waited(r)),
        h("td", {}, r.institution ? `${r.institution}, ${r.starts}` : "–")))))
      : h("p", { class: "empty" }, t("kita.nothing_waiting"))),
    pager(page, (o) => { const q = new URLSearchParams(params); q.set("offset", o); return `#/kita?${q}`; }));
  return title;
}
