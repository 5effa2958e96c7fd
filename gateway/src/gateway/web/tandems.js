// Volunteers and their tandems: the volunteers' register (list by offer and free place,
// register one) and, on a resident's page, her tandems: propose a volunteer, record the
// agreement, the start and the end (the volunteers plugin's list_volunteers,
// register_volunteer, propose_match, agree_match, start_match, end_match).
import { Unauthorised, api, mayUse, optional } from "./api.js";
import { h } from "./dom.js";
import { checkbox, commandForm, field, submitting, values } from "./forms.js";
import { t, value } from "./i18n.js";
import { pager } from "./residents.js";

const OFFERS = ["language_tandem", "accompaniment", "homework_help", "mentoring", "moving_help"];
const OUTCOMES = ["completed", "declined", "cancelled", "moved_away"];
const LIMIT = 25;
const call = (name, body) => api(`/api/v1/commands/volunteers/${name}`, { method: "POST", body });
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const list = (text) => (text || "").split(/\s*,\s*/).filter(Boolean);
const newId = () => `v-${[...crypto.getRandomValues(new Uint8Array(5))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
let saved = null;

function said() {
  const text = saved;
  saved = null;
  return text ? h("p", { class: "notice", role: "status" }, text) : null;
}

function registerForm() {
  const f = (name, label, extra = {}) => field("volunteer", { name, label, ...extra });
  return commandForm({ id: "volunteer", title: t("tandems.register"), submit: t("tandems.register_submit"),
    required: ["name", "districts"], numeric: ["capacity"], names: { offers: "offer_language_tandem" },
    fields: [
      f("name", t("tandems.name"), { maxlength: 100 }),
      f("districts", t("tandems.districts"), { hint: t("tandems.list_hint") }),
      f("languages", t("tandems.languages"), { hint: t("coursework.languages_hint") }),
      h("fieldset", {}, h("legend", {}, t("tandems.offers")),
        ...OFFERS.map((o) => checkbox("volunteer", { name: `offer_${o}`, label: value(o) }))),
      f("capacity", t("tandems.capacity"), { inputmode: "numeric", value: "1" }),
      f("background_check_on", t("tandems.checked_on"), { type: "date", hint: t("tandems.checked_hint") }),
    ],
    send: (v) => {
      const body = { volunteer_id: newId(), offers: OFFERS.filter((o) => v[`offer_${o}`]) };
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith("offer_")) continue;
        body[k] = ["districts", "languages"].includes(k) ? list(x) : x;
      }
      return call("register_volunteer", body);
    },
    done: (reply) => { saved = t("tandems.registered", { name: reply.name }); reroute(); } });
}

/** The volunteers' register. */
export async function volunteerList(main, params) {
  const offer = params.get("offer") || "";
  const offset = Number(params.get("offset") || 0);
  const page = await call("list_volunteers", { offset, limit: LIMIT, ...(offer ? { offer } : {}) });
  const filter = h("form", { class: "inline", role: "search", "aria-label": t("tandems.filter"),
    onsubmit: (e) => { e.preventDefault(); const o = e.target.elements.offer.value; location.hash = `#/volunteers${o ? `?offer=${o}` : ""}`; } },
  field("vfilter", { name: "offer", label: t("tandems.offer"), type: "select", value: offer,
    options: [["", t("tandems.any_offer")], ...OFFERS.map((o) => [o, value(o)])] }),
  h("button", { type: "submit" }, t("tandems.show")));
  const title = t("tandems.volunteers");
  main.append(h("h1", {}, title), said(), filter, h("p", {}, t("list.total", { n: page.total })),
    h("div", { class: "card" }, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ...["tandems.name", "tandems.offers", "tandems.districts", "tandems.languages", "tandems.places", "erase.title"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...page.items.map((v) => h("tr", { "data-volunteer": v.volunteer_id },
        h("th", { scope: "row" }, v.name), h("td", {}, v.offers.map(value).join(", ")), h("td", {}, v.districts.join(", ")),
        h("td", {}, v.languages.join(", ") || "–"), h("td", {}, t("tandems.load", { load: v.load, capacity: v.capacity })),
        h("td", {}, h("a", { href: `#/volunteers/${encodeURIComponent(v.volunteer_id)}/erase`,
          "aria-label": `${t("users.erase")}: ${v.name}` }, t("users.erase")))))))
      : h("p", { class: "empty" }, t("tandems.none"))),
    pager(page, (o) => `#/volunteers?${new URLSearchParams({ ...(offer ? { offer } : {}), offset: o })}`),
    registerForm());
  return title;
}

function step(match, name, label, fields = []) {
  const id = `${name}-${match.match_id}`;
  const form = h("form", { class: "inline", novalidate: true, "data-form": id, "aria-label": t(`tandems.${name}_for`, { offer: value(match.offer) }),
    onsubmit: async (e) => {
      e.preventDefault();
      const reply = await submitting(form, () => call(`${name}_match`, { ...values(form, ["rating"]), match_id: match.match_id }));
      if (reply) { saved = t("tandems.now", { offer: value(reply.offer), state: value(reply.state) }); reroute(); }
    } }, ...fields, h("button", { type: "submit", class: "secondary" }, label));
  return form;
}

function matchSteps(m) {
  const end = () => step(m, "end", t("tandems.end"), [
    field(`end-${m.match_id}`, { name: "outcome", label: t("tandems.outcome"), type: "select",
      options: [["", t("household.choose")], ...OUTCOMES.map((o) => [o, value(o)])] }),
    field(`end-${m.match_id}`, { name: "rating", label: t("tandems.rating"), inputmode: "numeric", hint: t("tandems.rating_hint") })]);
  if (m.state === "proposed") return [step(m, "agree", t("tandems.agree")), end()];
  if (m.state === "agreed") return [step(m, "start", t("tandems.start")), end()];
  if (m.state === "active") return [end()];
  return [];
}

/** The tandems card on a resident's page, from the volunteers section (if it runs). */
export async function tandemsCard(residentId, section) {
  if (!mayUse("city_admin", "social_worker")) return null;
  // The volunteers plugin may not run (or not be installed): then there is no card. The
  // city figures say who runs (a service that answered them just now).
  const stats = await optional("/api/v1/stats");
  if (!stats?.sections?.volunteers) return null;
  const free = await call("list_volunteers", { free_only: true, limit: 200 }).catch((e) => {
    if (e instanceof Unauthorised) throw e;
    return null;
  });
  if (!free) return null;
  const matches = section?.matches || [];
  const names = Object.fromEntries(free.items.map((v) => [v.volunteer_id, v.name]));
  return h("section", { class: "card work", "aria-labelledby": "tandems-h", "data-tandems": residentId },
    h("h2", { id: "tandems-h" }, t("tandems.title")), said(),
    matches.length ? h("table", {},
      h("thead", {}, h("tr", {}, ...["tandems.offer", "tandems.volunteer", "tandems.state", "tandems.next"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...matches.map((m) => h("tr", { "data-match": m.match_id, "data-state": m.state },
        h("th", { scope: "row" }, value(m.offer)), h("td", {}, names[m.volunteer_id] || m.volunteer_id),
        h("td", {}, value(m.state) + (m.outcome ? `: ${value(m.outcome)}` : "")), h("td", {}, ...matchSteps(m))))))
      : h("p", { class: "empty" }, t("tandems.no_tandem")),
    commandForm({ id: "propose", title: t("tandems.propose"), submit: t("tandems.propose_submit"), required: ["volunteer_id", "offer"],
      fields: [
        field("propose", { name: "volunteer_id", label: t("tandems.volunteer"), type: "select",
          options: [["", t("household.choose")], ...free.items.map((v) => [v.volunteer_id, `${v.name} (${v.offers.map(value).join(", ")})`])] }),
        field("propose", { name: "offer", label: t("tandems.offer"), type: "select", options: [["", t("household.choose")], ...OFFERS.map((o) => [o, value(o)])] }),
      ],
      send: (v) => call("propose_match", { ...v, resident_id: residentId }),
      done: (reply) => { saved = t("tandems.now", { offer: value(reply.offer), state: value(reply.state) }); reroute(); } }));
}
