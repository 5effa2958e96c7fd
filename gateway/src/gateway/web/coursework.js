// Courses as a provider (its own) or the city runs them: the list with the session days
// still to register (the provider's worklist), a new course, and a course's page with its
// facts, changes, roster and class register (education's commands through the gateway).
import { api, mayUse, me } from "./api.js";
import { h } from "./dom.js";
import { commandForm, field } from "./forms.js";
import { t, value } from "./i18n.js";
import { classRegister, rosterCard } from "./classregister.js";
import { pager } from "./residents.js";
import { queryOf, scopeBody, scopeFields } from "./scope.js";

const LIMIT = 20;
const KINDS = ["arrival_course", "integration_course", "parents_cafe", "literacy", "other"];
const LEVELS = ["A1", "A2", "B1"];
const PROVIDERS = ["adult_education_centre", "operator", "volunteers", "other"];
const STATES = ["planned", "running", "finished", "cancelled"];
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const call = (name, body) => api(`/api/v1/commands/education/${name}`, { method: "POST", body });
const choose = (list, blank = true) => [...(blank ? [["", t("household.choose")]] : []), ...list.map((v) => [v, value(v)])];
let saved = null; // what the last step saved, said once on the re-rendered page

function said() {
  const text = saved;
  saved = null;
  return text ? h("p", { class: "notice", role: "status" }, text) : null;
}

function courseRow(c) {
  const due = c.sessions_to_register ?? 0;
  return h("tr", { "data-course": c.course_id },
    h("th", { scope: "row" }, h("a", { href: `#/courses/${encodeURIComponent(c.course_id)}` }, c.title)),
    h("td", {}, value(c.kind)), h("td", {}, `${c.starts} – ${c.ends}`), h("td", {}, value(c.state)),
    h("td", {}, `${c.confirmed} / ${c.capacity}`), h("td", {}, String(c.waitlisted)),
    h("td", { "data-due": due }, due ? t("coursework.due", { n: due }) : "–"));
}

// getRandomValues works on plain http too (randomUUID needs a secure context).
const newId = () => [...crypto.getRandomValues(new Uint8Array(5))].map((b) => b.toString(16).padStart(2, "0")).join("");

// Sessions as the contract has them: one weekly meeting when a weekday is chosen.
function asCourse(v) {
  const { weekday, starts_at: startsAt, minutes, languages, ...rest } = v;
  const sessions = weekday || startsAt ? [{ weekday, starts_at: startsAt, ...(minutes ? { minutes } : {}) }] : [];
  return { ...rest, course_id: `c-${newId()}`, sessions,
    ...(languages ? { languages: languages.split(/\s*,\s*/).filter(Boolean) } : {}) };
}

function newCourse(sites) {
  const f = (name, label, extra = {}) => field("course", { name, label, ...extra });
  return commandForm({ id: "course", title: t("coursework.new"), submit: t("coursework.create"),
    required: ["title", "kind", "starts", "ends", "capacity"], numeric: ["capacity", "childcare_places", "minutes"],
    fields: [
      f("title", t("coursework.title_field"), { maxlength: 220 }),
      f("kind", t("coursework.kind"), { type: "select", options: choose(KINDS) }),
      f("level", t("coursework.level"), { type: "select", options: choose(LEVELS), hint: t("coursework.level_hint") }),
      f("provider", t("coursework.provider"), { type: "select", options: choose(PROVIDERS, false) }),
      sites ? f("site_id", t("coursework.site"), { type: "select", options: [["", t("household.choose")], ...sites.map((s) => [s.site_id, s.name])] })
        : f("site_id", t("coursework.site_id")),
      f("address", t("coursework.address"), { hint: t("coursework.address_hint") }),
      f("starts", t("coursework.starts"), { type: "date" }), f("ends", t("coursework.ends"), { type: "date" }),
      f("weekday", t("coursework.weekday"), { type: "select", options: [["", "–"], ...WEEKDAYS.map((d) => [d, t(`weekday.${d}`)])] }),
      f("starts_at", t("coursework.starts_at"), { type: "time" }),
      f("minutes", t("coursework.minutes"), { inputmode: "numeric" }),
      f("capacity", t("coursework.capacity"), { inputmode: "numeric" }),
      f("childcare_places", t("coursework.childcare"), { inputmode: "numeric" }),
      f("languages", t("coursework.languages"), { hint: t("coursework.languages_hint") }),
      f("status", t("coursework.state"), { type: "select", options: choose(["planned", "running"], false) }),
    ],
    send: (v) => call("create_course", asCourse(v)),
    done: (reply) => { saved = t("coursework.created", { title: reply.title }); location.hash = `#/courses/${encodeURIComponent(reply.course_id)}`; },
  });
}

/** The course list: a provider's own courses (its worklist), the city's all. */
export async function courseList(main, params) {
  const state = params.get("state") || "";
  const offset = Number(params.get("offset") || 0);
  const mine = mayUse("provider") ? { provider_id: me().provider } : {};
  const page = await call("list_courses", { ...mine, ...(state ? { status: state } : {}), ...scopeBody(params), offset, limit: LIMIT });
  const sites = mayUse("city_admin") ? (await api("/api/v1/sites?limit=500").catch(() => null))?.items : null;
  const title = mayUse("provider") ? t("coursework.mine") : t("coursework.all");
  const filter = h("form", { class: "inline", role: "search", "aria-label": t("coursework.filter"),
    onsubmit: (e) => { e.preventDefault(); const q = queryOf(filter, ["state", ...(sites ? ["site", "district"] : [])]); location.hash = `#/courses${q.size ? `?${q}` : ""}`; } },
  field("filter", { name: "state", label: t("coursework.state"), type: "select", options: [["", t("coursework.any")], ...STATES.map((s) => [s, value(s)])], value: state }),
  ...(sites ? scopeFields("filter", params, sites) : []), // the city's sites (a provider reads none)
  h("button", { type: "submit" }, t("coursework.show")));
  main.append(h("h1", {}, title), said(), filter,
    h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ...["coursework.title_field", "coursework.kind", "coursework.dates", "coursework.state",
        "coursework.seats", "coursework.waitlist", "coursework.to_register"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map(courseRow))) : h("p", { class: "empty" }, t("coursework.none"))),
    pager(page, (o) => { const q = new URLSearchParams(params); q.set("offset", o); return `#/courses?${q}`; }),
    newCourse(sites));
  return title;
}

function changeCourse(c) {
  return commandForm({ id: "change", title: t("coursework.change"), submit: t("coursework.change_submit"),
    numeric: ["capacity", "childcare_places"], fields: [
      field("change", { name: "capacity", label: t("coursework.capacity"), inputmode: "numeric", value: String(c.capacity) }),
      field("change", { name: "childcare_places", label: t("coursework.childcare"), inputmode: "numeric", value: String(c.childcare_places) }),
      field("change", { name: "status", label: t("coursework.state"), type: "select", options: choose(["planned", "running", "finished"], false), value: c.state }),
    ],
    send: (v) => call("change_course", { ...v, course_id: c.course_id }),
    done: () => { saved = t("coursework.changed"); reroute(); } });
}

/** A course: its facts, the change form, the roster and the class register. */
export async function coursePage(main, params, id) {
  const roster = await call("get_course_roster", { course_id: id });
  const c = roster.course;
  const facts = [["coursework.kind", value(c.kind) + (c.level ? ` ${c.level}` : "")], ["coursework.state", value(c.state)],
    ["coursework.dates", `${c.starts} – ${c.ends}`],
    ["coursework.sessions", c.sessions.map((s) => `${t(`weekday.${s.weekday}`)} ${s.starts_at} (${s.minutes} min)`).join(", ") || "–"],
    ["coursework.where", c.site_id || c.address], ["coursework.seats", `${c.confirmed} / ${c.capacity}`],
    ["coursework.waitlist", String(c.waitlisted)], ["coursework.childcare", `${c.childcare_taken} / ${c.childcare_places}`]];
  const open = !["finished", "cancelled"].includes(c.state);
  main.append(h("p", {}, h("a", { href: "#/courses" }, `← ${t("nav.courses")}`)),
    h("h1", {}, c.title), said(),
    h("section", { class: "card", "aria-labelledby": "facts-h" }, h("h2", { id: "facts-h" }, t("coursework.facts")),
      h("dl", { class: "kv" }, ...facts.flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]))),
    classRegister(roster, (text) => { saved = text; reroute(); }),
    rosterCard(roster, (text) => { saved = text; reroute(); }),
    open ? changeCourse(c) : null);
  return c.title;
}
