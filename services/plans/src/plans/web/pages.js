// Plans' pages in the dashboard (the gateway serves this folder and lists it while plans
// runs): the social worker's worklist, a household's plan with its goals and steps, and
// plans' sections on the resident, site and city pages.
import { plan } from "./plan.js";
import { cityFigures, residentCard, siteCard } from "./sections.js";
import { worklist } from "./worklist.js";

export const routes = [
  [/^\/plans\/?$/, (main, params) => worklist(main, params), "#/plans"],
  [/^\/plans\/households\/([^/]+)$/, (main, params, id) => plan(main, id), "#/plans"],
];

export const nav = [{ href: "#/plans", key: "plans.nav", roles: ["city_admin", "social_worker"] }];

export const sections = { resident: residentCard, site: siteCard, stats: cityFigures };
