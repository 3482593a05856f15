"""The assistant's tools: the service's own functions, each with a pydantic argument model whose JSON schema is
what a language model sees. Every tool runs for the conversation's client with the caller's principal: there is no
client argument at all, so neither a question nor a model can point a tool at another client, and the services
underneath apply the same visibility and role checks as the HTTP routes.

Results are plain dicts (Decimal money, float model outputs); they are the only source of figures in an answer.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text

from strategist.adapters.db.models import Client
from strategist.adapters.db.uow import UnitOfWork
from strategist.adapters.llm.tool_calling import ToolDef, ToolError
from strategist.domain.auth import Principal, Role, Scope
from strategist.domain.errors import DomainError
from strategist.domain.money import minor_unit_exponent

PLATFORMS = ("google_ads", "meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads")
Platform = Literal["google_ads", "meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads"]
Kpi = Literal[
    "cpa", "cpc", "roas", "ctr", "cvr", "cpm", "spend", "conversions", "revenue", "clicks", "impressions"
]
RATIO_KPIS = {"cpa", "cpc", "roas", "ctr", "cvr", "cpm"}
#: KPIs where a lower value is better (for "best"/"worst" and for the direction words).
LOWER_IS_BETTER = {"cpa", "cpc", "cpm", "spend"}
KPI_LABELS = {
    "cpa": "CPA",
    "cpc": "CPC",
    "roas": "ROAS",
    "ctr": "CTR",
    "cvr": "conversion rate",
    "cpm": "CPM",
    "spend": "spend",
    "conversions": "conversions",
    "revenue": "revenue",
    "clicks": "clicks",
    "impressions": "impressions",
}
RATIO_Q = Decimal("0.0001")
PCT_Q = Decimal("0.01")

_DAILY_SQL = text(
    "SELECT c.id, c.name, c.platform, m.date, m.currency, m.cost, m.impressions, m.clicks, m.conversions, "
    "m.conversion_value FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE c.client_id = :client AND m.breakdown = '' AND m.date BETWEEN :lo AND :hi"
)


# -- argument models -----------------------------------------------------------------------------------------
class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SummaryArgs(_Args):
    date_range: Literal["7d", "30d", "90d", "mtd"] = Field(
        "7d", description="Complete days ending yesterday (7d/30d/90d) or month to date (mtd)."
    )


class DriversArgs(_Args):
    kpi: Kpi = Field(description="The KPI whose change to explain.")
    days: Literal[7, 14, 30] = Field(
        7, description="Compare the last N complete days with the N days before them."
    )
    platform: Platform | None = Field(None, description="Only this platform's campaigns (default: all).")


class PacingArgs(_Args):
    pass


class ForecastArgs(_Args):
    pass


class RankArgs(_Args):
    kpi: Kpi = Field(description="The KPI to rank campaigns by.")
    order: Literal["best", "worst"] = Field("best", description="best or worst first (CPA: lowest is best).")
    days: Literal[7, 14, 30, 90] = Field(30, description="The last N complete days.")
    limit: int = Field(3, ge=1, le=10)
    platform: Platform | None = Field(None, description="Only this platform's campaigns (default: all).")


class WhatIfArgs(_Args):
    from_platform: Platform = Field(description="The platform that gives up budget.")
    to_platform: Platform = Field(description="The platform that receives it.")
    share: float = Field(
        gt=0, le=1, description="Share of from_platform's current spend to move (0.2 = 20 %)."
    )
    period_days: int = Field(30, ge=7, le=90, description="Horizon of the forecast.")


class ExperimentsArgs(_Args):
    pass


class CompetitorsArgs(_Args):
    top: int = Field(3, ge=1, le=10, description="How many competitors (by overlap rate) to return.")


# -- shared reads --------------------------------------------------------------------------------------------
@dataclass
class Sums:
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)

    def add(self, cost: Decimal, imp: int, clk: int, conv: Decimal, rev: Decimal) -> None:
        self.spend += cost
        self.impressions += int(imp)
        self.clicks += int(clk)
        self.conversions += conv
        self.revenue += rev


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def kpi_value(s: Sums, kpi: str, money_q: Decimal) -> Decimal | int | None:
    """A KPI from sums (ratios from sums, never averages); None when its denominator is zero."""

    def ratio(num: Decimal | int, den: Decimal | int, scale: int = 1) -> Decimal | None:
        return None if not den else _q(Decimal(num) * scale / Decimal(den), RATIO_Q)

    match kpi:
        case "cpa":
            return ratio(s.spend, s.conversions)
        case "cpc":
            return ratio(s.spend, s.clicks)
        case "roas":
            return ratio(s.revenue, s.spend)
        case "ctr":
            return ratio(s.clicks, s.impressions, 100)
        case "cvr":
            return ratio(s.conversions, s.clicks, 100)
        case "cpm":
            return ratio(s.spend, s.impressions, 1000)
        case "spend":
            return _q(s.spend, money_q)
        case "revenue":
            return _q(s.revenue, money_q)
        case "conversions":
            return _q(s.conversions, Decimal("0.01"))
        case "clicks":
            return s.clicks
        case _:
            return s.impressions


def _pct_change(cur: Decimal | int | None, prev: Decimal | int | None) -> Decimal | None:
    if cur is None or prev is None or not prev:
        return None
    return _q((Decimal(cur) - Decimal(prev)) * 100 / Decimal(prev), PCT_Q)


@dataclass
class ToolContext:
    uow: UnitOfWork
    principal: Principal
    client: Client
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(ZoneInfo(self.client.reporting_timezone)).date()

    @property
    def money_q(self) -> Decimal:
        return Decimal(1).scaleb(-minor_unit_exponent(self.client.currency))

    def daily(
        self, lo: dt.date, hi: dt.date, platform: str | None = None
    ) -> tuple[dict[uuid.UUID, tuple[str, str]], list[tuple[uuid.UUID, dt.date, Sums]], list[str]]:
        """Campaign-total rows of the client in its own currency; rows in other currencies are named, not
        converted (the dashboard converts; these tools compare like with like)."""
        camps: dict[uuid.UUID, tuple[str, str]] = {}
        rows: list[tuple[uuid.UUID, dt.date, Sums]] = []
        other: set[str] = set()
        for r in self.uow.session.execute(_DAILY_SQL, {"client": self.client.id, "lo": lo, "hi": hi}):
            if platform is not None and r[2] != platform:
                continue
            if r[4] != self.client.currency:
                other.add(r[4])
                continue
            camps[r[0]] = (r[1], r[2])
            s = Sums()
            s.add(r[5], r[6], r[7], r[8], r[9])
            rows.append((r[0], r[3], s))
        return camps, rows, sorted(other)


def _window(ctx: ToolContext, days: int) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    end = ctx.today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    prev_end = start - dt.timedelta(days=1)
    return start, end, prev_end - dt.timedelta(days=days - 1), prev_end


def _currency_note(other: list[str], currency: str) -> list[str]:
    if not other:
        return []
    return [f"Rows in {', '.join(other)} are left out: these figures compare {currency} amounts only."]


# -- the tools -------------------------------------------------------------------------------------------------
def performance_summary(ctx: ToolContext, args: SummaryArgs) -> dict[str, Any]:
    from strategist.http.schemas.analytics import DashboardQuery
    from strategist.services import analytics

    d = analytics.dashboard(
        ctx.uow,
        ctx.principal,
        DashboardQuery(client_id=ctx.client.id, date_range=args.date_range),
        now=ctx.now,
    )
    kpis = {
        k: {
            "value": d["overview"][k]["value"],
            "previous": d["overview"][k].get("previous"),
            "change_pct": d["overview"][k].get("change_pct"),
        }
        for k in ("spend", "impressions", "clicks", "conversions", "revenue", "ctr", "cpc", "cpa", "roas")
    }
    return {
        "client": ctx.client.name,
        "currency": d["currency"],
        "period": {k: d["period"][k] for k in ("start", "end", "days", "label")},
        "comparison_period": d["comparison_period"],
        "kpis": kpis,
        "platforms": [
            {
                k: p[k]
                for k in ("platform", "spend", "share_of_spend_pct", "conversions", "revenue", "cpa", "roas")
            }
            for p in d["platform_breakdown"]
        ],
        "data_complete": d["data_freshness"]["complete"],
        "notes": [*d["data_freshness"]["notes"], *d["fx"]["notes"]],
        "source": "GET /api/v1/analytics/dashboard",
    }


def kpi_drivers(ctx: ToolContext, args: DriversArgs) -> dict[str, Any]:
    from strategist.domain import drivers as drv

    start, end, pstart, pend = _window(ctx, args.days)
    camps, rows, other = ctx.daily(pstart, end, args.platform)
    cur: dict[uuid.UUID, Sums] = defaultdict(Sums)
    prev: dict[uuid.UUID, Sums] = defaultdict(Sums)
    for cid, day, s in rows:
        (cur if day >= start else prev)[cid].add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
    tot_c, tot_p = Sums(), Sums()
    for s in cur.values():
        tot_c.add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
    for s in prev.values():
        tot_p.add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
    value, previous = kpi_value(tot_c, args.kpi, ctx.money_q), kpi_value(tot_p, args.kpi, ctx.money_q)
    out: dict[str, Any] = {
        "kpi": args.kpi,
        "platform": args.platform,
        "currency": ctx.client.currency,
        "period": {"start": start, "end": end, "days": args.days},
        "comparison_period": {"start": pstart, "end": pend, "days": args.days},
        "value": value,
        "previous": previous,
        "change_pct": _pct_change(value, previous),
        "drivers": [],
        "method": "",
        "campaigns": [],
        "notes": _currency_note(other, ctx.client.currency),
    }
    if args.kpi in drv.KPIS:

        def fs(s: Sums) -> drv.FunnelSums:
            return drv.FunnelSums(
                float(s.spend), float(s.impressions), float(s.clicks), float(s.conversions), float(s.revenue)
            )

        dec = drv.decompose(
            args.kpi, {str(k): fs(v) for k, v in prev.items()}, {str(k): fs(v) for k, v in cur.items()}
        )
        out["method"] = (
            "Exact log-change decomposition over the client's campaigns: each funnel factor's part (CPM, CTR, "
            "CVR, AOV) within campaigns plus the mix effect of spend moving between campaigns; the points add "
            "up to the KPI's percent change."
        )
        if dec.ok:
            out["drivers"] = [
                {
                    "driver": "mix across campaigns" if c.name == drv.MIX else c.name,
                    "pct_points": round(c.pct_points, 2),
                    "factor_went": c.factor_went,
                }
                for c in sorted(dec.components, key=lambda c: -abs(c.pct_points))
            ]
        else:
            out["notes"].append(f"No decomposition: {dec.reason}.")
    else:
        out["method"] = "Per-campaign change of the KPI between the two periods, largest first."
    rows_out = []
    for cid in set(cur) | set(prev):
        c_val = kpi_value(cur.get(cid, Sums()), args.kpi, ctx.money_q)
        p_val = kpi_value(prev.get(cid, Sums()), args.kpi, ctx.money_q)
        impact = (
            abs(Decimal(c_val or 0) - Decimal(p_val or 0))
            if args.kpi not in RATIO_KPIS
            else abs(cur.get(cid, Sums()).spend - prev.get(cid, Sums()).spend)
        )
        rows_out.append(
            (
                impact,
                {
                    "campaign": camps[cid][0],
                    "platform": camps[cid][1],
                    "value": c_val,
                    "previous": p_val,
                    "change_pct": _pct_change(c_val, p_val),
                    "spend": _q(cur.get(cid, Sums()).spend, ctx.money_q),
                    "previous_spend": _q(prev.get(cid, Sums()).spend, ctx.money_q),
                },
            )
        )
    out["campaigns"] = [r for _, r in sorted(rows_out, key=lambda t: (-t[0], t[1]["campaign"]))[:3]]
    if value is None or previous is None:
        out["notes"].append(
            f"{KPI_LABELS[args.kpi]} is undefined in one of the periods (a zero denominator or no data)."
        )
    return out


def pacing(ctx: ToolContext, args: PacingArgs) -> dict[str, Any]:
    from strategist.http.schemas.analytics import DashboardQuery
    from strategist.services import analytics

    d = analytics.dashboard(
        ctx.uow, ctx.principal, DashboardQuery(client_id=ctx.client.id, date_range="mtd"), now=ctx.now
    )
    mine = [p for p in d["pacing"]["clients"] if p["client_id"] == ctx.client.id]
    if not mine:
        return {
            "client": ctx.client.name,
            "monthly_budget": None,
            "status": "no_budget",
            "notes": ["The client has no monthly budget set, so there is nothing to pace against."],
        }
    p = mine[0]
    return {
        "client": ctx.client.name,
        **{
            k: p[k]
            for k in (
                "currency",
                "month",
                "monthly_budget",
                "days_in_month",
                "elapsed_days",
                "month_to_date_spend",
                "expected_to_date",
                "pace_pct",
                "projected_month_end",
                "projected_pct_of_budget",
                "status",
            )
        },
        "band": p["band"],
        "method": d["pacing"]["method"],
        "source": "GET /api/v1/analytics/dashboard (pacing)",
    }


def forecast_month_end(ctx: ToolContext, args: ForecastArgs) -> dict[str, Any]:
    today = ctx.today
    start = today.replace(day=1)
    end = today - dt.timedelta(days=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    elapsed = (end - start).days + 1
    remaining = days_in_month - elapsed
    recent_lo = today - dt.timedelta(days=7)
    _, rows, other = ctx.daily(min(start, recent_lo), end)
    mtd, last7 = Sums(), Sums()
    for _, day, s in rows:
        if day >= start:
            mtd.add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
        if day >= recent_lo:
            last7.add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
    if elapsed <= 0:
        raise ToolError("it is the first day of the month: there is no complete day to project from")
    out: dict[str, Any] = {
        "client": ctx.client.name,
        "currency": ctx.client.currency,
        "month": start.strftime("%Y-%m"),
        "days_in_month": days_in_month,
        "elapsed_days": elapsed,
        "remaining_days": remaining,
        "month_to_date": {},
        "projection_run_rate": {},
        "projection_recent_rate": {},
        "method": (
            "run rate: month to date / elapsed days x days in month; recent rate: month to date + the mean of "
            "the last 7 complete days x the remaining days. Complete days only (the 1st through yesterday)."
        ),
        "notes": _currency_note(other, ctx.client.currency),
    }
    for metric in ("spend", "conversions", "revenue"):
        q = Decimal("0.01") if metric == "conversions" else ctx.money_q
        done = getattr(mtd, metric)
        out["month_to_date"][metric] = _q(done, q)
        out["projection_run_rate"][metric] = _q(done / elapsed * days_in_month, q)
        out["projection_recent_rate"][metric] = _q(done + getattr(last7, metric) / 7 * remaining, q)
    if ctx.client.monthly_budget:
        budget = Decimal(ctx.client.monthly_budget)
        out["monthly_budget"] = _q(budget, ctx.money_q)
        out["projected_pct_of_budget"] = _q(out["projection_run_rate"]["spend"] * 100 / budget, PCT_Q)
    return out


def rank_campaigns(ctx: ToolContext, args: RankArgs) -> dict[str, Any]:
    start, end, _, _ = _window(ctx, args.days)
    camps, rows, other = ctx.daily(start, end, args.platform)
    sums: dict[uuid.UUID, Sums] = defaultdict(Sums)
    for cid, _, s in rows:
        sums[cid].add(s.spend, s.impressions, s.clicks, s.conversions, s.revenue)
    ranked, undefined = [], []
    for cid, s in sums.items():
        v = kpi_value(s, args.kpi, ctx.money_q)
        if v is None:
            undefined.append(camps[cid][0])
            continue
        ranked.append(
            {
                "campaign": camps[cid][0],
                "platform": camps[cid][1],
                "value": v,
                "spend": _q(s.spend, ctx.money_q),
                "conversions": _q(s.conversions, Decimal("0.01")),
            }
        )
    best_is_low = args.kpi in LOWER_IS_BETTER
    descending = (args.order == "best") != best_is_low
    ranked.sort(key=lambda r: (-Decimal(r["value"]) if descending else Decimal(r["value"]), r["campaign"]))
    return {
        "kpi": args.kpi,
        "platform": args.platform,
        "order": args.order,
        "currency": ctx.client.currency,
        "period": {"start": start, "end": end, "days": args.days},
        "campaigns": ranked[: args.limit],
        "campaigns_ranked": len(ranked),
        "undefined": sorted(undefined),
        "notes": [
            *_currency_note(other, ctx.client.currency),
            *(
                [f"{KPI_LABELS[args.kpi]} is undefined for {len(undefined)} campaign(s) (zero denominator)."]
                if undefined
                else []
            ),
        ],
    }


def what_if_shift(ctx: ToolContext, args: WhatIfArgs) -> dict[str, Any]:
    from strategist.http.schemas.budget import BudgetOptimize
    from strategist.services import budget_optimizer as bo

    if args.from_platform == args.to_platform:
        raise ToolError("from_platform and to_platform must differ")
    ctx.principal.require_role(Role.ANALYST)
    ctx.principal.require_scope(Scope.WRITE)  # the forecast is recorded as a proposed budget optimization
    today = ctx.today
    running, _, spend30 = bo._items(ctx.uow, ctx.client, "platform", today)
    for side in (args.from_platform, args.to_platform):
        if side not in running:
            raise ToolError(
                f"{side} has no active campaign with spend in the last {bo.CURRENT_WINDOW_DAYS} days for this "
                f"client (running: {', '.join(sorted(running)) or 'none'})"
            )
    per_day = {k: Decimal(repr(spend30[k] / bo.CURRENT_WINDOW_DAYS)) for k in running}
    q = ctx.money_q
    period = Decimal(args.period_days)
    current = {k: _q(v * period, q) for k, v in per_day.items()}
    moved = _q(current[args.from_platform] * Decimal(repr(args.share)), q)
    locked = dict(current)
    locked[args.from_platform] = current[args.from_platform] - moved
    locked[args.to_platform] = current[args.to_platform] + moved
    body = BudgetOptimize(
        client_id=ctx.client.id,
        mode="max_outcome",
        total_budget=sum(locked.values(), Decimal(0)),
        period_days=args.period_days,
        level="platform",
        locked={k: v for k, v in locked.items()},
    )
    result = bo.optimize(ctx.uow, ctx.principal, body, today=today)
    return {
        "currency": result["currency"],
        "period_days": args.period_days,
        "from_platform": args.from_platform,
        "to_platform": args.to_platform,
        "share": args.share,
        "moved": moved,
        "current": result["current"],
        "proposed": result["proposed"],
        "uplift": result["uplift"],
        "marginal_roas": result["marginal_roas"],
        "optimization_id": result["id"],
        "method": (
            "The budget optimizer's response curves with both platforms locked at the shifted amounts and every "
            "other platform at its current rate; current rates are the last "
            f"{bo.CURRENT_WINDOW_DAYS} complete days. Uplift is an interval from the same forecast draws."
        ),
        "source": f"POST /api/v1/budget/optimize (recorded as proposed optimization {result['id']})",
    }


def list_experiments(ctx: ToolContext, args: ExperimentsArgs) -> dict[str, Any]:
    from strategist.http.schemas.experiments import ExperimentListQuery
    from strategist.services import experiments

    items, _ = experiments.list_experiments(
        ctx.uow, ctx.principal, ExperimentListQuery(client_id=ctx.client.id, limit=20)
    )
    return {
        "experiments": [
            {
                "id": e.id,
                "name": e.name,
                "status": e.status,
                "metric": e.metric,
                "required_sample_size_per_variant": e.required_sample_size_per_variant,
                "expected_duration_days": e.expected_duration_days,
            }
            for e in items
        ],
        "count": len(items),
    }


def competitor_summary(ctx: ToolContext, args: CompetitorsArgs) -> dict[str, Any]:
    from sqlalchemy import select

    from strategist.adapters.db.models import CompetitorAnalysis

    row = ctx.uow.session.scalar(
        select(CompetitorAnalysis)
        .where(CompetitorAnalysis.client_id == ctx.client.id)
        .order_by(CompetitorAnalysis.created_at.desc(), CompetitorAnalysis.id.desc())
        .limit(1)
    )
    if row is None:
        raise ToolError(
            "no competitor analysis for this client yet: upload an auction insights export and run "
            "POST /api/v1/competitor-analysis"
        )
    r = row.result
    rivals = [c for c in r.get("competitors", []) if not c.get("is_you")][: args.top]
    own = [w for w in (r.get("own_impression_share") or {}).get("weeks", [])]
    return {
        "analysis_id": row.id,
        "created_at": row.created_at,
        "periods": r.get("periods", []),
        "competitors": [
            {
                "domain": c["domain"],
                "period": c["latest"]["period"],
                "impression_share": (c["latest"].get("impression_share") or {}).get("value"),
                "overlap_rate": (c["latest"].get("overlap_rate") or {}).get("value"),
                "outranking_share": (c["latest"].get("outranking_share") or {}).get("value"),
            }
            for c in rivals
        ],
        "moves": [
            {k: m.get(k) for k in ("type", "domain", "period", "from", "to", "change_pts")}
            for m in r.get("moves", [])
        ][-10:],
        "own_latest_week": own[-1] if own else None,
        "platform_limits": r.get("platform_limits", []),
        "source": f"GET /api/v1/competitor-analysis/{row.id}",
    }


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[_Args]
    run: Callable[[ToolContext, Any], dict[str, Any]]

    def definition(self) -> ToolDef:
        schema = self.args.model_json_schema()
        schema.pop("title", None)
        return ToolDef(self.name, self.description, schema)


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "performance_summary",
            "The client's KPIs (spend, conversions, revenue, CTR, CPC, CPA, ROAS) for a period against the "
            "previous one, with the split by platform.",
            SummaryArgs,
            performance_summary,
        ),
        Tool(
            "kpi_drivers",
            "Why a KPI rose or fell: its value now and before, the funnel drivers (CPM, CTR, CVR, AOV, mix "
            "across campaigns) in percent points, and the campaigns that moved most.",
            DriversArgs,
            kpi_drivers,
        ),
        Tool(
            "pacing",
            "Month-to-date spend against the client's monthly budget: pace, projection, status.",
            PacingArgs,
            pacing,
        ),
        Tool(
            "forecast_month_end",
            "Spend, conversions and revenue projected to the end of the month (run rate and recent rate).",
            ForecastArgs,
            forecast_month_end,
        ),
        Tool(
            "rank_campaigns",
            "The client's campaigns ranked by a KPI over the last N days, best or worst first.",
            RankArgs,
            rank_campaigns,
        ),
        Tool(
            "what_if_shift",
            "Forecast of moving a share of one platform's budget to another (analyst role or higher).",
            WhatIfArgs,
            what_if_shift,
        ),
        Tool(
            "competitor_summary",
            "The latest competitor analysis: the main competitors by overlap rate with their impression and "
            "outranking shares, the moves detected (jumps, entrants, exits) and the client's own impression share.",
            CompetitorsArgs,
            competitor_summary,
        ),
        Tool(
            "list_experiments",
            "The client's A/B experiments with their status and design.",
            ExperimentsArgs,
            list_experiments,
        ),
    )
}


def run_tool(ctx: ToolContext, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Runs one tool; bad arguments, refused access and empty data become a ToolError naming the reason."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolError(f"unknown tool {name!r}; known: {', '.join(sorted(TOOLS))}")
    try:
        args = tool.args.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolError(f"invalid arguments for {name}: {problems}") from exc
    try:
        with ctx.uow.session.begin_nested():
            return tool.run(ctx, args)
    except DomainError as exc:
        raise ToolError(f"{name}: {exc}") from exc
