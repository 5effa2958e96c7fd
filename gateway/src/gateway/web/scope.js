// Which sites a worklist shows: one site or a district's, never more than a social
// worker's own (the services check that too). The districts offered are those of the
// sites the user may see; `?site=` and `?district=` keep the choice in the address.
import { api, mayUse, me } from "./api.js";
import { field } from "./forms.js";
import { t } from "./i18n.js";

/** The sites the user may see (a social worker: hers), from housing's site list. */
export async function visibleSites() {
  const page = await api("/api/v1/sites?limit=500").catch(() => ({ items: [] }));
  const mine = mayUse("social_worker") ? new Set(me().sites || []) : null;
  return page.items.filter((s) => !mine || mine.has(s.site_id));
}

/** The site and district selects of a worklist's filter form (`form`: its id prefix). */
export function scopeFields(form, params, sites) {
  const districts = [...new Set(sites.map((s) => s.district))].sort();
  return [
    field(form, { name: "site", label: t("scope.site"), type: "select", value: params.get("site") || "",
      options: [["", t("scope.all_sites")], ...sites.map((s) => [s.site_id, s.name])] }),
    field(form, { name: "district", label: t("scope.district"), type: "select", value: params.get("district") || "",
      options: [["", t("scope.all_districts")], ...districts.map((d) => [d, d])] }),
  ];
}

/** The query of a submitted filter form: its filled fields among `names`. */
export function queryOf(form, names) {
  const q = new URLSearchParams();
  for (const name of names) if (form.elements[name].value) q.set(name, form.elements[name].value);
  return q;
}

/** The site and district conditions of a worklist read, from the address. */
export const scopeBody = (params) => ({
  ...(params.get("site") ? { site_id: params.get("site") } : {}),
  ...(params.get("district") ? { district: params.get("district") } : {}),
});

/** A site's name (its id when unknown, "–" for none). */
export function siteNamer(sites) {
  const names = Object.fromEntries(sites.map((s) => [s.site_id, s.name]));
  return (id) => names[id] || id || "–";
}
