// A staff member's page: the city admin deploys a social worker to sites (housing's
// assign_staff, which replaces the earlier set) and reads where she works now and every
// deployment before, with when and by whom (get_staff). The social worker sees the new
// sites within the gateway's check interval.
import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { field, requireFilled, submitting } from "./forms.js";
import { t, when } from "./i18n.js";

const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let said = null;

export async function deployment(main, params, username) {
  const [staff, sites] = await Promise.all([
    api("/api/v1/commands/housing/get_staff", { method: "POST", body: { staff_id: username } }),
    api("/api/v1/sites?limit=500")]);
  const current = new Set(staff.site_ids);
  const notice = said;
  said = null;
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "deploy-h",
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, ["name"])) return;
      const body = { staff_id: username, name: form.elements.name.value.trim(),
        site_ids: [...form.querySelectorAll("input[name=site]:checked")].map((c) => c.value) };
      const reply = await submitting(form, () => api("/api/v1/commands/housing/assign_staff", { method: "POST", body }));
      if (reply) {
        said = t("deploy.saved", { n: body.site_ids.length });
        reroute();
      }
    } },
  field("deploy", { name: "name", label: t("deploy.name"), value: staff.name || "" }),
  h("fieldset", { id: "deploy-site_ids", "data-field": "site_ids", tabindex: "-1", "aria-describedby": "deploy-site_ids-error" },
    h("legend", {}, t("deploy.sites")),
    ...sites.items.map((s) => h("div", { class: "check" },
      h("input", { type: "checkbox", name: "site", value: s.site_id, id: `deploy-${s.site_id}`, checked: current.has(s.site_id) }),
      h("label", { for: `deploy-${s.site_id}` }, `${s.name} (${s.district})`))),
    h("p", { id: "deploy-site_ids-error", class: "field-error", hidden: true })),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("deploy.submit"))));
  fill(main,
    h("p", {}, h("a", { href: "#/users" }, `← ${t("users.title")}`)),
    h("h1", {}, t("deploy.title", { username })),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("p", { "data-deployed": [...current].sort().join(" ") },
      current.size ? t("deploy.now", { sites: sites.items.filter((s) => current.has(s.site_id)).map((s) => s.name).join(", ") })
        : t("deploy.none")),
    form,
    history(staff.history || [], sites.items));
  return t("deploy.title", { username });
}

function history(steps, sites) {
  const names = Object.fromEntries(sites.map((s) => [s.site_id, s.name]));
  const rows = [...steps].reverse(); // the latest first
  return h("section", { class: "card", "aria-labelledby": "history-h", "data-deployments": steps.length },
    h("h2", { id: "history-h" }, t("deploy.history")),
    rows.length ? h("table", {}, h("caption", { class: "visually-hidden" }, t("deploy.history")),
      h("thead", {}, h("tr", {}, ...["deploy.when", "deploy.to", "deploy.by"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...rows.map((d) => h("tr", { "data-deployment": d.site_ids.join(" ") },
        h("td", {}, when(d.at)), h("td", {}, d.site_ids.map((id) => names[id] || id).join(", ") || t("deploy.nowhere")),
        h("td", {}, d.by)))))
      : h("p", { class: "empty" }, t("deploy.no_history")));
}
