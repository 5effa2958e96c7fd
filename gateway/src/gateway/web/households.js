// Registering a household that arrives together, placed at a site in the same step
// (housing's register_household). Empty fields are left out, so the service says what is
// missing; its reasons appear next to the field they concern.
import { api, me } from "./api.js";
import { fill, h } from "./dom.js";
import { field, requireFilled, submitting } from "./forms.js";
import { t, value } from "./i18n.js";

export const STATUSES = ["asylum_pending", "recognised_refugee", "subsidiary_protection", "tolerated", "other_permit"];
const FORM = "hh";
const today = () => new Date().toISOString().slice(0, 10);

/** The sites one may place at: a social worker's deployment, else housing's list. */
export async function placeableSites() {
  const list = await api("/api/v1/sites?limit=500");
  const mine = me()?.role === "social_worker" ? new Set((await api("/api/auth/me")).sites) : null;
  return list.items.filter((s) => !mine || mine.has(s.site_id));
}

function member(i, remove) {
  const f = (name, label, extra = {}) => field(FORM, { name: `members.${i}.${name}`, label, ...extra });
  return h("fieldset", { class: "member", "data-member": i },
    h("legend", {}, t("household.person", { n: i + 1 })),
    f("given_name", t("household.given_name"), { autocomplete: "off" }),
    f("family_name", t("household.family_name"), { autocomplete: "off" }),
    f("birth_year", t("household.birth_year"), { inputmode: "numeric" }),
    f("languages", t("household.languages"), { hint: t("household.languages_hint") }),
    f("residence_status", t("household.residence_status"), { type: "select",
      options: [["", t("household.choose")], ...STATUSES.map((s) => [s, value(s)])] }),
    f("arrival_date", t("household.arrival_date"), { type: "date" }),
    f("phone", t("household.phone"), { type: "tel", autocomplete: "off" }),
    remove ? h("button", { type: "button", class: "secondary", onclick: remove }, t("household.remove", { n: i + 1 })) : null);
}

const number = (v) => (/^\d+$/.test(v) ? Number(v) : v);

/** The command's body from the form: only what was filled in. */
function body(form) {
  const out = { members: [] };
  for (const el of form.querySelectorAll("[data-field]")) {
    const raw = el.value.trim();
    if (!raw) continue;
    const path = el.dataset.field.split(".");
    if (path[0] !== "members") {
      out[path[0]] = raw;
      continue;
    }
    const [, i, name] = path;
    const person = (out.members[Number(i)] ??= {});
    person[name] = name === "birth_year" ? number(raw)
      : name === "languages" ? raw.split(/[\s,;]+/).filter(Boolean) : raw;
  }
  out.members = out.members.filter(Boolean);
  if (!out.site_id) delete out.on;
  return out;
}

const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let registered = null; // the reply just received, shown once when the page renders again

function done(main, reply, sites) {
  const site = sites.find((s) => s.site_id === reply.site_id);
  fill(main, h("h1", {}, t("household.registered")),
    h("div", { class: "notice", role: "status", "data-household": reply.household_id },
      h("p", {}, t("household.registered_as", { id: reply.household_id })),
      h("p", {}, site ? t("household.placed_at", { site: site.name }) : t("household.not_placed"))),
    h("ul", {}, ...reply.resident_ids.map((rid) => h("li", {}, h("a", { href: `#/residents/${encodeURIComponent(rid)}` }, rid)))),
    h("p", {}, h("a", { href: "#/households/new" }, t("household.another"))));
  return t("household.registered");
}

export async function registerHousehold(main) {
  const sites = await placeableSites();
  if (registered) {
    const reply = registered;
    registered = null;
    return done(main, reply, sites);
  }
  let count = 1;
  const members = h("div", {}, member(0));
  const addPerson = () => {
    const node = member(count, () => node.remove());
    count += 1;
    members.append(node);
    node.querySelector("input").focus();
  };
  const form = h("form", { class: "stack wide", novalidate: true, "aria-labelledby": "hh-h",
    onsubmit: async (e) => {
      e.preventDefault();
      const data = body(form);
      if (data.site_id && !requireFilled(form, ["on"])) return;
      const reply = await submitting(form, () => api("/api/v1/commands/housing/register_household", { method: "POST", body: data }));
      if (reply) {
        registered = reply;
        reroute();
      }
    } },
  members,
  h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: addPerson }, t("household.add_person"))),
  h("fieldset", {}, h("legend", {}, t("household.placement")),
    field(FORM, { name: "site_id", label: t("household.site"), type: "select",
      options: [["", t("household.no_site")], ...sites.map((s) => [s.site_id, `${s.name} (${s.occupancy}/${s.capacity})`])] }),
    field(FORM, { name: "on", label: t("household.on"), type: "date", value: today() })),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("household.submit"))));
  fill(main, h("h1", { id: "hh-h" }, t("household.title")), h("p", { class: "hint" }, t("household.hint")), form);
  return t("household.title");
}
