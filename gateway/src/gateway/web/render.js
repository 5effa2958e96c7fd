// Generic rendering of any service's section: it knows no service, so a section of a
// service added later (volunteers, …) shows up the same way.
import { field, num, service, t, value } from "./i18n.js";
import { h } from "./dom.js";

const LINKS = { site_id: (id) => `#/sites/${encodeURIComponent(id)}`,
  resident_id: (id) => `#/residents/${encodeURIComponent(id)}` };
const isPlain = (v) => v === null || typeof v !== "object";

export function scalar(v, key) {
  if (v === null || v === undefined || v === "") return h("span", { class: "empty" }, "—");
  if (typeof v === "boolean") return document.createTextNode(t(v ? "yes" : "no"));
  if (typeof v === "number") {
    if (key && /year|_id$/.test(key)) return document.createTextNode(String(v)); // 1988, not 1,988
    const pct = key && key.endsWith("_rate");
    return document.createTextNode(pct ? num(v, { style: "percent" }) : num(v));
  }
  if (key in LINKS && typeof v === "string") return h("a", { href: LINKS[key](v) }, v);
  return document.createTextNode(value(String(v)));
}

function table(items) {
  const keys = [...new Set(items.flatMap((o) => Object.keys(o)))];
  return h("table", {},
    h("thead", {}, h("tr", {}, ...keys.map((k) => h("th", { scope: "col" }, field(k))))),
    h("tbody", {}, ...items.map((o) => h("tr", {}, ...keys.map((k) => h("td", {}, render(o[k], k)))))));
}

/** Any JSON value: scalars as text, lists of records as tables, records as definition lists. */
export function render(v, key) {
  if (isPlain(v)) return scalar(v, key);
  if (Array.isArray(v)) {
    if (!v.length) return h("span", { class: "empty" }, t("none"));
    if (v.every(isPlain)) return document.createTextNode(v.map((x) => value(String(x))).join(", "));
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) return table(v);
    return h("ul", {}, ...v.map((x) => h("li", {}, render(x))));
  }
  const entries = Object.entries(v);
  if (!entries.length) return h("span", { class: "empty" }, t("none"));
  return h("dl", { class: "kv" }, ...entries.flatMap(([k, x]) => [h("dt", {}, field(k)), h("dd", {}, render(x, k))]));
}

// How a plugin shows its own section on a page ("resident", "site", "stats"), instead of
// the generic rendering: `(data, context) => nodes`.
const plugged = new Map();
export function showSection(view, name, renderer) {
  plugged.set(`${view}:${name}`, renderer);
}

/** One service's section as a card with its own heading (`view` and `context`: for a plugin's own rendering). */
export function sectionCard(name, data, view, context = {}) {
  const id = `section-${name}`;
  const own = plugged.get(`${view}:${name}`);
  return h("section", { class: "card", "aria-labelledby": id, "data-section": name },
    h("h2", { id }, service(name)),
    own ? own(data, context)
      : data === null || data === undefined ? h("p", { class: "empty" }, t("section.nothing")) : render(data));
}

/** The services that did not answer in time, named in a visible warning. */
export function missingWarning(missing) {
  if (!missing || !missing.length) return null;
  return h("div", { class: "warning", role: "alert", "data-missing": missing.join(" ") },
    h("strong", {}, t("missing.title")), " ",
    t("missing.text", { services: missing.map(service).join(", ") }));
}

/** Headline figures of a section: its numbers, and numbers one level down ("a · b"); a plugin may show its own. */
export function figures(section, name) {
  const own = plugged.get(`stats:${name}`);
  if (own) return own(section, {});
  const rows = [];
  for (const [k, v] of Object.entries(section || {})) {
    if (typeof v === "number") rows.push([field(k), scalar(v, k)]);
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) {
        if (typeof v2 === "number") rows.push([`${field(k)} · ${field(k2)}`, scalar(v2, k2)]);
      }
    } else if (Array.isArray(v)) rows.push([field(k), document.createTextNode(num(v.length))]);
  }
  if (!rows.length) return h("p", { class: "empty" }, t("none"));
  return h("dl", { class: "figures" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
