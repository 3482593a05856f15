import Alpine from "alpinejs";
import { api, items } from "../api.js";
import * as charts from "../charts.js";
import { color, platform, money, num, pct, ratio } from "../format.js";
import { live } from "../live.js";
import { errorText, goalCheck, pool, rendered } from "./util.js";

// The client view (also the client portal, read-only, for a client viewer): KPI tiles with their comparison,
// trends per platform, platform mix, top campaigns, pacing, campaign insights (drivers, anomalies, forecast),
// connections and experiments.

const KPIS = [
  { key: "spend", label: "Spend", kind: "money", formula: "sum of spend over the period (campaign-total rows)" },
  { key: "revenue", label: "Revenue", kind: "money", formula: "sum of attributed conversion value" },
  { key: "conversions", label: "Conversions", kind: "num", formula: "sum of conversions (each platform's window)" },
  { key: "roas", label: "ROAS", kind: "ratio", formula: "revenue / spend", parts: ["revenue", "spend"] },
  { key: "cpa", label: "CPA", kind: "money", formula: "spend / conversions", parts: ["spend", "conversions"], lower: true },
  { key: "ctr", label: "CTR", kind: "pct", formula: "clicks / impressions × 100", parts: ["clicks", "impressions"] },
  { key: "cpc", label: "CPC", kind: "money", formula: "spend / clicks", parts: ["spend", "clicks"], lower: true },
  { key: "cpm", label: "CPM", kind: "money", formula: "spend / impressions × 1000", parts: ["spend", "impressions"], lower: true },
];

const TREND_METRICS = [
  { key: "spend", label: "Spend" },
  { key: "revenue", label: "Revenue" },
  { key: "conversions", label: "Conversions" },
  { key: "clicks", label: "Clicks" },
  { key: "impressions", label: "Impressions" },
];

export function clientPage() {
  return {
    loading: true,
    error: "",
    denied: false,
    clientId: null,
    client: null,
    range: "30d",
    compare: "previous_period",
    dash: null,
    trendMetric: "spend",
    trendTable: [],
    mixTable: [],
    connections: [],
    connError: "",
    connBusy: {},
    connForm: { open: false, platform: "google_ads", name: "", credentials: "", error: "", busy: false },
    reconnect: { id: null, credentials: "", error: "", busy: false },
    experiments: [],
    expError: "",
    campaigns: [],
    insightId: "",
    insight: null,
    insightLoading: false,
    insightError: "",
    portalChoices: [],
    alerts: [],
    alertsError: "",
    alertBusy: {},
    recs: [],
    recsError: "",
    recBusy: {},
    recPreview: {},
    optimizing: false,
    reports: [],
    reportsError: "",
    reportBusy: {},
    reportForm: { period: "last_month", busy: false, error: "" },
    reportPreview: null,
    sendForm: { id: null, recipients: "", message: "", busy: false, error: "" },
    schedules: [],
    scheduleForm: { open: false, frequency: "monthly", recipients: "", busy: false, error: "" },
    chat: { open: false, input: "", busy: false, error: "", conversationId: null, messages: [] },
    KPIS,
    TREND_METRICS,
    _unsubscribe: null,

    async init() {
      const app = Alpine.store("app");
      if (app.route.name === "portal") {
        const own = app.me?.client_ids ?? app.clients.map((c) => c.id);
        this.portalChoices = app.clients.filter((c) => own.includes(c.id));
        this.clientId = app.route.query.client || this.portalChoices[0]?.id || null;
        if (!this.clientId) {
          this.loading = false;
          this.error = "No client is shared with your account yet.";
          return;
        }
      } else {
        this.clientId = app.route.params.id;
      }
      if (!app.canSeeClient(this.clientId)) {
        this.denied = true;
        this.loading = false;
        return;
      }
      // A live event refreshes the figures in place (no loading state, no redraw of the page around an open
      // form or preview), once per burst of events.
      let pending = null;
      this._unsubscribe = live.on("*", (e) => {
        if (e.client_id !== this.clientId) return;
        clearTimeout(pending);
        pending = setTimeout(() => this.load({ quiet: true }), 400);
      });
      await this.load();
    },

    destroy() {
      this._unsubscribe?.();
    },

    get readOnly() {
      return !Alpine.store("app").can("analyst");
    },

    async load({ quiet = false } = {}) {
      if (!quiet) {
        this.loading = true;
        this.error = "";
      }
      try {
        const [client, dash] = await Promise.all([
          api.get(`/api/v1/clients/${this.clientId}`),
          api.get("/api/v1/analytics/dashboard", { client_id: this.clientId, date_range: this.range, compare: this.compare }),
        ]);
        this.client = client;
        this.dash = dash;
        this.loading = false;
        await rendered(this);
        this.drawTrend();
        this.drawMix();
        const top = dash.top_campaigns[0];
        if (top && !this.insightId) this.insightId = top.id;
        this.loadConnections();
        this.loadExperiments();
        this.loadAlerts();
        this.loadRecs();
        this.loadReports();
        if (this.insightId) this.loadInsight();
      } catch (exc) {
        if (exc.status === 403 || exc.status === 404) this.denied = true;
        // a failed background refresh keeps the figures on screen; the live indicator tells about the link
        if (!quiet || this.denied) this.error = errorText(exc);
        this.loading = false;
      }
    },

    // -- KPI tiles -----------------------------------------------------------------------------------------
    tile(k) {
      const m = this.dash.overview[k.key];
      const cur = this.dash.currency;
      const show = (v) =>
        k.kind === "money" ? money(v, cur) : k.kind === "ratio" ? ratio(v) : k.kind === "pct" ? pct(v, 2) : num(v, 0);
      const change = m.change_pct === null || m.change_pct === undefined ? null : Number(m.change_pct);
      const good = change === null ? null : k.lower ? change < 0 : change > 0;
      const parts = (k.parts || []).map((p) => {
        const pm = this.dash.overview[p];
        const kind = p === "spend" || p === "revenue" ? money(pm.value, cur) : num(pm.value, 0);
        return `${p} = ${kind}`;
      });
      const goal = goalCheck(this.client, k.key, m.value);
      return {
        ...k,
        value: show(m.value),
        previous: show(m.previous),
        change,
        changeText: change === null ? "no comparison" : pct(change, 1, true),
        good,
        explain: [
          `${k.label} = ${k.formula}` + (parts.length ? ` (${parts.join(", ")})` : ""),
          `Previous: ${show(m.previous)} over ${this.dash.comparison_period ? this.dash.comparison_period.start + " – " + this.dash.comparison_period.end : "—"}; change % = (value − previous) / previous × 100.`,
          m.note || "",
        ].filter(Boolean),
        goal: goal
          ? { ...goal, text: `goal ${goal.direction === "min" ? "≤" : "≥"} ${k.kind === "ratio" ? ratio(goal.target) : show(goal.target)}` }
          : null,
      };
    },

    // -- trends and mix ------------------------------------------------------------------------------------
    drawTrend() {
      const t = this.dash?.performance_trends;
      if (!t) return;
      const dates = t.totals.map((p) => p.date);
      const series = t.series.map((s, i) => {
        const byDate = Object.fromEntries(s.points.map((p) => [p.date, Number(p[this.trendMetric])]));
        return { label: platform(s.platform), color: color(s.platform, i), values: dates.map((d) => byDate[d] ?? null) };
      });
      this.trendTable = dates.map((d, i) => ({ date: d, values: series.map((s) => s.values[i]) }));
      this.trendSeries = series.map((s) => s.label);
      const money_ = ["spend", "revenue"].includes(this.trendMetric);
      charts.lines("chart-trend", dates, series, { yTitle: money_ ? this.dash.currency : this.trendMetric });
    },
    trendSeries: [],

    drawMix() {
      const rows = this.dash?.platform_breakdown || [];
      this.mixTable = rows;
      if (!rows.length) return;
      charts.doughnut(
        "chart-mix",
        rows.map((r) => platform(r.platform)),
        rows.map((r) => Number(r.spend)),
        rows.map((r, i) => color(r.platform, i)),
      );
    },

    get pacing() {
      return this.dash?.pacing?.clients?.find((p) => p.client_id === this.clientId) || null;
    },

    pacingWidth(p) {
      if (!p || !Number(p.monthly_budget)) return 0;
      return Math.min(100, (Number(p.month_to_date_spend) / Number(p.monthly_budget)) * 100);
    },
    expectedWidth(p) {
      if (!p || !Number(p.monthly_budget)) return 0;
      return Math.min(100, (Number(p.expected_to_date) / Number(p.monthly_budget)) * 100);
    },

    // -- insights ------------------------------------------------------------------------------------------
    async loadInsight() {
      if (!this.insightId) return;
      const id = this.insightId;
      this.insightLoading = true;
      this.insightError = "";
      try {
        const insight = await api.get(`/api/v1/campaigns/${id}/insights`, { date_range: "30d" });
        // a slower answer for a campaign no longer selected (the page's first load, a click since) is dropped
        if (this.insightId !== id) return;
        this.insight = insight;
        this.insightLoading = false;
        await rendered(this);
        this.drawDrivers();
      } catch (exc) {
        if (this.insightId !== id) return;
        this.insight = null;
        this.insightError = errorText(exc);
      } finally {
        if (this.insightId === id) this.insightLoading = false;
      }
    },

    drawDrivers() {
      const kpis = (this.insight?.drivers?.kpis || []).filter((k) => k.components.length);
      if (!kpis.length) return;
      const names = [...new Set(kpis.flatMap((k) => k.components.map((c) => c.name)))];
      const palette = ["#2563eb", "#f97316", "#16a34a", "#a855f7", "#64748b", "#0891b2"];
      charts.bars(
        "chart-drivers",
        kpis.map((k) => k.kpi.toUpperCase()),
        names.map((n, i) => ({
          label: n.toUpperCase(),
          color: palette[i % palette.length],
          values: kpis.map((k) => k.components.find((c) => c.name === n)?.pct_points ?? 0),
        })),
        { horizontal: true, xTitle: "percentage points of the KPI's change" },
      );
    },

    // -- connections ---------------------------------------------------------------------------------------
    async loadConnections() {
      this.connError = "";
      try {
        this.connections = items(await api.get(`/api/v1/clients/${this.clientId}/connections`));
      } catch (exc) {
        this.connError = errorText(exc);
      }
    },

    async connAction(conn, action) {
      this.connBusy = { ...this.connBusy, [conn.id]: action };
      try {
        const base = `/api/v1/clients/${this.clientId}/connections/${conn.id}`;
        if (action === "test") {
          const r = await api.post(`${base}/test`);
          Alpine.store("app").notify(
            r.ok ? `${conn.name}: the platform answered (account ${r.account_id || conn.account_id}).` : `${conn.name}: ${r.error}`,
            r.ok ? "success" : "error",
          );
        } else if (action === "sync") {
          const r = await api.post(`${base}/sync`);
          Alpine.store("app").notify(`Sync queued for ${r.window_start} – ${r.window_end}.`, "success");
        }
        await this.loadConnections();
      } catch (exc) {
        Alpine.store("app").notify(errorText(exc), "error");
      } finally {
        this.connBusy = { ...this.connBusy, [conn.id]: null };
      }
    },

    parseCredentials(text) {
      try {
        const v = JSON.parse(text);
        if (v && typeof v === "object" && !Array.isArray(v)) return v;
      } catch {
        // fall through
      }
      throw new Error('Credentials must be a JSON object, e.g. {"ad_account_id": "…", "access_token": "…"}.');
    },

    async connect() {
      const f = this.connForm;
      f.error = "";
      f.busy = true;
      try {
        const body = { platform: f.platform, credentials: this.parseCredentials(f.credentials) };
        if (f.name.trim()) body.name = f.name.trim();
        await api.post(`/api/v1/clients/${this.clientId}/connections`, body);
        Object.assign(f, { open: false, name: "", credentials: "" });
        Alpine.store("app").notify("Connected; the first sync is queued.", "success");
        await this.loadConnections();
      } catch (exc) {
        f.error = exc.detail || exc.message;
      } finally {
        f.busy = false;
      }
    },

    async submitReconnect(conn) {
      const r = this.reconnect;
      r.error = "";
      r.busy = true;
      try {
        await api.post(`/api/v1/clients/${this.clientId}/connections/${conn.id}/reconnect`, {
          credentials: this.parseCredentials(r.credentials),
        });
        Object.assign(r, { id: null, credentials: "" });
        Alpine.store("app").notify(`${conn.name} reconnected.`, "success");
        await this.loadConnections();
      } catch (exc) {
        r.error = exc.detail || exc.message;
      } finally {
        r.busy = false;
      }
    },

    // -- experiments ---------------------------------------------------------------------------------------
    async loadExperiments() {
      this.expError = "";
      try {
        const list = items(await api.get("/api/v1/experiments", { client_id: this.clientId, limit: 20 }));
        const detailed = await pool(list, 3, (e) => api.get(`/api/v1/experiments/${e.id}`));
        this.experiments = list.map((e, i) => (detailed[i].ok ? detailed[i].value : e));
      } catch (exc) {
        this.expError = errorText(exc);
      }
    },

    interval(c) {
      const cs = c.confidence_sequence_relative?.[0] !== null && c.confidence_sequence_relative
        ? c.confidence_sequence_relative.map((x) => pct(x * 100, 1, true))
        : c.confidence_sequence?.map((x) => num(x, 4));
      return cs ? `${cs[0]} … ${cs[1]}` : "—";
    },

    intervalBar(c) {
      const rel = c.confidence_sequence_relative;
      if (!rel || rel[0] === null) return null;
      const lo = Math.max(-100, rel[0] * 100);
      const hi = Math.min(100, rel[1] * 100);
      const mid = (c.relative_difference ?? 0) * 100;
      const x = (v) => 50 + Math.max(-100, Math.min(100, v)) / 2;
      return { left: x(lo), width: Math.max(0.8, x(hi) - x(lo)), mid: x(mid) };
    },

    // -- alerts (issue 6): acknowledge, snooze ----------------------------------------------------------------
    async loadAlerts() {
      this.alertsError = "";
      try {
        const list = items(await api.get("/api/v1/alerts", { client_id: this.clientId, limit: 100 }));
        const order = { open: 0, acknowledged: 1, snoozed: 2, resolved: 3 };
        const sev = { critical: 0, warning: 1, info: 2 };
        this.alerts = list
          .filter((a) => a.state !== "resolved")
          .sort((a, b) => order[a.state] - order[b.state] || (sev[a.severity] ?? 3) - (sev[b.severity] ?? 3));
      } catch (exc) {
        this.alertsError = errorText(exc);
      }
    },

    async alertAction(alert, action, days) {
      this.alertBusy = { ...this.alertBusy, [alert.id]: action };
      try {
        const body = action === "snooze" ? { until: new Date(Date.now() + days * 86400_000).toISOString() } : {};
        await api.post(`/api/v1/alerts/${alert.id}/${action}`, body);
        Alpine.store("app").notify(action === "snooze" ? `Snoozed for ${days} day(s).` : "Acknowledged.", "success");
        await this.loadAlerts();
      } catch (exc) {
        Alpine.store("app").notify(exc.detail || errorText(exc), "error");
      } finally {
        this.alertBusy = { ...this.alertBusy, [alert.id]: null };
      }
    },

    // -- recommendations (issue 6): dry-run preview, apply, approve, undo ------------------------------------
    async loadRecs() {
      this.recsError = "";
      try {
        this.recs = items(await api.get("/api/v1/recommendations", { client_id: this.clientId, limit: 20 }));
      } catch (exc) {
        this.recsError = errorText(exc);
      }
    },

    async optimize() {
      if (!this.insightId) return;
      this.optimizing = true;
      try {
        const opt = await api.post("/api/v1/campaign/optimize", { campaign_id: this.insightId });
        const n = opt.recommendations.length;
        Alpine.store("app").notify(
          n ? `${n} recommendation(s) for this campaign.` : `No recommendation passed the checks (${opt.held_back.length} held back).`,
          n ? "success" : "info",
        );
        await this.loadRecs();
      } catch (exc) {
        Alpine.store("app").notify(exc.detail || errorText(exc), "error");
      } finally {
        this.optimizing = false;
      }
    },

    async recAction(rec, action) {
      this.recBusy = { ...this.recBusy, [rec.id]: action };
      const base = `/api/v1/recommendations/${rec.id}`;
      try {
        let out;
        if (action === "preview") {
          out = await api.post(`${base}/apply`, { dry_run: true });
          this.recPreview = { ...this.recPreview, [rec.id]: out };
          return;
        }
        if (action === "apply") out = await api.post(`${base}/apply`, { dry_run: false });
        else if (action === "approve") out = await api.post(`${base}/approve`, {});
        else if (action === "undo") out = await api.post(`${base}/undo`, {});
        const messages = {
          applied: "Applied on the platform.",
          pending_approval: "Sent for approval by an owner or admin.",
          undone: "Undone: the platform is back to its previous value.",
        };
        const outcome = out?.outcome || out?.recommendation?.status;
        Alpine.store("app").notify(messages[outcome] || `Done (${outcome}).`, "success");
        const { [rec.id]: _drop, ...rest } = this.recPreview;
        this.recPreview = rest;
        await this.loadRecs();
      } catch (exc) {
        Alpine.store("app").notify(exc.detail || errorText(exc), "error");
      } finally {
        this.recBusy = { ...this.recBusy, [rec.id]: null };
      }
    },

    // The API never lets the requester approve their own request (four eyes); the page does not offer it.
    requestedByMe(rec) {
      const me = Alpine.store("app").me;
      return !!(me?.user_id && rec.requested_by === `user:${me.user_id}`);
    },

    impactText(rec) {
      const e = rec.expected_impact || {};
      const parts = [];
      for (const [k, v] of Object.entries(e)) {
        if (v && typeof v === "object" && "p50" in v)
          parts.push(`${k} ${num(v.p50, 2)} (p10 ${num(v.p10, 2)}, p90 ${num(v.p90, 2)})`);
      }
      return parts.join("; ") || "—";
    },

    // -- assistant (issue 7): questions about this client, answers citing their figures ---------------------
    async ask() {
      const c = this.chat;
      const message = c.input.trim();
      if (!message) return;
      c.busy = true;
      c.error = "";
      c.messages.push({ role: "user", content: message, id: "local-" + c.messages.length });
      c.input = "";
      try {
        const body = { client_id: this.clientId, message };
        if (c.conversationId) body.conversation_id = c.conversationId;
        const out = await api.post("/api/v1/assistant/chat", body);
        c.conversationId = out.conversation_id;
        c.messages.push(out.answer);
      } catch (exc) {
        c.error = exc.detail || errorText(exc);
      } finally {
        c.busy = false;
        await this.$nextTick();
        const log = document.getElementById("chat-log");
        if (log) log.scrollTop = log.scrollHeight;
      }
    },

    // -- reports (issue 7): generate, preview, send, schedule --------------------------------------------------
    async loadReports() {
      this.reportsError = "";
      try {
        const [reports, schedules] = await Promise.all([
          api.get("/api/v1/reports", { client_id: this.clientId, limit: 10 }),
          api.get("/api/v1/report-schedules", { client_id: this.clientId, limit: 20 }),
        ]);
        this.reports = items(reports);
        this.schedules = items(schedules);
      } catch (exc) {
        this.reportsError = errorText(exc);
      }
    },

    async generateReport() {
      const f = this.reportForm;
      f.busy = true;
      f.error = "";
      try {
        const report = await api.post("/api/v1/reports/generate", { client_id: this.clientId, period: f.period });
        Alpine.store("app").notify(
          report.status === "ready" ? `Report ready: ${report.title}.` : `Report ${report.status}: ${report.finality?.reason || ""}`,
          "success",
        );
        await this.loadReports();
        if (report.status === "ready") await this.previewReport(report);
      } catch (exc) {
        f.error = exc.detail || errorText(exc);
      } finally {
        f.busy = false;
      }
    },

    async previewReport(report) {
      this.reportBusy = { ...this.reportBusy, [report.id]: "preview" };
      try {
        const full = await api.get(`/api/v1/reports/${report.id}`);
        this.reportPreview = full;
        await this.$nextTick();
        document.getElementById("report-preview")?.focus();
      } catch (exc) {
        Alpine.store("app").notify(errorText(exc), "error");
      } finally {
        this.reportBusy = { ...this.reportBusy, [report.id]: null };
      }
    },

    splitEmails(text) {
      return (text || "")
        .split(/[,;\s]+/)
        .map((s) => s.trim())
        .filter(Boolean);
    },

    async sendReport(report) {
      const f = this.sendForm;
      f.busy = true;
      f.error = "";
      try {
        const body = {};
        const recipients = this.splitEmails(f.recipients);
        if (recipients.length) body.recipients = recipients;
        if (f.message.trim()) body.message = f.message.trim();
        await api.post(`/api/v1/reports/${report.id}/send`, body);
        Object.assign(f, { id: null, recipients: "", message: "" });
        Alpine.store("app").notify("Report queued for sending.", "success");
        await this.loadReports();
      } catch (exc) {
        f.error = exc.detail || errorText(exc);
      } finally {
        f.busy = false;
      }
    },

    async createSchedule() {
      const f = this.scheduleForm;
      f.busy = true;
      f.error = "";
      try {
        const body = { client_id: this.clientId, frequency: f.frequency };
        const recipients = this.splitEmails(f.recipients);
        if (recipients.length) body.recipients = recipients;
        await api.post("/api/v1/report-schedules", body);
        Object.assign(f, { open: false, recipients: "" });
        Alpine.store("app").notify("Schedule saved.", "success");
        await this.loadReports();
      } catch (exc) {
        f.error = exc.detail || errorText(exc);
      } finally {
        f.busy = false;
      }
    },

    async deleteSchedule(schedule) {
      try {
        await api.del(`/api/v1/report-schedules/${schedule.id}`);
        Alpine.store("app").notify("Schedule deleted.", "success");
        await this.loadReports();
      } catch (exc) {
        Alpine.store("app").notify(exc.detail || errorText(exc), "error");
      }
    },
  };
}
