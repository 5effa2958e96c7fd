// Signing in: user name and password; a first sign-in with a one-time password goes on
// to set one's own password, then signs in with it.
import { ApiFailure, MustChange, changePassword, signIn } from "./api.js";
import { fill, h } from "./dom.js";
import { field, requireFilled, showError, submitting } from "./forms.js";
import { t } from "./i18n.js";

export function signInPage(main, notice, done) {
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "signin-h",
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, ["username", "password"])) return;
      const { username, password } = form.elements;
      try {
        await submitting(form, async () => {
          try {
            await signIn(username.value.trim(), password.value);
            done();
          } catch (err) {
            if (!(err instanceof MustChange)) throw err;
            changePage(main, username.value.trim(), password.value, done);
          }
        }, { password: "password" });
      } catch (err) {
        showError(form, err);
      }
    } },
  field("signin", { name: "username", label: t("signin.username"), autocomplete: "username",
    autocapitalize: "none", spellcheck: "false", maxlength: 64 }),
  field("signin", { name: "password", label: t("signin.password"), type: "password",
    autocomplete: "current-password", maxlength: 256 }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("signin.submit"))));
  fill(main, h("h1", { id: "signin-h" }, t("signin.title")),
    notice ? h("p", { class: "error", role: "alert" }, notice) : null, form,
    h("p", { class: "hint" }, t("signin.help")));
  document.title = `${t("signin.title")} – ${t("brand")}`;
  form.elements.username.focus();
}

function changePage(main, username, current, done) {
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "change-h",
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, ["new_password", "repeat"])) return;
      const { new_password: fresh, repeat } = form.elements;
      if (fresh.value !== repeat.value) {
        showError(form, new ApiFailure(400, t("password.mismatch"), { field: "repeat" }));
        return;
      }
      await submitting(form, async () => {
        await changePassword(username, current, fresh.value);
        await signIn(username, fresh.value);
        done();
      }, { password: "new_password" });
    } },
  field("change", { name: "new_password", label: t("password.new"), type: "password",
    autocomplete: "new-password", hint: t("password.rules"), maxlength: 256 }),
  field("change", { name: "repeat", label: t("password.repeat"), type: "password",
    autocomplete: "new-password", maxlength: 256 }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("password.submit"))));
  fill(main, h("h1", { id: "change-h", tabindex: "-1" }, t("password.title")),
    h("p", {}, t("password.first", { username })), form);
  document.title = `${t("password.title")} – ${t("brand")}`;
  form.elements.new_password.focus();
}
