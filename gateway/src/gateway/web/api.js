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

export async function api(path) {
  const bearer = token();
  if (!bearer) throw new Unauthorised("");
  const r = await fetch(path, {
    headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
  });
  const body = await r.json().catch(() => null);
  if (r.status === 401) {
    logout();
    throw new Unauthorised(body?.message || "");
  }
  if (!r.ok) throw new ApiFailure(r.status, body?.message || r.statusText);
  return body;
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
