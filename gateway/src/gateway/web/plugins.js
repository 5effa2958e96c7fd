// Pages that plugin services ship (GET /api/v1/web/plugins lists those running now). Each
// module is imported from the gateway and may export `routes` ([pattern, page, nav href],
// as app.js's own), `nav` ([{ href, key, roles }]) and `sections` ({ resident | site |
// stats: (data, context) => nodes }, shown instead of the generic rendering); its
// dictionaries are `i18n/<lang>.json` beside it. A plugin's modules import the dashboard's
// own by their URL ("/dashboard/api.js", …), so that both share one instance.
import { Unauthorised, api } from "./api.js";
import { h } from "./dom.js";
import { addDictionaries, t } from "./i18n.js";
import { showSection } from "./render.js";

export const pluginRoutes = [];
const links = [];
let loading = null;

async function load(plugin) {
  await addDictionaries(plugin.i18n);
  const mod = await import(plugin.module);
  pluginRoutes.push(...(mod.routes || []));
  links.push(...(mod.nav || []));
  for (const [view, renderer] of Object.entries(mod.sections || {})) showSection(view, plugin.service, renderer);
}

function addLinks() {
  const list = document.querySelector("#nav ul");
  const last = list.querySelector('a[href="#/account"]')?.parentElement ?? null;
  for (const { href, key, roles = [] } of links) {
    if ([...list.querySelectorAll("a")].some((a) => a.getAttribute("href") === href)) continue;
    list.insertBefore(h("li", {}, h("a", { href, "data-i18n": key, "data-roles": roles.join(" ") }, t(key))), last);
  }
}

/** The running plugins' pages, loaded once per page load (again after a failed listing);
 * rejects with Unauthorised when the session has ended. */
export function loadPlugins() {
  loading ??= (async () => {
    let listed;
    try {
      listed = (await api("/api/v1/web/plugins")).items;
    } catch (e) {
      loading = null;
      if (e instanceof Unauthorised) throw e; // the session is over: the shell says why
      return;
    }
    for (const plugin of listed) {
      try {
        await load(plugin);
      } catch (e) { // one broken plugin leaves the others and the dashboard working
        console.warn(`pages of ${plugin.service} not loaded: ${e.message}`);
      }
    }
    addLinks();
  })();
  return loading;
}
