// The dashboard's shell: login, language, and a hash router over the pages.
import { ApiFailure, Unauthorised, login, logout, token } from "./api.js";
import { fill, h } from "./dom.js";
import { initialLang, lang, setLang, t } from "./i18n.js";
import { overview } from "./overview.js";
import { resident, residents } from "./residents.js";
import { site, sites } from "./sites.js";

const main = document.getElementById("main");
let notice = "";
let rendering = 0;

const ROUTES = [
  [/^\/?$/, (m, p) => overview(m, p), "#/"],
  [/^\/sites\/?$/, (m, p) => sites(m, p), "#/sites"],
  [/^\/sites\/([^/]+)$/, (m, p, id) => site(m, id), "#/sites"],
  [/^\/residents\/?$/, (m, p) => residents(m, p), "#/residents"],
  [/^\/residents\/([^/]+)$/, (m, p, id) => resident(m, id), "#/residents"],
];

function loginPage() {
  const form = h("form", { class: "login card", onsubmit: (e) => {
    e.preventDefault();
    const value = e.target.elements.token.value;
    if (!value.trim()) return;
    login(value);
    notice = "";
    route();
  } },
  h("div", {}, h("label", { for: "token" }, t("login.token")),
    h("textarea", { id: "token", name: "token", required: true, autocomplete: "off", spellcheck: "false",
      "aria-describedby": "token-hint" })),
  h("p", { id: "token-hint", class: "hint" }, t("login.hint"), " ", h("code", {}, "im token --role city_admin")),
  h("button", { type: "submit" }, t("login.submit")));
  fill(main, h("h1", {}, t("login.title")),
    notice ? h("p", { class: "error", role: "alert" }, notice) : null, form);
  document.title = `${t("login.title")} – ${t("brand")}`;
}

function chrome(signedIn, current) {
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route() {
  const mine = ++rendering;
  const [path, query = ""] = decodeURIComponent(location.hash.slice(1) || "/").split("?");
  if (!token()) {
    chrome(false);
    return loginPage();
  }
  const hit = ROUTES.map(([re, page, nav]) => [path.match(re), page, nav]).find(([m]) => m);
  if (!hit) {
    fill(main, h("h1", {}, t("notfound")));
    return;
  }
  const [m, page, nav] = hit;
  chrome(true, nav);
  main.setAttribute("aria-busy", "true");
  const target = h("div");
  try {
    const title = await page(target, new URLSearchParams(query), m[1]);
    if (mine !== rendering) return; // a newer navigation won
    fill(main, ...target.childNodes);
    document.title = `${title} – ${t("brand")}`;
  } catch (e) {
    if (mine !== rendering) return;
    if (e instanceof Unauthorised) {
      notice = t("login.rejected", { reason: e.message });
      return route();
    }
    const status = e instanceof ApiFailure ? e.status : 0;
    fill(main, h("h1", {}, t("error.title")),
      h("p", { class: "error", role: "alert" }, t(`error.${status}`) === `error.${status}` ? e.message : t(`error.${status}`)),
      h("p", {}, e.message));
  } finally {
    main.removeAttribute("aria-busy");
  }
}

async function start() {
  const select = document.getElementById("lang");
  await setLang(initialLang());
  select.value = lang();
  select.addEventListener("change", async () => {
    await setLang(select.value);
    route();
  });
  document.getElementById("logout").addEventListener("click", () => {
    logout();
    notice = t("login.bye");
    location.hash = "#/";
    route();
  });
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
}

start();
