// Forms whose refusals are shown next to the field they concern: every field has a
// label, an (empty) error slot it is described by, and is marked invalid when refused.
// The API names the field in `details.field`, or the service's message says where
// ("… at `$.members[0].birth_year`", "missing required field `name`").
import { ApiFailure, Unauthorised } from "./api.js";
import { h } from "./dom.js";
import { t, value } from "./i18n.js";

const slug = (name) => name.replace(/[^\w-]+/g, "-").replace(/-+$/, "");
export const fieldId = (form, name) => `${form}-${slug(name)}`;

/**
 * A labelled control. `type` "select" takes `options` [[value, label]…]; `hint` is shown
 * under the label and read with the field.
 */
export function field(form, { name, label, type = "text", options = [], hint, value, ...attrs }) {
  const id = fieldId(form, name);
  const described = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  const common = { id, name, "aria-describedby": described, "data-field": name, ...attrs };
  const control = type === "select"
    ? h("select", common, ...options.map(([v, l]) => h("option", { value: v, selected: v === value }, l)))
    : h("input", { ...common, type, value });
  return h("div", { class: "field", "data-for": name },
    h("label", { for: id }, label),
    hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null,
    control,
    h("p", { id: `${id}-error`, class: "field-error", hidden: true }));
}

/** Where a refusal points: the field's name as the form knows it, or null. */
export function fieldOf(error) {
  if (!(error instanceof ApiFailure)) return null;
  if (error.details.field) return error.details.field;
  const at = /at `\$\.([^`]+)`/.exec(error.message)?.[1];
  const missing = /required field `([^`]+)`/.exec(error.message)?.[1];
  const path = [at, missing].filter(Boolean).join(".");
  return path ? path.replace(/\[(\d+)\]/g, ".$1") : null;
}

// The contracts' validation messages (msgspec's), said in the user's language; a
// service's own reasons (a full site, a step a case cannot take) are shown as it says them.
const EXPLAINED = [
  [/missing required field/, "reason.required"],
  [/Expected `int( \| null)?`, got/, "reason.integer"],
  [/Expected `(float|number)( \| null)?`, got/, "reason.number"],
  [/Expected `(date|str)`, got `str`.*date|Invalid (RFC 3339 encoded )?date/, "reason.date"],
  [/Expected `str` of length <= (\d+)/, "reason.too_long", "max"],
  [/Expected `str` of length >= (\d+)/, "reason.too_short", "min"],
  [/Expected `(int|float|number)` <= ([\d.]+)/, "reason.at_most", "", "max"],
  [/Expected `(int|float|number)` >= ([\d.]+)/, "reason.at_least", "", "min"],
  [/Expected `array` of length <= (\d+)/, "reason.too_many", "max"],
  [/matching regex/, "reason.format"],
  [/Invalid enum value/, "reason.choice"],
];

/**
 * A service's own refusal in the user's language: services answer in English, with a
 * code and the field (`details.field`) or rule (`details.rule`) they refuse; the
 * dictionary's `refusal.<service>.<command>.<field|rule|code>` says it, the details
 * filling its placeholders. Unknown ones are shown as the service says them.
 */
function refusal(error, text) {
  if (!error.command) return text;
  const about = error.details.field || error.details.rule;
  const service = error.command.split(".")[0];
  const keys = [about && `refusal.${error.command}.${about}`, about && `refusal.${service}.${about}`,
    `refusal.${error.command}.${error.code}`];
  const key = keys.find((k) => k && t(k) !== k);
  const said = Object.fromEntries(Object.entries(error.details).map(([k, v]) => [k, value(String(v))]));
  return key ? t(key, said) : text;
}

/** The reason for a refusal, without the command's name in front ("invalid x: …"). */
export function reason(error) {
  const text = error.message.replace(/^invalid [\w -]+: /, "").replace(/ - at `\$\.[^`]+`$/, "");
  for (const [re, key, ...names] of EXPLAINED) {
    const m = re.exec(text);
    if (m) return t(key, Object.fromEntries(names.map((n, i) => [n, m[i + 1]]).filter(([n]) => n)));
  }
  return refusal(error, text);
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  form.querySelector(".form-error")?.remove();
}

/**
 * Show `error` next to its field (focused), else at the top of the form as an alert.
 * `names` maps a field the API names to the form's own name when they differ.
 */
export function showError(form, error, names = {}) {
  clearErrors(form);
  let name = fieldOf(error);
  if (name && !form.querySelector(`[data-field="${CSS.escape(name)}"]`)) {
    name = names[name] ?? names[name.split(".").pop()] ?? name.split(".").pop();
  }
  const find = (n) => (n ? form.querySelector(`[data-field="${CSS.escape(n)}"]`) : null);
  // A refusal about a thing the form names (a full site: details.site_id) goes to that field.
  const control = find(name) || (error instanceof ApiFailure
    ? Object.keys(error.details).map((k) => find(names[k] ?? k)).find(Boolean) : null);
  const text = error instanceof ApiFailure ? reason(error) : String(error.message || error);
  if (control) {
    const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
    slot.textContent = text;
    slot.hidden = false;
    control.setAttribute("aria-invalid", "true");
    control.focus();
    return;
  }
  const alert = h("p", { class: "form-error error", role: "alert", tabindex: "-1" }, text);
  form.prepend(alert);
  alert.focus();
}

/** A required field left empty, shown like the API's refusals; true when all are filled. */
export function requireFilled(form, names) {
  clearErrors(form);
  for (const name of names) {
    const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (control && !control.value.trim()) {
      showError(form, new ApiFailure(400, t("form.required"), { field: name }));
      return false;
    }
  }
  return true;
}

/** Run `action` with the submit button disabled; a refusal is shown on the form. */
export async function submitting(form, action, names) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    clearErrors(form);
    return await action();
  } catch (e) {
    if (e instanceof Unauthorised) {
      window.dispatchEvent(new CustomEvent("im:signedout", { detail: e.message }));
      return undefined;
    }
    if (!(e instanceof ApiFailure)) throw e;
    showError(form, e, names);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Only what was filled in; checkboxes as booleans; `numeric` fields as numbers when they are (the service says the rest). */
export function values(form, numeric = []) {
  const out = {};
  for (const el of form.querySelectorAll("[data-field]")) {
    if (el.type === "checkbox") {
      out[el.dataset.field] = el.checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw) out[el.dataset.field] = numeric.includes(el.dataset.field) && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** A labelled checkbox with its own error slot. */
export function checkbox(form, { name, label, checked }) {
  const id = `${form}-${name}`;
  return h("div", { class: "check" },
    h("input", { id, name, type: "checkbox", checked, "data-field": name, "aria-describedby": `${id}-error` }),
    h("label", { for: id }, label),
    h("p", { id: `${id}-error`, class: "field-error", hidden: true }));
}

/**
 * One command as a form with its heading: `send(values)` calls the API; on success
 * `done(reply)` (the page then renders again); refusals are shown next to their fields.
 */
export function commandForm({ id, title, fields, submit, send, done, numeric = [], required = [], names = {} }) {
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": `${id}-h`, "data-form": id,
    onsubmit: async (e) => {
      e.preventDefault();
      if (!requireFilled(form, required)) return;
      const reply = await submitting(form, () => send(values(form, numeric)), names);
      if (reply) done(reply);
    } },
  ...fields, h("div", { class: "actions" }, h("button", { type: "submit" }, submit)));
  return h("section", { class: "card work" }, h("h3", { id: `${id}-h` }, title), form);
}
