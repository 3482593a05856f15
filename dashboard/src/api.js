// The API client: same-origin JSON calls with the bearer access token, one silent refresh on 401 (refresh tokens
// rotate on every use), and the envelope unwrapped. The refresh token lives in sessionStorage (this tab only);
// the access token only in memory.

const REFRESH_KEY = "ms.refresh";
// Same origin by default (the local gateway; CloudFront with an /api/* behaviour); a build for a separate API
// domain sets VITE_API_BASE (dashboard/deploy.py --api-base URL).
const API_BASE = (import.meta.env.VITE_API_BASE || "").replace(/\/$/, "");
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, code, message, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
  /** One line naming each field and its problem, as the API reported them. */
  get detail() {
    if (!this.fields?.length || this.fields.every((f) => this.message.includes(f.reason))) return this.message;
    return this.message + ": " + this.fields.map((f) => `${f.field}: ${f.reason}`).join("; ");
  }
}

export const session = {
  accessToken: null,
  expiresAt: 0,
  role: null,
  userId: null,
  tenantId: null,
  get refreshToken() {
    return sessionStorage.getItem(REFRESH_KEY);
  },
  set refreshToken(value) {
    if (value) sessionStorage.setItem(REFRESH_KEY, value);
    else sessionStorage.removeItem(REFRESH_KEY);
  },
};

/** Called with (signedIn: boolean) whenever the session starts or ends. */
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function adopt(pair) {
  session.accessToken = pair.access_token;
  session.expiresAt = Date.now() + pair.expires_in * 1000;
  session.refreshToken = pair.refresh_token;
  session.role = pair.role;
  session.userId = pair.user_id;
  session.tenantId = pair.tenant_id;
  listeners.forEach((fn) => fn(true));
}

function clear() {
  session.accessToken = null;
  session.expiresAt = 0;
  session.refreshToken = null;
  session.role = session.userId = session.tenantId = null;
  listeners.forEach((fn) => fn(false));
}

async function raw(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.accessToken) headers.Authorization = `Bearer ${session.accessToken}`;
  let response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (exc) {
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and retry.");
  }
  if (response.status === 204) return { status: 204, payload: null };
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  return { status: response.status, payload };
}

function failure(status, payload) {
  const err = payload?.error || {};
  return new ApiError(status, err.code || "http_" + status, err.message || `HTTP ${status}`, err.fields || []);
}

let refreshing = null;

/** Exchange the refresh token once, however many requests are waiting for it. */
export function refresh() {
  if (!session.refreshToken) return Promise.resolve(false);
  if (!refreshing) {
    refreshing = raw("POST", "/api/v1/auth/refresh", { refresh_token: session.refreshToken })
      .then(({ status, payload }) => {
        if (status === 200) {
          adopt(payload.data);
          return true;
        }
        clear();
        return false;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export async function request(method, path, body) {
  // Refresh a little before expiry rather than eat a 401 on every page after 15 minutes.
  if (session.refreshToken && session.expiresAt && Date.now() > session.expiresAt - 30_000) await refresh();
  let { status, payload } = await raw(method, path, body);
  if (status === 401 && session.refreshToken && (await refresh())) {
    ({ status, payload } = await raw(method, path, body));
  }
  if (status === 401) {
    clear();
    throw failure(status, payload);
  }
  if (status >= 400 || (payload && payload.success === false)) throw failure(status, payload);
  return payload ? payload.data : null;
}

export const api = {
  get: (path, query) => request("GET", withQuery(path, query)),
  post: (path, body = {}) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
  del: (path) => request("DELETE", path),
};

export function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Collection endpoints answer either a page ({items, next_cursor}) or a plain list. */
export function items(data) {
  return Array.isArray(data) ? data : data?.items || [];
}

export async function signIn(email, password) {
  const { status, payload } = await raw("POST", "/api/v1/auth/token", { email, password });
  if (status !== 200) throw failure(status, payload);
  adopt(payload.data);
}

export async function signOut() {
  const token = session.refreshToken;
  clear();
  if (token) {
    try {
      await raw("POST", "/api/v1/auth/logout", { refresh_token: token });
    } catch {
      // Signed out locally either way; the refresh token expires on its own.
    }
  }
}

/** On page load: resume the tab's session from its refresh token, if any. */
export async function resume() {
  return session.refreshToken ? refresh() : false;
}
