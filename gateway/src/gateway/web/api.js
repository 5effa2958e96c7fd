// The signed-in session and every API call. The short-lived session token is kept in
// this tab (sessionStorage); the refresh secret is an HttpOnly cookie the page cannot
// read. A call refused as expired is refreshed once and repeated; a session that cannot
// be refreshed (signed out, disabled, ended elsewhere) ends here too.
const TOKEN = "im.token";
const ME = "im.me";
// Set while this browser holds a session (the refresh cookie itself cannot be read), so a
// first visit does not ask for a refresh that must fail.
const HELD = "im.session";

export class Unauthorised extends Error {}

export class ApiFailure extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details || {};
  }
}

/** A first sign-in with a one-time password: the password must be changed first. */
export class MustChange extends Error {}

export const token = () => sessionStorage.getItem(TOKEN);
export const me = () => JSON.parse(sessionStorage.getItem(ME) || "null");

function keep(grant) {
  localStorage.setItem(HELD, "1");
  sessionStorage.setItem(TOKEN, grant.access_token);
  sessionStorage.setItem(ME, JSON.stringify(grant.user));
}

function forget() {
  localStorage.removeItem(HELD);
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(ME);
}

async function post(path, body, headers = {}) {
  const r = await fetch(path, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: JSON.stringify(body ?? {}) });
  return [r, await r.json().catch(() => null)];
}

export async function signIn(username, password) {
  const [r, reply] = await post("/api/auth/login", { username, password });
  if (r.status === 403 && reply?.details?.must_change) throw new MustChange(reply.message);
  if (!r.ok) throw new ApiFailure(r.status, reply?.message || r.statusText, reply?.details);
  keep(reply);
  return reply.user;
}

export async function changePassword(username, password, newPassword) {
  // Signed in, the session it is changed in goes on; every other one ends.
  const bearer = token();
  const [r, reply] = await post("/api/auth/password", { username, password, new_password: newPassword },
    bearer ? { Authorization: `Bearer ${bearer}` } : {});
  if (!r.ok) throw new ApiFailure(r.status, reply?.message || r.statusText, reply?.details);
}

let refreshing = null;

/** A new session token with the refresh cookie, once at a time; false when the session is over. */
export function refresh() {
  if (!localStorage.getItem(HELD)) return Promise.resolve(false);
  refreshing ??= (async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const [r, reply] = await post("/api/auth/refresh");
      if (r.ok) {
        keep(reply);
        return true;
      }
      // Another tab refreshed at the same moment: the shared cookie is already new.
      if (!reply?.details?.retry) break;
      await new Promise((ok) => setTimeout(ok, 300));
    }
    forget();
    return false;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

export async function signOut() {
  const bearer = token();
  forget();
  await post("/api/auth/logout", {}, bearer ? { Authorization: `Bearer ${bearer}` } : {}).catch(() => null);
}

export const role = () => me()?.role ?? null;

/** Whether the signed-in role is one of `roles` (only to leave out controls: the API checks every call). */
export const mayUse = (...roles) => roles.includes(role());

export async function api(path, { method = "GET", body } = {}, again = true) {
  const bearer = token();
  if (!bearer) throw new Unauthorised("");
  const headers = { Authorization: `Bearer ${bearer}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const reply = await r.json().catch(() => null);
  if (r.status === 401) {
    if (again && (await refresh())) return api(path, { method, body }, false);
    forget();
    throw new Unauthorised(reply?.message || "");
  }
  // A command stored but not done (202 `accepted`: its events wait for room on the bus)
  // is said as a refusal is; other 202s (an erasure under way) are answers.
  if (!r.ok || reply?.code === "accepted") {
    // The error's code and the command it refused let the dashboard say it in its language.
    throw Object.assign(new ApiFailure(r.status, reply?.message || r.statusText, reply?.details),
      { code: reply?.code, command: /^\/api\/v1\/commands\/([^/]+)\/([^/?]+)/.exec(path)?.slice(1).join(".") });
  }
  return reply;
}

/** The same call, but a refusal or failure yields null (for optional parts of a page). */
export async function optional(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e instanceof Unauthorised) throw e;
    return null;
  }
}
