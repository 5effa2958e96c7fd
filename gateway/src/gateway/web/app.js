// The dashboard's shell: sign-in, language, navigation by role, and a hash router.
import { ApiFailure, Unauthorised, me, refresh, signOut, token } from "./api.js";
import { fill, h } from "./dom.js";
import { initialLang, lang, setLang, t } from "./i18n.js";
import { registerHousehold } from "./households.js";
import { account } from "./account.js";
import { deployment } from "./deployment.js";
import { overview } from "./overview.js";
import { loadPlugins, pluginRoutes } from "./plugins.js";
import { resident, residents } from "./residents.js";
import { signInPage } from "./signin.js";
import { site, sites } from "./sites.js";
import { users } from "./users.js";
import { erasureList, personErasure } from "./erasures.js";
import { courseList, coursePage } from "./coursework.js";
import { caseList, casePage } from "./cases.js";
import { referralList, referralPage } from "./referrals.js";
import { kitaList } from "./kita.js";
import { phasePage, programmeList } from "./programmes.js";
import { volunteerList } from "./tandems.js";
import { followUps } from "./followups.js";
import { languageList } from "./language.js";
import { caseNotes } from "./notes.js";

const main = document.getElementById("main");
let notice = "";
let rendering = 0;
let triedRefresh = false;

const ROUTES = [
  [/^\/?$/, (m, p) => overview(m, p), "#/"],
  [/^\/sites\/?$/, (m, p) => sites(m, p), "#/sites"],
  [/^\/sites\/([^/]+)$/, (m, p, id) => site(m, id), "#/sites"],
  [/^\/residents\/?$/, (m, p) => residents(m, p), "#/residents"],
  [/^\/residents\/([^/]+)$/, (m, p, id) => resident(m, id), "#/residents"],
  [/^\/users\/?$/, (m, p) => users(m, p), "#/users"],
  [/^\/erasures\/?$/, (m) => erasureList(m), "#/erasures"],
  [/^\/staff\/([^/]+)\/erase$/, (m, p, id) => personErasure(m, "staff", id), "#/users"],
  [/^\/volunteers\/([^/]+)\/erase$/, (m, p, id) => personErasure(m, "volunteers", id), "#/volunteers"],
  [/^\/households\/new$/, (m) => registerHousehold(m), "#/households/new"],
  [/^\/courses\/?$/, (m, p) => courseList(m, p), "#/courses"],
  [/^\/courses\/([^/]+)$/, (m, p, id) => coursePage(m, p, id), "#/courses"],
  [/^\/cases\/?$/, (m, p) => caseList(m, p), "#/cases"],
  [/^\/cases\/([^/]+)$/, (m, p, id) => casePage(m, p, id), "#/cases"],
  [/^\/referrals\/?$/, (m, p) => referralList(m, p), "#/referrals"],
  [/^\/referrals\/([^/]+)$/, (m, p, id) => referralPage(m, p, id), "#/referrals"],
  [/^\/kita\/?$/, (m, p) => kitaList(m, p), "#/kita"],
  [/^\/followups\/?$/, (m, p) => followUps(m, p), "#/followups"],
  [/^\/language\/?$/, (m, p) => languageList(m, p), "#/language"],
  [/^\/notes\/?$/, (m, p) => caseNotes(m, p), "#/notes"],
  [/^\/programmes\/?$/, (m) => programmeList(m), "#/programmes"],
  [/^\/programmes\/([^/]+\/\d+)$/, (m, p, id) => phasePage(m, p, ...id.split("/")), "#/programmes"],
  [/^\/volunteers\/?$/, (m, p) => volunteerList(m, p), "#/volunteers"],
  [/^\/account$/, (m) => account(m), "#/account"],
  [/^\/users\/([^/]+)\/deployment$/, (m, p, id) => deployment(m, p, id), "#/users"],
];

// Which links a role gets (the API refuses the rest anyway).
const NAV = {
  "#/": null,
  "#/sites": ["city_admin", "social_worker", "operator"],
  "#/residents": ["city_admin", "social_worker"],
  "#/households/new": ["city_admin", "social_worker"],
  "#/users": ["city_admin"],
  "#/erasures": ["city_admin", "auditor"],
  "#/courses": ["city_admin", "provider"],
  "#/cases": ["city_admin", "social_worker"],
  "#/referrals": ["city_admin", "social_worker"],
  "#/kita": ["city_admin", "social_worker"],
  "#/followups": ["city_admin", "social_worker"],
  "#/language": ["city_admin", "social_worker"],
  "#/notes": ["operator"],
  "#/programmes": ["city_admin", "provider"],
  "#/volunteers": ["city_admin"],
  "#/account": null,
};

function chrome(user, current) {
  document.getElementById("nav").hidden = !user;
  document.getElementById("logout").hidden = !user;
  const who = document.getElementById("who");
  who.hidden = !user;
  who.textContent = user ? t("signin.as", { name: user.name, role: t(`role.${user.role}`) }) : "";
  for (const a of document.querySelectorAll("#nav a")) {
    const roles = a.dataset.roles ? a.dataset.roles.split(" ") : NAV[a.getAttribute("href")];
    a.parentElement.hidden = !!roles && !roles.includes(user?.role);
    if (a.getAttribute("href") === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function signedIn() {
  notice = "";
  route(true);
}

async function route(moveFocus = false) {
  const mine = ++rendering;
  const [path, query = ""] = decodeURIComponent(location.hash.slice(1) || "/").split("?");
  if (!token() && !triedRefresh) {
    triedRefresh = true; // a reload or a new tab: the refresh cookie may still hold a session
    await refresh();
    if (mine !== rendering) return;
  }
  if (!token()) {
    chrome(null);
    return signInPage(main, notice, signedIn);
  }
  try {
    await loadPlugins(); // pages of plugin services (plugins.js)
  } catch (e) {
    if (mine !== rendering) return;
    notice = t("signin.ended", { reason: e.message });
    return route();
  }
  if (mine !== rendering) return;
  const hit = [...ROUTES, ...pluginRoutes].map(([re, page, nav]) => [path.match(re), page, nav]).find(([m]) => m);
  if (!hit) {
    fill(main, h("h1", {}, t("notfound")));
    return;
  }
  const [m, page, nav] = hit;
  chrome(me(), nav);
  main.setAttribute("aria-busy", "true");
  const target = h("div");
  try {
    const title = await page(target, new URLSearchParams(query), m[1]);
    if (mine !== rendering) return; // a newer navigation won
    fill(main, ...target.childNodes);
    document.title = `${title} – ${t("brand")}`;
    const heading = main.querySelector("h1");
    if (moveFocus && heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  } catch (e) {
    if (mine !== rendering) return;
    if (e instanceof Unauthorised) {
      notice = t("signin.ended", { reason: e.message });
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
  document.getElementById("logout").addEventListener("click", async () => {
    await signOut();
    notice = t("signin.bye");
    location.hash = "#/";
    route();
  });
  window.addEventListener("im:signedout", (e) => {
    notice = t("signin.ended", { reason: e.detail });
    route();
  });
  // Navigation moves the focus to the new page's heading (keyboard and screen readers).
  window.addEventListener("hashchange", () => route(true));
  await route();
  document.body.dataset.ready = "true";
}

start();
