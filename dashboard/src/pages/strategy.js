import Alpine from "alpinejs";
import { api, items } from "../api.js";
import * as charts from "../charts.js";
import { color, platform } from "../format.js";
import { errorText, rendered } from "./util.js";

// The strategy builder: the brief's fields (POST /api/v1/strategy/generate) and the plan it returns, which is
// stored as a draft version at once; "Create campaigns" turns it into draft campaigns on each platform.

const PLATFORMS = ["google_ads", "meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads", "email"];
const OBJECTIVES = [
  ["sales_conversion", "Sales / conversions"],
  ["lead_generation", "Lead generation"],
  ["traffic", "Website traffic"],
  ["brand_awareness", "Brand awareness"],
  ["reach", "Reach"],
];
const KPI_CHOICES = ["roas", "cpa", "conversions", "revenue", "ctr", "cpc", "cpm", "cpl", "leads", "reach"];

function splitList(text) {
  return (text || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function strategyPage() {
  return {
    PLATFORMS,
    OBJECTIVES,
    KPI_CHOICES,
    form: {
      client_id: "",
      campaign_name: "",
      objective: "sales_conversion",
      budget: "",
      duration_days: 30,
      platforms: ["google_ads", "meta_ads"],
      start_date: "",
      campaign_type: "",
      kpis: ["roas", "cpa"],
      target_roas: "",
      target_cpa: "",
      age_range: "",
      gender: "",
      locations: "",
      interests: "",
      behaviors: "",
      geo: "",
    },
    busy: false,
    error: "",
    fieldErrors: {},
    strategy: null,
    fanMetric: "revenue",
    fanTable: [],
    history: [],
    historyError: "",
    campaignsResult: null,
    creating: false,

    init() {
      const app = Alpine.store("app");
      this.form.client_id = app.route.query.client || app.clients[0]?.id || "";
      this.loadHistory();
      if (app.route.query.strategy) this.open(app.route.query.strategy);
    },

    get client() {
      return Alpine.store("app").clients.find((c) => c.id === this.form.client_id) || null;
    },

    body() {
      const f = this.form;
      const demographics = {};
      if (f.age_range.trim()) demographics.age_range = f.age_range.trim();
      if (f.gender) demographics.gender = f.gender;
      if (splitList(f.locations).length) demographics.locations = splitList(f.locations);
      const body = {
        client_id: f.client_id,
        campaign_name: f.campaign_name.trim(),
        objective: f.objective,
        target_audience: { demographics, interests: splitList(f.interests), behaviors: splitList(f.behaviors) },
        budget: f.budget === "" ? null : Number(f.budget),
        duration_days: Number(f.duration_days),
        platforms: f.platforms,
        kpis: f.kpis,
      };
      if (f.start_date) body.start_date = f.start_date;
      if (f.campaign_type.trim()) body.campaign_type = f.campaign_type.trim();
      if (f.target_roas !== "") body.target_roas = Number(f.target_roas);
      if (f.target_cpa !== "") body.target_cpa = Number(f.target_cpa);
      if (splitList(f.geo).length) body.geo = splitList(f.geo);
      return body;
    },

    validate() {
      const e = {};
      const f = this.form;
      if (!f.client_id) e.client_id = "Choose a client.";
      if (!f.campaign_name.trim()) e.campaign_name = "Name the campaign.";
      if (!(Number(f.budget) > 0)) e.budget = "Enter a total budget greater than 0.";
      if (!(Number(f.duration_days) >= 1 && Number(f.duration_days) <= 365)) e.duration_days = "Between 1 and 365 days.";
      if (!f.platforms.length) e.platforms = "Choose at least one platform.";
      this.fieldErrors = e;
      return !Object.keys(e).length;
    },

    async generate() {
      this.error = "";
      this.campaignsResult = null;
      if (!this.validate()) {
        this.error = "Some fields need attention.";
        return;
      }
      this.busy = true;
      try {
        this.strategy = await api.post("/api/v1/strategy/generate", this.body());
        this.busy = false;
        await rendered(this);
        this.draw();
        this.loadHistory();
        document.getElementById("strategy-result")?.focus();
      } catch (exc) {
        this.error = exc.detail || exc.message;
        const fe = {};
        for (const p of exc.fields || []) fe[p.field.split(".").slice(-1)[0]] = p.reason;
        this.fieldErrors = fe;
      } finally {
        this.busy = false;
      }
    },

    async open(id) {
      this.error = "";
      try {
        this.strategy = await api.get(`/api/v1/strategies/${id}`);
        this.campaignsResult = null;
        await rendered(this);
        this.draw();
      } catch (exc) {
        this.error = errorText(exc);
      }
    },

    async loadHistory() {
      if (!this.form.client_id) return;
      try {
        this.history = items(await api.get("/api/v1/strategies", { client_id: this.form.client_id, limit: 10 }));
        this.historyError = "";
      } catch (exc) {
        this.historyError = errorText(exc);
      }
    },

    async createCampaigns() {
      this.creating = true;
      try {
        this.campaignsResult = await api.post(`/api/v1/strategies/${this.strategy.id}/campaigns`);
        Alpine.store("app").notify(`${this.campaignsResult.created} draft campaigns created.`, "success");
      } catch (exc) {
        Alpine.store("app").notify(exc.detail || exc.message, "error");
      } finally {
        this.creating = false;
      }
    },

    draw() {
      const s = this.strategy;
      if (!s) return;
      const weeks = s.forecast?.by_week || [];
      const m = this.fanMetric;
      let cum = [0, 0, 0];
      this.fanTable = weeks.map((w) => {
        const q = w[m] || {};
        cum = [cum[0] + (q.p10 || 0), cum[1] + (q.p50 || 0), cum[2] + (q.p90 || 0)];
        return { week: w.week, start: w.start_date, end: w.end_date, spend: w.spend, p10: q.p10, p50: q.p50, p90: q.p90 };
      });
      charts.fan(
        "chart-fan",
        weeks.map((w) => `Week ${w.week}`),
        this.fanTable.map((r) => r.p10),
        this.fanTable.map((r) => r.p50),
        this.fanTable.map((r) => r.p90),
        { label: `${m} p50`, yTitle: m === "revenue" ? s.currency + " per week" : m + " per week" },
      );
      charts.bars(
        "chart-allocation",
        s.allocation.map((a) => platform(a.platform)),
        [{ label: "Budget", color: s.allocation.map((a, i) => color(a.platform, i)), values: s.allocation.map((a) => Number(a.budget)) }],
        { horizontal: true, xTitle: s.currency },
      );
      const mr = Object.entries(s.marginal_roas?.by_platform || {});
      charts.bars(
        "chart-marginal",
        mr.map(([p]) => platform(p)),
        [{ label: "Marginal ROAS", color: mr.map(([p], i) => color(p, i)), values: mr.map(([, v]) => v) }],
        { horizontal: true, xTitle: "revenue per extra unit of daily spend" },
      );
    },

    setMetric(m) {
      this.fanMetric = m;
      this.draw();
    },

    entries(obj) {
      return Object.entries(obj || {});
    },

    show(v) {
      if (v === null || v === undefined || v === "") return "—";
      if (Array.isArray(v)) return v.length ? v.map((x) => this.show(x)).join(typeof v[0] === "object" ? " | " : ", ") : "—";
      if (typeof v === "object")
        return Object.entries(v)
          .filter(([, x]) => x !== null && x !== undefined && !(Array.isArray(x) && !x.length))
          .map(([k, x]) => `${k.replaceAll("_", " ")}: ${this.show(x)}`)
          .join("; ");
      return String(v);
    },
  };
}
