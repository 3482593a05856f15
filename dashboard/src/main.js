import Alpine from "alpinejs";
import "./style.css";
import { api, items, onSessionChange, refresh, resume, session, signIn, signOut } from "./api.js";
import { destroyAll } from "./charts.js";
import { live } from "./live.js";
import { websocketTransport } from "./live_socket.js";
import * as fmt from "./format.js";
import { overviewPage } from "./pages/overview.js";
import { clientPage } from "./pages/client.js";
import { strategyPage } from "./pages/strategy.js";
import { budgetPage } from "./pages/budget.js";

const RANK = { client_viewer: 0, analyst: 1, admin: 2, owner: 3 };

// Paths of the single-page app; the gateway (and CloudFront's error response) answers index.html for them.
const ROUTES = [
  ["signin", /^\/signin\/?$/],
  ["overview", /^\/$/],
  ["client", /^\/clients\/([0-9a-fA-F-]{36})\/?$/],
  ["strategy", /^\/strategy\/?$/],
  ["budget", /^\/budget\/?$/],
  ["portal", /^\/portal\/?$/],
];
const AGENCY_PAGES = new Set(["overview", "strategy", "budget"]);

function parse(url) {
  const u = new URL(url, location.origin);
  for (const [name, re] of ROUTES) {
    const m = u.pathname.match(re);
    if (m) return { name, params: { id: m[1] }, query: Object.fromEntries(u.searchParams), path: u.pathname + u.search };
  }
  return { name: "not_found", params: {}, query: {}, path: u.pathname };
}

window.fmt = fmt;

// Live updates over the WebSocket API; a fresh access token on every (re)connect.
live.use(websocketTransport());
async function liveToken() {
  if (session.refreshToken && Date.now() > session.expiresAt - 30_000) await refresh();
  return session.accessToken;
}

Alpine.store("app", {
  ready: false,
  signedIn: false,
  tenant: null,
  me: null,
  clients: [],
  route: parse(location.href),
  toast: null,
  liveStatus: live.status,
  menuOpen: false,

  get role() {
    return this.me?.role || session.role;
  },
  can(minRole) {
    return (RANK[this.role] ?? -1) >= RANK[minRole];
  },
  get isViewer() {
    return this.role === "client_viewer";
  },
  get branding() {
    return this.tenant?.branding || {};
  },
  get nav() {
    if (!this.signedIn) return [];
    if (this.isViewer) return [{ href: "/portal", label: "Client portal", name: "portal" }];
    return [
      { href: "/", label: "Overview", name: "overview" },
      { href: "/strategy", label: "Strategy builder", name: "strategy" },
      { href: "/budget", label: "Budget planner", name: "budget" },
    ];
  },
  canSeeClient(id) {
    if (!this.me) return false;
    return this.me.client_ids === null || this.me.client_ids.includes(id);
  },

  async boot() {
    onSessionChange((on) => {
      this.signedIn = on;
      if (!on) {
        this.tenant = this.me = null;
        this.clients = [];
        live.stop();
      }
    });
    live.onStatus((status) => (this.liveStatus = status));
    window.addEventListener("popstate", () => this.resolve(parse(location.href)));
    document.addEventListener("click", (e) => {
      const a = e.target.closest("a[href]");
      if (!a || a.target || a.hasAttribute("download") || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0)
        return;
      const url = new URL(a.href, location.origin);
      if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/docs"))
        return;
      e.preventDefault();
      this.go(url.pathname + url.search);
    });
    if (await resume()) await this.loadContext();
    this.ready = true;
    this.resolve(parse(location.href), true);
  },

  async loadContext() {
    const view = await api.get("/api/v1/tenant");
    this.tenant = view.tenant;
    this.me = view.me;
    this.signedIn = true;
    this.clients = items(await api.get("/api/v1/clients", { limit: 200 }));
    this.applyBranding();
    live.start(liveToken);
  },

  applyBranding() {
    const b = this.branding;
    const root = document.documentElement;
    if (b.primary_color) root.style.setProperty("--brand", b.primary_color);
    else root.style.removeProperty("--brand");
    if (b.accent_color) root.style.setProperty("--accent", b.accent_color);
    else root.style.removeProperty("--accent");
  },

  go(path, replace = false) {
    const route = parse(path);
    if (replace) history.replaceState({}, "", route.path);
    else history.pushState({}, "", route.path);
    this.resolve(route);
  },

  resolve(route, initial = false) {
    this.menuOpen = false;
    if (!this.signedIn && route.name !== "signin") {
      const next = route.path !== "/" ? "?next=" + encodeURIComponent(route.path) : "";
      return this.go("/signin" + next, true);
    }
    if (this.signedIn && route.name === "signin") return this.go(this.isViewer ? "/portal" : "/", true);
    if (this.isViewer && AGENCY_PAGES.has(route.name)) return this.go("/portal", true);
    destroyAll();
    this.route = route;
    const titles = {
      signin: "Sign in",
      overview: "Agency overview",
      client: "Client",
      strategy: "Strategy builder",
      budget: "Budget planner",
      portal: "Client portal",
      not_found: "Not found",
    };
    document.title = `${titles[route.name]} · ${this.tenant?.name || "Marketing Strategist"}`;
    if (!initial) requestAnimationFrame(() => document.getElementById("main")?.focus());
  },

  async signIn(email, password) {
    await signIn(email, password);
    await this.loadContext();
    const next = this.route.query.next;
    const safe = next && next.startsWith("/") && !next.startsWith("//") ? next : null;
    this.go(safe || (this.isViewer ? "/portal" : "/"), true);
  },

  async signOut() {
    await signOut();
    this.go("/signin", true);
  },

  notify(message, kind = "info") {
    this.toast = { message, kind };
    clearTimeout(this._toastTimer);
    this._toastTimer = setTimeout(() => (this.toast = null), 6000);
  },
});

Alpine.data("signinForm", () => ({
  email: "",
  password: "",
  busy: false,
  error: "",
  async submit() {
    this.error = "";
    if (!this.email || !this.password) {
      this.error = "Enter your e-mail address and password.";
      return;
    }
    this.busy = true;
    try {
      await Alpine.store("app").signIn(this.email.trim(), this.password);
    } catch (exc) {
      this.error = exc.status === 401 ? "E-mail or password is not correct." : exc.detail || exc.message;
      this.password = "";
    } finally {
      this.busy = false;
    }
  },
}));

Alpine.data("overviewPage", overviewPage);
Alpine.data("clientPage", clientPage);
Alpine.data("strategyPage", strategyPage);
Alpine.data("budgetPage", budgetPage);

window.Alpine = Alpine;
Alpine.start();
Alpine.store("app").boot();

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  window.addEventListener("load", () => navigator.serviceWorker.register("/sw.js").catch(() => {}));
}
