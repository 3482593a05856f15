import Alpine from "alpinejs";
import { api, items } from "../api.js";
import * as charts from "../charts.js";
import { color, platform } from "../format.js";
import { errorText, pool, rendered } from "./util.js";

// The budget planner: each platform's response curve (its campaigns' revenue curves from the insights API,
// added at the same spend multiplier: the platform's curve when every campaign on it scales together) with the
// current and the proposed daily spend marked; the total field and slider re-run POST /api/v1/budget/optimize.

function interpolate(points, x) {
  if (!points.length) return null;
  if (x <= points[0].x) return points[0].y * (x / points[0].x || 0);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (x <= b.x) return a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  }
  const a = points[points.length - 2];
  const b = points[points.length - 1];
  return b.y + ((b.y - a.y) * (x - b.x)) / (b.x - a.x); // straight extension past 2x: marked in the table
}

export function budgetPage() {
  return {
    clientId: "",
    periodDays: 30,
    total: null,
    baseline: null,
    mode: "max_outcome",
    target: "",
    loading: false,
    running: false,
    error: "",
    result: null,
    curves: [],
    curveNotes: [],
    curveLoading: false,
    _timer: null,
    _seq: 0,

    async init() {
      const app = Alpine.store("app");
      this.clientId = app.route.query.client || app.clients[0]?.id || "";
      if (this.clientId) await this.start();
    },

    get client() {
      return Alpine.store("app").clients.find((c) => c.id === this.clientId) || null;
    },

    async start() {
      this.result = null;
      this.total = null;
      this.baseline = null;
      this.curves = [];
      await Promise.all([this.run(true), this.loadCurves()]);
    },

    body() {
      const b = { client_id: this.clientId, mode: this.mode, period_days: Number(this.periodDays) };
      if (this.total) b.total_budget = Math.round(Number(this.total) * 100) / 100;
      if (this.mode !== "max_outcome" && this.target !== "") b.target = Number(this.target);
      return b;
    },

    async run(first = false) {
      const seq = ++this._seq;
      this.running = true;
      this.error = "";
      try {
        if (first && this.mode === "max_outcome" && !this.total) {
          // Start from the current rate: the last 30 complete days' spend, scaled to the period (the optimizer's
          // own "current" is the same actual spend as a daily rate).
          const d = await api.get("/api/v1/analytics/dashboard", { client_id: this.clientId, date_range: "30d", compare: "none" });
          const spend = Number(d.overview.spend.value || 0);
          if (!(spend > 0)) throw new Error("This client has no spend in the last 30 days: enter a total budget to plan from.");
          this.baseline = Math.round((spend * Number(this.periodDays)) / 30);
          this.total = this.baseline;
        }
        const body = this.body();
        const result = await api.post("/api/v1/budget/optimize", body);
        if (seq !== this._seq) return; // a newer run superseded this one
        this.result = result;
        if (this.baseline === null) this.baseline = Math.round(Number(result.current.total));
        await rendered(this);
        this.drawCurves();
      } catch (exc) {
        if (seq === this._seq) this.error = exc.detail || errorText(exc);
      } finally {
        if (seq === this._seq) this.running = false;
      }
    },

    schedule() {
      if (this.mode !== "max_outcome" && !(Number(this.target) > 0)) return; // wait for a target
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this.run(), 350);
    },

    get sliderMin() {
      return Math.max(1, Math.round((this.baseline || 0) * 0.5));
    },
    get sliderMax() {
      return Math.round((this.baseline || 0) * 1.5) || 1;
    },

    async loadCurves() {
      this.curveLoading = true;
      this.curveNotes = [];
      try {
        const campaigns = items(await api.get("/api/v1/campaigns", { client_id: this.clientId, limit: 200 }));
        const results = await pool(campaigns, 4, (c) =>
          api.get(`/api/v1/campaigns/${c.id}/insights`, { date_range: "30d" }),
        );
        const byPlatform = {};
        let skipped = 0;
        results.forEach((r, i) => {
          const curve = r.ok ? r.value.response_curve : null;
          if (!curve || curve.outcome !== "revenue" || !curve.points?.length) {
            skipped += 1;
            return;
          }
          const p = campaigns[i].platform;
          const agg = (byPlatform[p] ||= { platform: p, campaigns: 0, current: 0, points: new Map() });
          agg.campaigns += 1;
          agg.current += curve.current_daily_spend;
          for (const pt of curve.points) {
            const prev = agg.points.get(pt.multiplier) || { x: 0, y: 0, p10: 0, p90: 0 };
            agg.points.set(pt.multiplier, {
              x: prev.x + pt.daily_spend,
              y: prev.y + pt.p50,
              p10: prev.p10 + pt.p10,
              p90: prev.p90 + pt.p90,
            });
          }
        });
        this.curveLoading = false;
        this.curves = Object.values(byPlatform).map((c) => ({
          ...c,
          points: [...c.points.entries()].sort((a, b) => a[0] - b[0]).map(([m, v]) => ({ m, ...v })),
        }));
        if (skipped)
          this.curveNotes.push(
            `${skipped} campaign(s) have no revenue response curve (no spend in the last 30 days or a conversions-only model) and are not drawn.`,
          );
        await rendered(this);
        this.drawCurves();
      } catch (exc) {
        this.curveNotes.push("Response curves could not be loaded: " + errorText(exc));
      } finally {
        this.curveLoading = false;
      }
    },

    get curveRows() {
      const period = Number(this.result?.period_days || this.periodDays);
      return this.curves.map((c, i) => {
        const proposedDaily = this.result ? Number(this.result.proposed.items[c.platform] ?? NaN) / period : NaN;
        const optimizerCurrent = this.result ? Number(this.result.current.items[c.platform] ?? NaN) / period : NaN;
        const maxX = c.points[c.points.length - 1]?.x ?? 0;
        return {
          platform: c.platform,
          label: platform(c.platform),
          color: color(c.platform, i),
          campaigns: c.campaigns,
          currentDaily: c.current,
          currentRevenue: interpolate(c.points, c.current),
          optimizerCurrent,
          proposedDaily,
          proposedRevenue: Number.isFinite(proposedDaily) ? interpolate(c.points, proposedDaily) : null,
          extrapolated: Number.isFinite(proposedDaily) && proposedDaily > maxX,
          points: c.points,
        };
      });
    },

    drawCurves() {
      const rows = this.curveRows;
      if (!rows.length) return;
      charts.curves(
        "chart-curves",
        rows.map((r) => ({
          label: r.label,
          color: r.color,
          points: r.points.map((p) => ({ x: p.x, y: p.y })),
          current: { x: r.currentDaily, y: r.currentRevenue },
          proposed: Number.isFinite(r.proposedDaily) ? { x: r.proposedDaily, y: r.proposedRevenue } : null,
        })),
        { xTitle: `daily spend (${this.result?.currency || this.client?.currency || ""})`, yTitle: "daily revenue (p50)" },
      );
    },

    outcome(which, metric) {
      return this.result?.[which]?.outcome?.[metric] || null;
    },
  };
}
