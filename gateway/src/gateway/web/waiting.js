// The start page's "waiting for you": how many of each worklist wait for the signed-in
// role, each leading to its page. Counted by the owning services: the `total` of a page
// past the end, so that no one's data comes along (nor is a read of it audited); a
// service that does not run is left out.
import { Unauthorised, api, mayUse, me } from "./api.js";
import { h } from "./dom.js";
import { num, t } from "./i18n.js";

const count = (service, command, body) => api(`/api/v1/commands/${service}/${command}`,
  { method: "POST", body: { ...body, offset: 1e9, limit: 1 } }).then((p) => p.total).catch((e) => {
  if (e instanceof Unauthorised) throw e;
  return null;
});

// Cases due and referrals overdue: one figure (either part missing when its service is down).
const dueFollowUps = (running) => Promise.all([count("housing", "list_due_follow_ups", {}),
  running.includes("counselling") ? count("counselling", "list_referrals", { overdue: true }) : 0])
  .then(([cases, referrals]) => (cases === null ? null : cases + (referrals || 0)));

function lists(running) {
  if (mayUse("social_worker", "city_admin")) {
    return [["followups", "housing", "#/followups", () => dueFollowUps(running)],
      ["cases", "housing", "#/cases", () => count("housing", "list_move_out_cases", {})],
      ["referrals", "counselling", "#/referrals", () => count("counselling", "list_referrals", { owner: "city_team" })],
      ["kita", "education", "#/kita", () => count("education", "list_access_requests", {})],
      ["language", "education", "#/language", () => count("education", "list_language_waiting", {})]]
      .filter(([, service]) => running.includes(service)).map(([key, , href, n]) => [key, href, n()]);
  }
  if (mayUse("provider") && running.includes("education")) {
    // A course's days to register are counted in its row; here, the courses with any.
    const due = api("/api/v1/commands/education/list_courses", { method: "POST", body: { provider_id: me().provider, limit: 500 } })
      .then((p) => p.items.filter((c) => c.sessions_to_register).length).catch(() => null);
    return [["register", "#/courses", due]];
  }
  return [];
}

/** The section, or null when the role has no worklist (`running`: the services up now). */
export async function waiting(running) {
  const wanted = lists(running);
  if (!wanted.length) return null;
  const counts = await Promise.all(wanted.map(([, , n]) => n));
  const shown = wanted.map(([key, href], i) => [key, href, counts[i]]).filter(([, , n]) => n !== null);
  return h("section", { "aria-labelledby": "waiting-h", "data-waiting": "" },
    h("h2", { id: "waiting-h" }, t("waiting.title")),
    h("ul", { class: "waiting" }, ...shown.map(([key, href, n]) => h("li", { "data-worklist": key, "data-count": n },
      h("a", { href }, t(`waiting.${key}`, { n: num(n) }))))));
}
