// UI strings: two JSON dictionaries shipped next to this file; English fills any gap.
const KEY = "im.lang";
export const LANGS = ["de", "en"];
let dict = {};
let fallback = {};
let current = "en";

// Plugins' dictionaries (base URLs of their <lang>.json): the dashboard's own keys win.
const sources = [];

async function fetchOne(base, lang) {
  const r = await fetch(`${base}${lang}.json`);
  if (!r.ok) throw new Error(`dictionary ${base}${lang}: ${r.status}`);
  return r.json();
}

async function fetchDict(lang) {
  const [own, ...more] = await Promise.all([fetchOne("/dashboard/i18n/", lang),
    ...sources.map((base) => fetchOne(base, lang).catch(() => ({})))]);
  return Object.assign({}, ...more, own);
}

/** A plugin's dictionaries (`base` + "de.json", …), loaded now and with every change of language. */
export async function addDictionaries(base) {
  if (sources.includes(base)) return;
  sources.push(base);
  fallback = {};
  await setLang(current);
}

export function initialLang() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  const nav = (navigator.language || "en").slice(0, 2).toLowerCase();
  return LANGS.includes(nav) ? nav : "en";
}

export async function setLang(lang) {
  if (!LANGS.includes(lang)) lang = "en";
  if (!Object.keys(fallback).length) fallback = await fetchDict("en");
  dict = lang === "en" ? fallback : await fetchDict(lang);
  current = lang;
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export const lang = () => current;

/** The string for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = dict[key] ?? fallback[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

const has = (key) => key in dict || key in fallback;
const humanise = (key) => key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** A field name of any service: translated when known, else made readable. */
export const field = (key) => (has(`field.${key}`) ? t(`field.${key}`) : humanise(key));
/** A service's name: translated when known (a service added later shows its own name). */
export const service = (name) => (has(`service.${name}`) ? t(`service.${name}`) : name);
/** An enumerated value (site kind, state, category …) when the dictionary knows it. */
export const value = (v) => (has(`value.${v}`) ? t(`value.${v}`) : v);

export const num = (n, opts) => new Intl.NumberFormat(current, opts).format(n);
export const when = (iso) => new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" })
  .format(new Date(iso));
