// One's own account: change the password (every other session ends), and see and end
// one's open sessions (another browser, a shared computer left signed in).
import { ApiFailure, api, changePassword, me } from "./api.js";
import { fill, h } from "./dom.js";
import { field, requireFilled, showError, submitting } from "./forms.js";
import { t, when } from "./i18n.js";

const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let said = null;

function passwordForm(username) {
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "pw-h",
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, ["password", "new_password", "repeat"])) return;
      const { password, new_password: fresh, repeat } = form.elements;
      if (fresh.value !== repeat.value) {
        showError(form, new ApiFailure(400, t("password.mismatch"), { field: "repeat" }));
        return;
      }
      const ok = await submitting(form, async () => {
        await changePassword(username, password.value, fresh.value);
        return true;
      });
      if (ok) {
        said = t("account.changed");
        reroute();
      }
    } },
  field("pw", { name: "password", label: t("account.current"), type: "password", autocomplete: "current-password" }),
  field("pw", { name: "new_password", label: t("password.new"), type: "password", autocomplete: "new-password", hint: t("password.rules") }),
  field("pw", { name: "repeat", label: t("password.repeat"), type: "password", autocomplete: "new-password" }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("account.change"))));
  return h("section", { class: "card" }, h("h2", { id: "pw-h" }, t("account.password")), form);
}

function sessionsTable(list) {
  return h("section", { class: "card", "aria-labelledby": "sessions-h" },
    h("h2", { id: "sessions-h" }, t("account.sessions")),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("account.since")),
        h("th", { scope: "col" }, t("account.until")), h("th", { scope: "col" }, t("users.actions")))),
      h("tbody", {}, ...list.map((s) => h("tr", { "data-session": s.current ? "current" : "other" },
        h("td", {}, when(s.created_at)), h("td", {}, when(s.expires_at)),
        h("td", {}, s.current ? h("span", { class: "hint" }, t("account.this")) : h("button", {
          type: "button", class: "secondary", "aria-label": t("account.end_at", { at: when(s.created_at) }),
          onclick: async (e) => {
            const done = await submitting(e.target.closest("td"), () =>
              api(`/api/auth/sessions/${encodeURIComponent(s.session_id)}/end`, { method: "POST" }));
            if (done) {
              said = t("account.ended");
              reroute();
            }
          } }, t("account.end"))))))));
}

export async function account(main) {
  const list = await api("/api/auth/sessions");
  const notice = said;
  said = null;
  fill(main, h("h1", {}, t("account.title")),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    passwordForm(me().username), sessionsTable(list));
  return t("account.title");
}
