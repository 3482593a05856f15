import { api, items } from "../api.js";
import { live } from "../live.js";
import { goalCheck, pool, errorText } from "./util.js";

// The agency overview: one row per client from the analytics dashboard of that client (spend, ROAS, CPA with
// their comparison), its pacing and the health and freshness of its connections.

const STATUS_ORDER = { over: 0, under: 1, on_track: 2, too_early: 3, none: 4 };

export function overviewPage() {
  return {
    loading: true,
    error: "",
    range: "30d",
    rows: [],
    totals: null,
    currency: "USD",
    filter: "",
    show: "all",
    sortKey: "spend",
    sortDir: "desc",
    asOf: null,
    alertsKnown: true,

    _unsubscribe: null,

    async init() {
      // Live updates (when a transport is connected): new metrics or alert changes refresh the table.
      this._unsubscribe = live.on("*", (e) => {
        if (/^(metrics|alert|connection|sync)\./.test(e.type || "")) this.load();
      });
      await this.load();
    },

    destroy() {
      this._unsubscribe?.();
    },

    async load() {
      this.loading = true;
      this.error = "";
      try {
        const clients = items(await api.get("/api/v1/clients", { limit: 200 }));
        const [results, alerts] = await Promise.all([
          pool(clients, 4, (c) => api.get("/api/v1/analytics/dashboard", { client_id: c.id, date_range: this.range })),
          api.get("/api/v1/alerts", { state: "open", limit: 200 }).then(items, () => null),
        ]);
        const openAlerts = {};
        for (const a of alerts || []) {
          const o = (openAlerts[a.client_id] ||= { total: 0, critical: 0 });
          o.total += 1;
          if (a.severity === "critical") o.critical += 1;
        }
        this.alertsKnown = alerts !== null;
        this.rows = clients.map((c, i) => ({ ...this.row(c, results[i]), alerts: openAlerts[c.id]?.total || 0, critical: openAlerts[c.id]?.critical || 0 }));
        this.asOf = new Date().toISOString();
      } catch (exc) {
        this.error = errorText(exc);
        this.rows = [];
      } finally {
        this.loading = false;
      }
    },

    row(client, result) {
      if (!result.ok)
        return { client, id: client.id, name: client.name, error: errorText(result.error), spend: null };
      const d = result.value;
      const o = d.overview;
      const pacing = d.pacing.clients.find((p) => p.client_id === client.id) || null;
      const conns = d.data_freshness.connections;
      const broken = conns.filter((c) => c.status !== "active");
      const asOf = conns.map((c) => c.data_as_of).filter(Boolean).sort();
      return {
        client,
        id: client.id,
        name: client.name,
        industry: client.industry,
        currency: d.currency,
        period: d.period,
        spend: o.spend.value === null ? null : Number(o.spend.value),
        spendChange: o.spend.change_pct,
        spendPrev: o.spend.previous,
        revenue: o.revenue.value,
        conversions: o.conversions.value,
        roas: o.roas.value === null ? null : Number(o.roas.value),
        roasChange: o.roas.change_pct,
        cpa: o.cpa.value === null ? null : Number(o.cpa.value),
        cpaChange: o.cpa.change_pct,
        roasGoal: goalCheck(client, "roas", o.roas.value),
        cpaGoal: goalCheck(client, "cpa", o.cpa.value),
        pacing,
        pacingStatus: pacing ? pacing.status : "none",
        connections: conns.length,
        broken: broken.length,
        brokenReasons: broken.map((c) => `${c.name}: ${c.broken_reason || c.status}`),
        oldestData: asOf[0] || null,
        freshnessComplete: d.data_freshness.complete,
        freshnessNotes: d.data_freshness.notes,
      };
    },

    get visible() {
      const q = this.filter.trim().toLowerCase();
      let rows = this.rows.filter((r) => !q || r.name.toLowerCase().includes(q) || (r.industry || "").includes(q));
      if (this.show === "off_goal")
        rows = rows.filter((r) => r.roasGoal?.met === false || r.cpaGoal?.met === false);
      if (this.show === "pacing") rows = rows.filter((r) => r.pacingStatus === "over" || r.pacingStatus === "under");
      if (this.show === "alerts") rows = rows.filter((r) => r.alerts > 0);
      if (this.show === "broken") rows = rows.filter((r) => r.broken > 0 || r.freshnessComplete === false);
      const dir = this.sortDir === "asc" ? 1 : -1;
      const key = this.sortKey;
      const val = (r) => {
        if (key === "name") return r.name.toLowerCase();
        if (key === "pacing") return r.pacing?.pace_pct !== undefined ? Number(r.pacing?.pace_pct ?? -1) : -1;
        if (key === "health") return r.broken;
        if (key === "alerts") return r.critical * 1000 + r.alerts;
        if (key === "freshness") return r.oldestData || "";
        return r[key] ?? -Infinity;
      };
      return [...rows].sort((a, b) => (val(a) > val(b) ? dir : val(a) < val(b) ? -dir : 0));
    },

    sort(key) {
      if (this.sortKey === key) this.sortDir = this.sortDir === "asc" ? "desc" : "asc";
      else {
        this.sortKey = key;
        this.sortDir = key === "name" ? "asc" : "desc";
      }
    },

    ariaSort(key) {
      return this.sortKey === key ? (this.sortDir === "asc" ? "ascending" : "descending") : "none";
    },

    get summary() {
      const rows = this.rows.filter((r) => !r.error);
      const byCurrency = {};
      for (const r of rows) {
        const c = (byCurrency[r.currency] ||= { currency: r.currency, spend: 0, clients: 0 });
        c.spend += r.spend || 0;
        c.clients += 1;
      }
      return {
        clients: this.rows.length,
        offGoal: rows.filter((r) => r.roasGoal?.met === false || r.cpaGoal?.met === false).length,
        pacing: rows.filter((r) => r.pacingStatus === "over" || r.pacingStatus === "under").length,
        broken: rows.filter((r) => r.broken > 0).length,
        spend: Object.values(byCurrency),
      };
    },
  };
}
