// Referrals from the operators' counselling: the worklist of those waiting for an answer
// (the city team's by default; a social worker's sites), and a referral's page with its
// trail and, for the city team's own topics, the answer (counselling's list_referrals,
// get_referral and answer_city_referral). The operator hears each answer on its feedback.
import { api, mayUse, me } from "./api.js";
import { h } from "./dom.js";
import { commandForm, field } from "./forms.js";
import { num, service, t, value, when } from "./i18n.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields, visibleSites } from "./scope.js";

const LIMIT = 25;
const STATES = ["requested", "accepted", "rejected", "completed"];
const NEXT = { requested: ["accepted", "rejected", "completed"], accepted: ["completed"] };
const CITY_TEAM = "city_team";
const call = (name, body) => api(`/api/v1/commands/counselling/${name}`, { method: "POST", body });
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const waiting = (on) => Math.max(0, Math.floor((Date.now() - Date.parse(on)) / 86400000));
let saved = null;

function filters(params, sites) {
  const form = h("form", { class: "inline", role: "search", "aria-label": t("referrals.filter"),
    onsubmit: (e) => {
      e.preventDefault();
      const q = queryOf(form, ["site", "district"]);
      for (const name of ["owner", "state"]) q.set(name, form.elements[name].value);
      location.hash = `#/referrals?${q}`;
    } },
  ...scopeFields("referrals", params, sites),
  field("referrals", { name: "owner", label: t("referrals.owner"), type: "select", value: params.get("owner") ?? CITY_TEAM,
    options: [[CITY_TEAM, t("referrals.city_team")], ["", t("referrals.any_owner")]] }),
  field("referrals", { name: "state", label: t("referrals.state"), type: "select", value: params.get("state") || "",
    options: [["", t("referrals.waiting")], ...STATES.map((s) => [s, value(s)])] }),
  h("button", { type: "submit" }, t("referrals.show")));
  return form;
}

function row(r) {
  return h("tr", { "data-referral": r.referral_id, "data-state": r.state },
    h("th", { scope: "row" }, h("a", { href: `#/referrals/${encodeURIComponent(r.referral_id)}` }, value(r.topic))),
    h("td", {}, h("a", { href: `#/residents/${encodeURIComponent(r.resident_id)}` }, r.resident_id)),
    h("td", {}, r.operator_id), h("td", {}, r.owner === CITY_TEAM ? t("referrals.city_team") : service(r.owner)),
    h("td", {}, value(r.state)),
    h("td", {}, `${r.requested_on} (${t("referrals.days", { n: num(waiting(r.requested_on)) })})`,
      r.overdue ? h("strong", { class: "error" }, ` ${t("referrals.overdue")}`) : null));
}

/** The referrals waiting for an answer. */
export async function referralList(main, params) {
  const owner = params.get("owner") ?? CITY_TEAM;
  const offset = Number(params.get("offset") || 0);
  const [page, sites] = await Promise.all([call("list_referrals", { offset, limit: LIMIT, ...(owner ? { owner } : {}),
    ...(params.get("state") ? { state: params.get("state") } : {}), ...scopeBody(params) }), visibleSites()]);
  const title = t("referrals.title");
  main.append(h("h1", {}, title), said(), filters(params, sites), h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", { "data-referrals": page.total },
      h("thead", {}, h("tr", {}, ...["referrals.topic", "referrals.resident", "referrals.operator", "referrals.owner",
        "referrals.state", "referrals.requested"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map(row))) : h("p", { class: "empty" }, t("referrals.none"))),
    pager(page, (o) => { const q = new URLSearchParams(params); q.set("offset", o); return `#/referrals?${q}`; }));
  return title;
}

function said() {
  const text = saved;
  saved = null;
  return text ? h("p", { class: "notice", role: "status" }, text) : null;
}

function answerForm(r) {
  return commandForm({ id: "answer", title: t("referrals.answer"), submit: t("referrals.answer_submit"), required: ["answer"],
    names: { state: "answer", owner: "answer" },
    fields: [
      field("answer", { name: "answer", label: t("referrals.answer_is"), type: "select",
        options: [["", t("household.choose")], ...NEXT[r.state].map((s) => [s, value(s)])] }),
      field("answer", { name: "reason", label: t("referrals.reason"), hint: t("referrals.reason_hint"), maxlength: 600 }),
      field("answer", { name: "reference", label: t("referrals.reference"), hint: t("referrals.reference_hint") }),
      field("answer", { name: "outcome", label: t("referrals.outcome"), hint: t("referrals.outcome_hint") }),
    ],
    send: (v) => call("answer_city_referral", { ...v, referral_id: r.referral_id }),
    done: (reply) => { saved = t("referrals.answered", { state: value(reply.state) }); reroute(); } });
}

/** A referral with its trail, and the city team's answer while it waits. */
export async function referralPage(main, params, id) {
  const got = await call("get_referral", { referral_id: id });
  const r = got.referral;
  const title = t("referrals.one", { topic: value(r.topic) });
  const facts = [["referrals.resident", h("a", { href: `#/residents/${encodeURIComponent(r.resident_id)}` }, r.resident_id)],
    ["referrals.operator", r.operator_id], ["referrals.site", r.site_id],
    ["referrals.owner", r.owner === CITY_TEAM ? t("referrals.city_team") : service(r.owner)],
    ["referrals.state", value(r.state)], ["referrals.requested", `${r.requested_on} (${t("referrals.days", { n: num(waiting(r.requested_on)) })})`],
    ["referrals.reason", got.reason], ["referrals.reference", got.reference], ["referrals.outcome", got.outcome]];
  const answerable = r.owner === CITY_TEAM && NEXT[r.state] && mayUse("city_admin", "social_worker") && me();
  main.append(h("p", {}, h("a", { href: "#/referrals" }, `← ${t("nav.referrals")}`)),
    h("h1", {}, title), said(),
    h("section", { class: "card", "aria-labelledby": "ref-h", "data-referral-state": r.state },
      h("h2", { id: "ref-h" }, t("referrals.facts")),
      h("dl", { class: "kv" }, ...facts.flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v ?? "–")]))),
    h("section", { class: "card", "aria-labelledby": "trail-h", "data-trail": got.trail.length },
      h("h2", { id: "trail-h" }, t("referrals.trail")),
      got.trail.length ? h("table", {},
        h("thead", {}, h("tr", {}, ...["referrals.when", "referrals.state", "referrals.by", "referrals.said"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...got.trail.map((s) => h("tr", {}, h("td", {}, s.at ? when(s.at) : "–"), h("td", {}, value(s.state)),
          h("td", {}, s.by === CITY_TEAM ? t("referrals.city_team") : s.by),
          h("td", {}, [s.reason, s.reference, s.outcome].filter(Boolean).join(" · ") || "–")))))
        : h("p", { class: "empty" }, t("referrals.no_trail"))),
    answerable ? answerForm(r) : null);
  return title;
}
