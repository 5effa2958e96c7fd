// The staff's work on a resident's household, on the resident's page: place or transfer
// it, open its move-out case, move the case on, record offers and viewings (housing's
// commands). After each step the page shows the new state and says what was saved.
import { api, mayUse } from "./api.js";
import { fill, h } from "./dom.js";
import { checkbox, commandForm, field } from "./forms.js";
import { STATUSES, placeableSites } from "./households.js";
import { t, value } from "./i18n.js";

const STAGES = ["searching", "offer_received", "viewing", "lease_signed", "moving", "moved_out", "paused", "cancelled"];
const OUTCOMES = ["pending", "accepted", "declined", "refused_by_landlord"];
const TERMINAL = ["moved_out", "cancelled"];
const today = () => new Date().toISOString().slice(0, 10);
const reroute = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
let saved = null; // what the last step saved, said once on the re-rendered page
let lastOffer = {}; // case id -> the offer recorded last in this tab (for the viewing form)

const list = (text) => (text || "").split(/\s*,\s*/).filter(Boolean);
const WBS = ["none", "applied", "granted"];
const HELP = ["furniture", "address_registration", "utilities", "job_centre"];
const command = (name, extra) => (body) => api(`/api/v1/commands/housing/${name}`,
  { method: "POST", body: { ...body, ...extra } });

// One step of the work: a command form that, once saved, says so on the re-rendered page.
function step(id, title, fields, submit, send, numeric = [], required = []) {
  return commandForm({ id, title, fields, submit, send, numeric, required, names: { wanted: "stage" },
    done: (reply) => {
      saved = t(`work.saved.${id}`, { ...reply, stage: value(reply.stage || ""),
        residence_status: value(reply.residence_status || "") });
      reroute();
    } });
}

function placement(hh, sites, here) {
  return step("place", here ? t("work.transfer") : t("work.place"), [
    field("place", { name: "site_id", label: t("household.site"), type: "select",
      options: [["", t("household.choose")], ...sites.filter((s) => s.site_id !== here)
        .map((s) => [s.site_id, `${s.name} (${s.occupancy}/${s.capacity})`])] }),
    field("place", { name: "on", label: t("household.on"), type: "date", value: today() }),
  ], here ? t("work.transfer_submit") : t("work.place_submit"),
  (body) => api(`/api/v1/households/${encodeURIComponent(hh)}/placement`, { method: "POST", body }), [], ["site_id"]);
}

const REASONS = ["own_flat", "other_municipality", "departed"];

// Moved out, the household lives at none of a social worker's sites, so its page is no
// longer hers: the work card says so in place and leads back to the site.
function moveOut(hh) {
  return commandForm({ id: "moveout", title: t("work.move_out"), required: ["reason"], fields: [
    field("moveout", { name: "reason", label: t("work.move_out_reason"), type: "select",
      options: [["", t("household.choose")], ...REASONS.map((r) => [r, value(r)])] }),
    field("moveout", { name: "on", label: t("work.move_out_on"), type: "date", value: today() }),
  ], submit: t("work.move_out_submit"),
  send: (body) => api(`/api/v1/households/${encodeURIComponent(hh)}/move-out`, { method: "POST", body }),
  done: (reply) => {
    const card = document.querySelector(`[data-work="${CSS.escape(hh)}"]`);
    fill(card, h("h2", { tabindex: "-1" }, t("work.title")),
      h("p", { class: "notice", role: "status" }, t("work.saved.moveout", reply)),
      h("p", {}, h("a", { href: `#/residents?site=${encodeURIComponent(reply.site_id)}` }, t("work.back_to_site"))));
    card.querySelector("h2").focus();
  } });
}

function status(housing) {
  return step("status", t("work.status"), [
    field("status", { name: "residence_status", label: t("household.residence_status"), type: "select",
      options: STATUSES.map((v) => [v, value(v)]), value: housing.residence_status }),
  ], t("work.status_submit"), command("change_residence_status", { resident_id: housing.resident_id }));
}

function criteria(c) {
  return step("criteria", t("work.criteria"), [
    field("criteria", { name: "household_size", label: t("work.household_size"), inputmode: "numeric" }),
    field("criteria", { name: "rent_ceiling", label: t("work.rent_ceiling"), inputmode: "decimal" }),
    field("criteria", { name: "districts", label: t("work.districts"), hint: t("work.districts_hint") }),
    field("criteria", { name: "wbs", label: t("work.wbs"), type: "select", options: WBS.map((w) => [w, t(`work.wbs.${w}`)]) }),
    checkbox("criteria", { name: "accessible", label: t("work.accessible") }),
  ], t("work.criteria_submit"), (body) => command("set_search_criteria", { case_id: c.case_id })(
    { ...body, districts: list(body.districts) }), ["household_size", "rent_ceiling"]);
}

function movingHelp(c) {
  const done = c.help || {};
  return step("help", t("work.help"), HELP.map((item) => checkbox("help", { name: item, label: value(item), checked: !!done[item] })),
    t("work.help_submit"), async (body) => {
      let last = { stage: c.stage };
      for (const item of HELP.filter((i) => body[i] !== !!done[i])) {
        last = await command("tick_moving_help", { case_id: c.case_id })({ item, done: body[item] });
      }
      return last;
    });
}

function caseSteps(c) {
  const path = `/api/v1/move-out-cases/${encodeURIComponent(c.case_id)}`;
  const post = (tail) => (body) => api(`${path}/${tail}`, { method: "POST", body })
    .then((r) => { if (r.offer_id) lastOffer[c.case_id] = r.offer_id; return r; });
  return [
    criteria(c),
    ["lease_signed", "moving"].includes(c.stage) ? movingHelp(c) : null,
    step("advance", t("work.advance"), [
      field("advance", { name: "stage", label: t("work.stage"), type: "select",
        options: [["", t("household.choose")], ...STAGES.filter((s) => s !== c.stage).map((s) => [s, value(s)])] }),
      field("advance", { name: "reason", label: t("work.reason"), hint: t("work.reason_hint") }),
    ], t("work.advance_submit"), post("stage"), [], ["stage"]),
    step("offer", t("work.offer"), [
      field("offer", { name: "landlord", label: t("work.landlord") }),
      field("offer", { name: "address", label: t("work.address") }),
      field("offer", { name: "district", label: t("work.district") }),
      field("offer", { name: "rooms", label: t("work.rooms"), inputmode: "numeric" }),
      field("offer", { name: "rent", label: t("work.rent"), inputmode: "decimal" }),
      field("offer", { name: "available_from", label: t("work.available_from"), type: "date" }),
    ], t("work.offer_submit"), post("offers"), ["rooms", "rent"]),
    step("viewing", t("work.viewing"), [
      field("viewing", { name: "offer_id", label: t("work.offer_id"), value: lastOffer[c.case_id] || c.offer_id || "" }),
      field("viewing", { name: "on", label: t("work.viewing_on"), type: "date", value: today() }),
      field("viewing", { name: "outcome", label: t("work.outcome"), type: "select",
        options: OUTCOMES.map((o) => [o, value(o)]) }),
    ], t("work.viewing_submit"), post("viewings")),
  ];
}

/** The work area of a resident's page (staff only), from housing's section of it. */
export async function casework(housing) {
  if (!housing || !mayUse("city_admin", "social_worker")) return null;
  const said = saved;
  saved = null;
  const hh = housing.household_id;
  const c = housing.move_out_case;
  const sites = await placeableSites();
  const open = c && !TERMINAL.includes(c.stage);
  return h("section", { class: "card", "aria-labelledby": "work-h", "data-work": hh },
    h("h2", { id: "work-h" }, t("work.title")),
    said ? h("p", { class: "notice", role: "status" }, said) : null,
    h("p", {}, t("work.household", { id: hh })),
    status(housing),
    placement(hh, sites, housing.site?.site_id),
    housing.site ? moveOut(hh) : null,
    c ? h("p", { "data-case": c.case_id, "data-stage": c.stage },
      t("work.case_is", { id: c.case_id, stage: value(c.stage), offers: c.offers, viewings: c.viewings }))
      : h("p", {}, t("work.no_case")),
    !c || !open ? step("open", t("work.open"), [], t("work.open_submit"),
      () => api(`/api/v1/households/${encodeURIComponent(hh)}/move-out-case`, { method: "POST", body: {} })) : null,
    ...(open ? caseSteps(c).filter(Boolean) : []));
}
