// What the plans pages share: plans' commands through the gateway's generic route, the
// words for plans' values, members' names (housing's, each read audited), and the notice
// of what the last step saved, said once on the page drawn again.
import { api } from "/dashboard/api.js";
import { t } from "/dashboard/i18n.js";

export const FIELDS = ["housing", "language", "education", "work", "authorities", "health", "neighbourhood"];
export const PARTIES = ["social_worker", "operator", "provider", "resident"];
export const FACTS = ["language_course_enrolled", "language_course_completed", "kita_place_taken",
  "school_place_taken", "move_out_case_opened", "moved_out", "programme_joined",
  "programme_phase_completed", "placement", "tandem_started", "referral_accepted"];
export const LEVELS = ["A1", "A2", "B1"];
export const PLACEMENTS = ["internship", "vocational_training", "job"];
export const BY_HAND = ["in_progress", "reached", "dropped"];
export const REASONS = ["started", "confirmed", "moved_away", "no_longer_wanted", "not_reachable", "replaced", "other"];
export const OUTCOMES = ["on_track", "needs_support", "goals_changed", "stalled"];
export const CLOSING = ["goals_reached", "moved_away", "declined", "transferred", "other"];

/** A value of plans in the reader's language ("field", "housing" → "Wohnen"). */
export const word = (kind, v) => t(`plans.${kind}.${v}`);
export const choices = (kind, values) => values.map((v) => [v, word(kind, v)]);

export const command = (name, body) => api(`/api/v1/commands/plans/${name}`, { method: "POST", body });
export const today = () => new Date().toISOString().slice(0, 10);
export const planHref = (household) => `#/plans/households/${encodeURIComponent(household)}`;
export const residentHref = (id) => `#/residents/${encodeURIComponent(id)}`;

let saved = null;

/** Say what was saved on the page drawn again now. */
export function say(text) {
  saved = text;
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** What the last step saved (once), or null. */
export function said() {
  const text = saved;
  saved = null;
  return text;
}

/** The plan's members as choices: [resident id, name]. */
export const memberChoices = (view, names) => view.members.map((m) => [m.resident_id, names[m.resident_id] || m.resident_id]);

/** Residents' names from housing (id → "Given Family"; the id where housing does not answer). */
export async function names(ids) {
  const found = await Promise.all(ids.map((resident_id) => api("/api/v1/commands/housing/get_resident",
    { method: "POST", body: { resident_id } }).catch(() => null)));
  return Object.fromEntries(ids.map((id, i) => [id, found[i] ? `${found[i].given_name} ${found[i].family_name}` : id]));
}
