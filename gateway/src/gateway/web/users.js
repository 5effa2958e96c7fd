// The city admin's user accounts (GET/POST /api/v1/users, …/disable|enable|reset): a new
// or reset user gets a one-time password, shown once here, changed at the first sign-in.
import { api, me } from "./api.js";
import { fill, h } from "./dom.js";
import { field, requireFilled, submitting } from "./forms.js";
import { t, when } from "./i18n.js";

const ROLES = ["city_admin", "social_worker", "operator", "provider", "auditor"];
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let issued = null; // the one-time password just handed out, shown once after re-rendering

function state(u) {
  if (u.disabled) return t("users.disabled");
  if (u.locked_until) return t("users.locked", { until: when(u.locked_until) });
  return u.must_change ? t("users.new") : t("users.active");
}

function actions(u) {
  const act = (label, path, cls) => h("button", { type: "button", class: cls,
    "aria-label": `${label}: ${u.username}`,
    onclick: async (e) => {
      e.target.disabled = true;
      const reply = await submitting(e.target.closest("td"), () => api(`/api/v1/users/${encodeURIComponent(u.username)}/${path}`, { method: "POST" }));
      if (reply?.password) issued = reply;
      if (reply) reroute();
    } }, label);
  if (u.username === me()?.username) return h("span", { class: "hint" }, t("users.you"));
  return [u.disabled ? act(t("users.enable"), "enable", "secondary") : act(t("users.disable"), "disable", "danger"),
    " ", act(t("users.reset"), "reset", "secondary"),
    " ", h("a", { href: `#/staff/${encodeURIComponent(u.username)}/erase`,
      "aria-label": `${t("users.erase")}: ${u.username}` }, t("users.erase")),
    ...(u.role === "social_worker" ? [" ", h("a", { href: `#/users/${encodeURIComponent(u.username)}/deployment`,
      "aria-label": `${t("users.deploy")}: ${u.username}` }, t("users.deploy"))] : [])];
}

function addForm() {
  const role = field("user", { name: "role", label: t("users.role"), type: "select",
    options: ROLES.map((r) => [r, t(`role.${r}`)]), value: "social_worker" });
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "add-user-h",
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, ["username", "name"])) return;
      const data = Object.fromEntries([...new FormData(form)].filter(([, v]) => v.trim()));
      const reply = await submitting(form, () => api("/api/v1/users", { method: "POST", body: data }));
      if (reply) {
        issued = reply;
        reroute();
      }
    } },
  field("user", { name: "username", label: t("users.username"), hint: t("users.username_hint"),
    autocapitalize: "none", spellcheck: "false" }),
  field("user", { name: "name", label: t("users.name"), autocomplete: "off" }),
  role,
  field("user", { name: "operator", label: t("users.operator"), hint: t("users.operator_hint") }),
  field("user", { name: "provider", label: t("users.provider"), hint: t("users.provider_hint") }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("users.add"))));
  return h("section", { class: "card" }, h("h2", { id: "add-user-h" }, t("users.add_title")), form);
}

function handedOut() {
  if (!issued) return null;
  const { user, password } = issued;
  issued = null;
  return h("div", { class: "notice", role: "status", "data-one-time": user.username },
    h("p", {}, t("users.issued", { username: user.username })),
    h("p", {}, h("code", { class: "secret" }, password)),
    h("p", { class: "hint" }, t("users.issued_hint")));
}

export async function users(main) {
  const list = await api("/api/v1/users");
  const cols = ["username", "name", "role", "state"];
  fill(main,
    h("h1", {}, t("users.title")),
    handedOut(),
    h("div", { class: "card" }, h("table", {},
      h("caption", { class: "visually-hidden" }, t("users.title")),
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, t(`users.${c}`))),
        h("th", { scope: "col" }, t("users.actions")))),
      h("tbody", {}, ...list.map((u) => h("tr", { "data-user": u.username },
        h("th", { scope: "row" }, u.username), h("td", {}, u.name),
        h("td", {}, t(`role.${u.role}`) + (u.operator || u.provider ? ` (${u.operator || u.provider})` : "")),
        h("td", {}, state(u)), h("td", {}, actions(u))))))),
    addForm());
  return t("users.title");
}
