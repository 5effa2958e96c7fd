// Every API call sends the bearer token kept in sessionStorage; a 401 ends the session.
const TOKEN = "im.token";

export class Unauthorised extends Error {}

export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const token = () => sessionStorage.getItem(TOKEN);
export const login = (value) => sessionStorage.setItem(TOKEN, value.trim().replace(/^Bearer\s+/i, ""));
export const logout = () => sessionStorage.removeItem(TOKEN);

/**
 * The role the token claims, or null when it cannot be read. Unverified, and only used to
 * leave out controls the API would refuse anyway: the API checks every call.
 */
export function role() {
  try {
    const claims = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(claims)).role ?? null;
  } catch {
    return null;
  }
}

/** Whether the token's role is one of `roles`; an unreadable token may try (the API decides). */
export const mayUse = (...roles) => {
  const r = role();
  return r === null || roles.includes(r);
};

export async function api(path, { method = "GET", body } = {}) {
  const bearer = token();
  if (!bearer) throw new Unauthorised("");
  const headers = { Authorization: `Bearer ${bearer}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const reply = await r.json().catch(() => null);
  if (r.status === 401) {
    logout();
    throw new Unauthorised(reply?.message || "");
  }
  if (!r.ok) throw new ApiFailure(r.status, reply?.message || r.statusText);
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
