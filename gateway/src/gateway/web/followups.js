// Due follow-ups: what a social worker must do next, the most overdue first. Move-out
// cases with a viewing's outcome to record, an available flat nobody has viewed, or no
// step for weeks (housing's list_due_follow_ups), and referrals left waiting longer than
// the answer time (counselling's list_referrals, overdue). Both audited reads; filtered
// by site and district, paged each on its own.
import { Unauthorised, api } from "./api.js";
import { h } from "./dom.js";
import { num, t, value } from "./i18n.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields, siteNamer, visibleSites } from "./scope.js";

const LIMIT = 25;
const call = (service, name, body) => api(`/api/v1/commands/${service}/${name}`, { method: "POST", body });
const late = (on) => Math.max(0, Math.floor((Date.now() - Date.parse(on)) / 86400000));
const overdueBy = (on) => `${on} (${t("followups.days", { n: num(late(on)) })})`;

function table(caption, cols, rows) {
  return h("table", {}, h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ...cols.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, ...rows));
}

function caseRow(f, siteName) {
  return h("tr", { "data-follow-up": f.case_id, "data-reasons": f.reasons.join(" ") },
    h("th", { scope: "row" }, h("a", { href: `#/cases/${encodeURIComponent(f.case_id)}` }, f.name || f.resident_id)),
    h("td", {}, siteName(f.site_id)), h("td", {}, value(f.stage)),
    h("td", {}, h("ul", {}, ...f.reasons.map((r) => h("li", {}, t(`followups.reason.${r}`))))),
    h("td", {}, overdueBy(f.due_on)),
    h("td", {}, h("a", { href: `#/residents/${encodeURIComponent(f.resident_id)}` }, t("followups.work_on"))));
}

function referralRow(r, siteName) {
  return h("tr", { "data-overdue-referral": r.referral_id },
    h("th", { scope: "row" }, h("a", { href: `#/referrals/${encodeURIComponent(r.referral_id)}` }, value(r.topic))),
    h("td", {}, h("a", { href: `#/residents/${encodeURIComponent(r.resident_id)}` }, r.resident_id)),
    h("td", {}, siteName(r.site_id)), h("td", {}, r.operator_id), h("td", {}, overdueBy(r.requested_on)));
}

function section(id, title, page, body, empty) {
  return h("section", { class: "card", "aria-labelledby": id, "data-part": id },
    h("h2", { id }, title), h("p", {}, t("list.total", { n: page.total })),
    page.items.length ? body : h("p", { class: "empty" }, t(empty)));
}

/** The due follow-ups of the user's sites (or the city's). */
export async function followUps(main, params) {
  const at = (name) => Number(params.get(name) || 0);
  const [sites, cases, referrals] = await Promise.all([visibleSites(),
    call("housing", "list_due_follow_ups", { offset: at("offset"), limit: LIMIT, ...scopeBody(params) }),
    call("counselling", "list_referrals", { overdue: true, offset: at("roffset"), limit: LIMIT, ...scopeBody(params) })
      .catch((e) => { if (e instanceof Unauthorised) throw e; return null; })]); // counselling may not run
  const siteName = siteNamer(sites);
  const href = (name) => (o) => { const q = new URLSearchParams(params); q.set(name, o); return `#/followups?${q}`; };
  const form = h("form", { class: "inline", role: "search", "aria-label": t("followups.filter"),
    onsubmit: (e) => { e.preventDefault(); const q = queryOf(form, ["site", "district"]); location.hash = `#/followups${q.size ? `?${q}` : ""}`; } },
  ...scopeFields("followups", params, sites), h("button", { type: "submit" }, t("followups.show")));
  const title = t("followups.title");
  main.append(h("h1", {}, title), h("p", { class: "hint" }, t("followups.intro")), form,
    section("due-cases-h", t("followups.cases"), cases,
      table(t("followups.cases"), ["followups.applicant", "followups.site", "followups.stage", "followups.what",
        "followups.due", "followups.work"], cases.items.map((f) => caseRow(f, siteName))), "followups.no_cases"),
    pager(cases, href("offset")),
    referrals ? section("due-referrals-h", t("followups.referrals"), referrals,
      table(t("followups.referrals"), ["followups.topic", "followups.resident", "followups.site", "followups.operator",
        "followups.requested"], referrals.items.map((r) => referralRow(r, siteName))), "followups.no_referrals") : null,
    referrals ? pager(referrals, href("roffset")) : null);
  return title;
}
