// A social worker's start: the sites she is deployed to (housing's staff deployment),
// each with its places, open move-out cases and the way to its residents.
import { api, mayUse, optional } from "./api.js";
import { h } from "./dom.js";
import { num, t } from "./i18n.js";

function card(id, section) {
  const name = section?.name || id;
  return h("section", { class: "card", "data-my-site": id, "aria-labelledby": `my-${id}` },
    h("h3", { id: `my-${id}` }, name),
    section ? h("dl", { class: "figures" },
      h("dt", {}, t("mysites.places")), h("dd", {}, `${num(section.occupancy)} / ${num(section.capacity)}`),
      h("dt", {}, t("mysites.open_cases")), h("dd", {}, num(section.open_move_out_cases ?? 0)))
      : h("p", { class: "warning" }, t("mysites.unknown")),
    h("p", {}, h("a", { href: `#/residents?site=${encodeURIComponent(id)}` }, t("mysites.residents", { name })),
      " · ", h("a", { href: `#/sites/${encodeURIComponent(id)}` }, t("mysites.site"))));
}

/** The "my sites" section, or null for roles without a deployment. */
export async function mySites() {
  if (!mayUse("social_worker")) return null;
  const { sites } = await api("/api/auth/me");
  const views = await Promise.all(sites.map((id) => optional(`/api/v1/sites/${encodeURIComponent(id)}`)));
  return h("section", { "aria-labelledby": "mysites-h", "data-my-sites": sites.length },
    h("h2", { id: "mysites-h" }, t("mysites.title")),
    sites.length ? h("div", { class: "grid" }, ...sites.map((id, i) => card(id, views[i]?.sections?.housing)))
      : h("p", { class: "empty" }, t("residents.no_sites")));
}
