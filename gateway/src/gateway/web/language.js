// Who waits for a language course: adults at the user's sites with no seat in a language
// course (and no integration course passed), or on a course's waitlist; those with
// nothing first, then the longest at their site (education's list_language_waiting, an
// audited read). Filtered by site, district and how they wait; paged.
import { api, mayUse } from "./api.js";
import { h } from "./dom.js";
import { field } from "./forms.js";
import { t } from "./i18n.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields, siteNamer, visibleSites } from "./scope.js";

const LIMIT = 25;
const STATES = ["none", "waitlisted"];

function how(w) {
  if (w.state === "none") return t("language.state.none");
  const course = mayUse("city_admin") ? h("a", { href: `#/courses/${encodeURIComponent(w.course_id)}` }, w.course_id) : w.course_id;
  return h("span", {}, t("language.waitlist", { n: w.position ?? "?" }), " ", course);
}

/** The worklist of residents waiting for a language course. */
export async function languageList(main, params) {
  const state = params.get("state") || "";
  const offset = Number(params.get("offset") || 0);
  const [sites, page] = await Promise.all([visibleSites(), api("/api/v1/commands/education/list_language_waiting",
    { method: "POST", body: { offset, limit: LIMIT, ...(state ? { state } : {}), ...scopeBody(params) } })]);
  const siteName = siteNamer(sites);
  const form = h("form", { class: "inline", role: "search", "aria-label": t("language.filter"),
    onsubmit: (e) => { e.preventDefault(); const q = queryOf(form, ["site", "district", "state"]); location.hash = `#/language${q.size ? `?${q}` : ""}`; } },
  ...scopeFields("language", params, sites),
  field("language", { name: "state", label: t("language.state"), type: "select", value: state,
    options: [["", t("language.any_state")], ...STATES.map((s) => [s, t(`language.state.${s}`)])] }),
  h("button", { type: "submit" }, t("language.show")));
  const title = t("language.title");
  main.append(h("h1", {}, title), h("p", { class: "hint" }, t("language.intro")), form,
    h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", { "data-language-waiting": page.total },
      h("caption", { class: "visually-hidden" }, title),
      h("thead", {}, h("tr", {}, ...["language.resident", "language.site", "language.district", "language.how", "language.since"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map((w) => h("tr", { "data-waiting-resident": w.resident_id, "data-state": w.state },
        h("th", { scope: "row" }, h("a", { href: `#/residents/${encodeURIComponent(w.resident_id)}` }, w.resident_id)),
        h("td", {}, siteName(w.site_id)), h("td", {}, w.district || "–"), h("td", {}, how(w)), h("td", {}, w.since || "–")))))
      : h("p", { class: "empty" }, t("language.none"))),
    pager(page, (o) => { const q = new URLSearchParams(params); q.set("offset", o); return `#/language?${q}`; }));
  return title;
}
