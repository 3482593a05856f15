"""The figures of one report: the analytics dashboard for the client and period (the same call the dashboard
API makes, so a report's numbers are the dashboard's), plus KPIs against the client's goals, the campaigns that
moved most and why (driver decomposition), rule-based recommendations with their evidence, period pacing and
the methodology (attribution, FX, time zone, data as of, sources and whether the period's data is final).

The result is JSON (dates as ISO strings, money as decimal strings) so that a re-render after a commentary edit
reads exactly what was computed the first time."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, text

from strategist.adapters.db.models import Client, PlatformConnection, Tenant
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain import drivers as drv
from strategist.domain.auth import Principal
from strategist.domain.clients import LOWER_IS_BETTER
from strategist.http.schemas.analytics import DashboardQuery
from strategist.services import analytics, fx
from strategist.services.reports import timing

PLATFORM_LABELS = {
    "google_ads": "Google Ads",
    "youtube_ads": "YouTube",
    "meta_ads": "Meta",
    "linkedin_ads": "LinkedIn",
    "tiktok_ads": "TikTok",
    "email": "E-mail",
}
KPI_LABELS = {
    "spend": "Spend", "impressions": "Impressions", "reach": "Reach", "clicks": "Clicks", "ctr": "CTR",
    "cpc": "CPC", "cpm": "CPM", "conversions": "Conversions", "cpa": "CPA", "revenue": "Revenue",
    "roas": "ROAS", "leads": "Leads", "cpl": "CPL", "video_views": "Video views", "engagement": "Engagement",
    "cvr": "Conversion rate",
}  # fmt: skip
#: Always shown; the client's own KPIs and goals are added after them.
CORE_KPIS = ("spend", "impressions", "clicks", "ctr", "conversions", "cpa", "revenue", "roas")
#: Volume KPIs: a goal for them is read as a monthly target and pro-rated to the period.
VOLUME_KPIS = frozenset({"spend", "impressions", "clicks", "conversions", "revenue"})
#: KPIs the synced metrics do not carry (no column for them).
NOT_SYNCED = frozenset({"reach", "leads", "cpl", "video_views", "engagement"})
TOP_MOVERS = 5
#: A platform's CPA must be this much below another's (both with >= 10 % of spend) to suggest a shift.
SHIFT_CPA_RATIO = 0.7
SHIFT_MIN_SHARE = 10
PACE_TOLERANCE_PCT = Decimal(5)

_MOVERS_SQL = text(
    "SELECT c.id, c.name, c.platform, m.date::text, m.currency, sum(m.cost), sum(m.impressions), "
    "sum(m.clicks), sum(m.conversions), sum(m.conversion_value) "
    "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE m.tenant_id = :tenant AND c.tenant_id = :tenant AND c.client_id = :client AND m.breakdown = '' "
    "AND (m.date BETWEEN :start AND :end OR m.date BETWEEN :prev_start AND :prev_end) "
    "GROUP BY c.id, c.name, c.platform, m.date, m.currency"
)
_RECOMMENDATIONS_SQL = text(
    "SELECT r.title, r.rationale, r.priority, r.confidence, r.kind, r.created_at FROM optimization_recommendations r "
    "WHERE r.client_id = :client AND r.status IN ('proposed', 'pending_approval') AND r.created_at >= :since "
    "ORDER BY CASE r.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, r.confidence DESC, r.created_at "
    "DESC LIMIT 5"
)


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _q2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _colour(value: Any, default: str) -> str:
    """Only #rrggbb reaches the stylesheet (branding is validated on input; this holds for older rows too)."""
    return value if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value) else default


def label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform.replace("_", " ").title())


def system_principal(tenant_id: uuid.UUID) -> Principal:
    """Scheduled reports are built by the worker, which may see every client of the tenant."""
    from strategist.domain.auth import Role

    return Principal(tenant_id=tenant_id, user_id=None, role=Role.OWNER, client_ids=None)


def connection_facts(uow: UnitOfWork, client_id: uuid.UUID) -> list[timing.ConnectionFacts]:
    rows = uow.session.scalars(
        select(PlatformConnection)
        .where(PlatformConnection.client_id == client_id, PlatformConnection.deleted_at.is_(None))
        .order_by(PlatformConnection.platform, PlatformConnection.account_id)
    )
    return [
        timing.ConnectionFacts(
            id=str(c.id),
            platform=c.platform,
            name=c.name,
            status=c.status,
            time_zone=c.time_zone,
            data_through=c.data_through,
            data_as_of=c.data_as_of,
        )
        for c in rows
        if c.platform != "email"
    ]


# -- KPIs against goals -----------------------------------------------------------------------------------------
def _prorated_goal(goal: Decimal, start: dt.date, end: dt.date) -> Decimal:
    """A monthly volume target over [start, end]: each day counts 1 / (days in its month)."""
    total = Decimal(0)
    day = start
    while day <= end:
        total += Decimal(1) / calendar.monthrange(day.year, day.month)[1]
        day += dt.timedelta(days=1)
    return _q2(goal * total)


def _kpis(
    client: Client, overview: dict[str, Any], start: dt.date, end: dt.date
) -> tuple[list[dict[str, Any]], list[str]]:
    wanted = list(CORE_KPIS) + [k for k in (client.kpis or []) if k in KPI_LABELS and k not in CORE_KPIS]
    goals = {str(k): Decimal(str(v)) for k, v in (client.goals or {}).items()}
    for k in goals:
        if k not in wanted:
            wanted.append(k)
    rows, notes = [], []
    clicks = overview["clicks"]
    conversions = overview["conversions"]

    def cvr(side: str) -> Decimal | None:
        c, n = _d(conversions[side]), _d(clicks[side])
        return None if c is None or not n else (c * 100 / n).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    prorated = False
    for k in wanted:
        if k in NOT_SYNCED:
            value = previous = change = None
        elif k == "cvr":
            value, previous = cvr("value"), cvr("previous")
            change = None if value is None or not previous else _q2((value - previous) * 100 / previous)
        else:
            m = overview[k]
            value, previous, change = _d(m["value"]), _d(m["previous"]), _d(m["change_pct"])
        goal = goals.get(k)
        goal_kind = "ceiling" if k in {x.value for x in LOWER_IS_BETTER} else "floor"
        if goal is not None and k in VOLUME_KPIS:
            goal = _prorated_goal(goal, start, end)
            prorated = True
        if k in NOT_SYNCED:
            status, status_text = "muted", "not measured by the synced platforms"
        elif goal is None:
            status, status_text = "muted", "no goal set"
        elif value is None:
            status, status_text = "muted", "no data"
        else:
            met = value <= goal if goal_kind == "ceiling" else value >= goal
            gap = None if not goal else _q2((value - goal) * 100 / goal)
            status = "met" if met else "missed"
            status_text = ("met" if met else "missed") + ("" if gap is None else f" ({gap:+.1f} % vs goal)")
        rows.append(
            {
                "kpi": k,
                "label": KPI_LABELS.get(k, k),
                "value": value,
                "previous": previous,
                "change_pct": change,
                "goal": goal,
                "goal_kind": goal_kind,
                "status": status,
                "status_text": status_text,
            }
        )
    if prorated:
        notes.append(
            "Goals for volumes (spend, impressions, clicks, conversions, revenue) are monthly targets, pro-rated "
            "to the period by day (each day counts 1/days of its month)."
        )
    notes.append("Goals for cost KPIs (CPA, CPC, CPM) are ceilings; every other goal is a floor.")
    return rows, notes


# -- movers and drivers -----------------------------------------------------------------------------------------
def _movers(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    client_id: uuid.UUID,
    period: analytics.Window,
    previous: analytics.Window,
    target: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    raw = list(
        uow.session.execute(
            _MOVERS_SQL,
            {
                "tenant": tenant_id,
                "client": client_id,
                "start": period.start,
                "end": period.end,
                "prev_start": previous.start,
                "prev_end": previous.end,
            },
        )
    )
    needs = [(r[4], dt.date.fromisoformat(r[3])) for r in raw if r[4] != target]
    table = fx.RateTable.from_rows([])
    if needs:
        table = fx.load_table(uow.session, sorted({c for c, _ in needs} | {target}), min(d for _, d in needs),
                              max(d for _, d in needs))  # fmt: skip
    conv = analytics.Converter(table, target)
    camp: dict[uuid.UUID, dict[str, Any]] = {}
    plat: dict[str, list[drv.FunnelSums]] = defaultdict(lambda: [drv.ZERO_SUMS, drv.ZERO_SUMS])
    skipped: set[str] = set()
    for cid, name, platform, day_s, currency, cost, impressions, clicks, conversions, value in raw:
        day = dt.date.fromisoformat(day_s)
        f = Decimal(1) if currency == target else conv.factor(currency, day)
        if f is None:
            skipped.add(currency)
            continue
        sums = drv.FunnelSums(float(cost * f), float(impressions), float(clicks), float(conversions),
                              float(value * f))  # fmt: skip
        side = 1 if day >= period.start else 0
        entry = camp.setdefault(
            cid, {"name": name, "platform": platform, "sums": [drv.ZERO_SUMS, drv.ZERO_SUMS]}
        )
        entry["sums"][side] = entry["sums"][side] + sums
        plat[platform][side] = plat[platform][side] + sums
    notes = (
        [f"Rows in {', '.join(sorted(skipped))} have no ECB rate and are left out of movers."]
        if skipped
        else []
    )

    drivers = []
    for kpi in ("cpa", "roas"):
        d = drv.decompose(kpi, {p: s[0] for p, s in plat.items()}, {p: s[1] for p, s in plat.items()})
        if d.ok and d.change_pct is not None:
            drivers.append(
                {
                    "kpi": kpi,
                    "previous": d.previous,
                    "current": d.current,
                    "change_pct": d.change_pct,
                    "components": [c.__dict__ for c in d.components],
                    "summary": drv.summary_sentence(d, "mix across platforms"),
                }
            )

    movers = []
    for cid, e in camp.items():
        before, after = e["sums"]
        if before.spend == 0 and after.spend == 0 and before.conversions == 0 and after.conversions == 0:
            continue
        d = drv.decompose("cpa", {"campaign": before}, {"campaign": after})
        if d.ok and d.change_pct is not None:
            why = drv.summary_sentence(d, "mix")
        elif before.spend == 0:
            why = "New this period: no spend in the comparison period."
        elif after.spend == 0:
            why = "Stopped: no spend this period."
        else:
            spend_pct = (after.spend - before.spend) * 100 / before.spend
            why = f"Spend {'rose' if spend_pct >= 0 else 'fell'} {abs(spend_pct):.1f} %; no conversions to decompose CPA."
        movers.append(
            {
                "campaign_id": cid,
                "name": e["name"],
                "platform": e["platform"],
                "platform_label": label(e["platform"]),
                "spend": _q2(Decimal(after.spend)),
                "previous_spend": _q2(Decimal(before.spend)),
                "spend_change_pct": None
                if not before.spend
                else round((after.spend - before.spend) * 100 / before.spend, 2),
                "conversions": round(after.conversions, 2),
                "previous_conversions": round(before.conversions, 2),
                "conversions_change": round(after.conversions - before.conversions, 2),
                "cpa": None if not after.conversions else _q2(Decimal(after.spend / after.conversions)),
                "previous_cpa": None
                if not before.conversions
                else _q2(Decimal(before.spend / before.conversions)),
                "cpa_change_pct": d.change_pct if d.ok else None,
                "components": [c.__dict__ for c in d.components] if d.ok else [],
                "why": why,
            }
        )
    movers.sort(
        key=lambda m: (
            -abs(m["conversions_change"]),
            -abs(float(m["spend"] - m["previous_spend"])),
            m["name"],
        )
    )
    return movers[:TOP_MOVERS], drivers, notes


# -- recommendations ---------------------------------------------------------------------------------------------
_FACTOR_ADVICE = {
    "cpm": "auction prices rose: review bids, audience overlap and placements",
    "ctr": "fewer people clicked: refresh creative and check ad fatigue (frequency)",
    "cvr": "fewer clicks converted: check the landing page and conversion tracking",
    "aov": "order values fell: review the offer and product mix",
    "mix": "spend moved towards weaker segments: rebalance towards the stronger ones",
}


def _recommendations(
    uow: UnitOfWork,
    client: Client,
    kpis: list[dict[str, Any]],
    drivers: list[dict[str, Any]],
    movers: list[dict[str, Any]],
    platforms: list[dict[str, Any]],
    pacing: dict[str, Any],
    sources: list[dict[str, Any]],
    currency: str,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in sources:
        if s["status"] != "active":
            out.append(
                {
                    "title": f"Reconnect {s['name']} ({label(s['platform'])}).",
                    "detail": "It is not syncing, so its figures stop at the last sync.",
                    "evidence": f"status {s['status']}, data through {s['data_through'] or 'never'}",
                    "source": "data_freshness",
                }
            )
    by_kpi = {d["kpi"]: d for d in drivers}
    for k in kpis:
        if k["status"] != "missed" or k["kpi"] not in ("cpa", "roas"):
            continue
        d = by_kpi.get(k["kpi"])
        worst = None
        if d:
            bad = [
                c
                for c in d["components"]
                if (c["pct_points"] > 0) == (k["kpi"] == "cpa") and c["name"] in _FACTOR_ADVICE
            ]
            worst = max(bad, key=lambda c: abs(c["pct_points"]), default=None)
        advice = _FACTOR_ADVICE.get(worst["name"], "") if worst else ""
        out.append(
            {
                "title": f"{k['label']} missed its goal.",
                "detail": (
                    f"The largest driver of its change was {worst['name'].upper() if worst['name'] != 'mix' else 'the platform mix'}: "
                    f"{advice}."
                    if worst
                    else "Review bids and budgets on the weakest platforms."
                ),
                "evidence": f"{k['label']} {_q2(k['value'])} vs goal {_q2(k['goal'])}; "
                + (d["summary"] if d else "no change to decompose"),
                "source": "goals",
            }
        )
    eligible = [
        p for p in platforms if p["cpa"] is not None and (p["share_of_spend_pct"] or 0) >= SHIFT_MIN_SHARE
    ]
    if len(eligible) >= 2:
        best = min(eligible, key=lambda p: Decimal(str(p["cpa"])))
        worst_p = max(eligible, key=lambda p: Decimal(str(p["cpa"])))
        if Decimal(str(best["cpa"])) < Decimal(str(worst_p["cpa"])) * Decimal(str(SHIFT_CPA_RATIO)):
            out.append(
                {
                    "title": f"Test moving 10-20 % of {label(worst_p['platform'])} budget to {label(best['platform'])}.",
                    "detail": "These are average CPAs; returns fall as spend grows, so move in steps and watch the "
                    "marginal CPA (the budget optimizer estimates it from the response curves).",
                    "evidence": f"CPA {currency} {_q2(Decimal(str(best['cpa'])))} on {label(best['platform'])} vs "
                    f"{currency} {_q2(Decimal(str(worst_p['cpa'])))} on {label(worst_p['platform'])}, each with at "
                    f"least {SHIFT_MIN_SHARE} % of spend",
                    "source": "platform_mix",
                }
            )
    for m in movers:
        if (m["cpa_change_pct"] or 0) > 20 and m["components"]:
            top = max(
                (c for c in m["components"] if c["pct_points"] > 0),
                key=lambda c: c["pct_points"],
                default=None,
            )
            if top and top["name"] in _FACTOR_ADVICE:
                out.append(
                    {
                        "title": f"{m['name']}: CPA up {m['cpa_change_pct']:.1f} %.",
                        "detail": _FACTOR_ADVICE[top["name"]].capitalize() + ".",
                        "evidence": m["why"],
                        "source": "top_movers",
                    }
                )
    month = pacing.get("month")
    if month and month.get("status") in ("over", "under") and month.get("days_in_month"):
        today = dt.date.fromisoformat(str(month["today"]))
        remaining_days = month["days_in_month"] - today.day + 1
        left = Decimal(str(month["monthly_budget"])) - Decimal(str(month["month_to_date_spend"]))
        if remaining_days > 0:
            daily = _q2(max(left, Decimal(0)) / remaining_days)
            out.append(
                {
                    "title": f"Budget is pacing {month['status']}: set daily spend to about {month['currency']} {daily}.",
                    "detail": f"That lands the month on its {month['currency']} {month['monthly_budget']} budget.",
                    "evidence": f"projected month end {month['currency']} {month['projected_month_end']} "
                    f"({month['projected_pct_of_budget']} % of budget), {remaining_days} days left",
                    "source": "pacing",
                }
            )
    exists = uow.session.execute(
        text("SELECT to_regclass('optimization_recommendations') IS NOT NULL")
    ).scalar()
    if exists:
        for title, rationale, priority, confidence, kind, _created in uow.session.execute(
            _RECOMMENDATIONS_SQL, {"client": client.id, "since": now - dt.timedelta(days=30)}
        ):
            out.append(
                {
                    "title": title,
                    "detail": rationale,
                    "evidence": f"optimization engine, {kind}, priority {priority}, confidence {float(confidence):.0%}",
                    "source": "optimization",
                }
            )
    return out


# -- pacing --------------------------------------------------------------------------------------------------------
def _pacing(client: Client, dash: dict[str, Any], start: dt.date, end: dt.date) -> dict[str, Any]:
    out: dict[str, Any] = {"period_budget": None, "month": None}
    if client.monthly_budget is None:
        return out
    if dash["currency"] == client.currency:
        budget = _prorated_goal(Decimal(client.monthly_budget), start, end)
        spend = Decimal(str(dash["overview"]["spend"]["value"]))
        pct_of = None if not budget else _q2(spend * 100 / budget)
        if pct_of is None:
            status = "no budget"
        elif abs(pct_of - 100) <= PACE_TOLERANCE_PCT:
            status = "on budget"
        else:
            status = f"{'over' if pct_of > 100 else 'under'} budget by {abs(pct_of - 100):.1f} %"
        out["period_budget"] = {
            "currency": client.currency,
            "budget": budget,
            "spend": spend,
            "pct_of_budget": pct_of,
            "status_text": status,
            "method": "monthly budget x (days of each month in the period / days in that month)",
        }
    month = [p for p in dash["pacing"]["clients"] if p["client_id"] == client.id]
    if month:
        out["month"] = month[0]
    return out


# -- the whole report -----------------------------------------------------------------------------------------------
def build(
    uow: UnitOfWork,
    principal: Principal,
    client: Client,
    *,
    start: dt.date,
    end: dt.date,
    sections: list[str],
    title: str,
    currency: str | None,
    now: dt.datetime,
    finality: timing.Finality,
    provisional: bool,
) -> dict[str, Any]:
    query = DashboardQuery(
        client_id=client.id, start=start, end=end, compare="previous_period", currency=currency
    )
    dash = analytics.dashboard(uow, principal, query, now=now)
    period = analytics.Window(start, end, "custom")
    previous = analytics.comparison_window(period, "previous_period")
    assert previous is not None
    target = dash["currency"]
    tenant = uow.session.get(Tenant, client.tenant_id)
    branding = {**((tenant.branding if tenant else {}) or {}), **(client.branding or {})}

    kpis, kpi_notes = _kpis(client, dash["overview"], start, end)
    movers, drivers, mover_notes = _movers(uow, principal.tenant_id, client.id, period, previous, target)
    platforms = [{**p, "label": label(p["platform"])} for p in dash["platform_breakdown"]]
    pacing = _pacing(client, dash, start, end)
    windows_by_platform = {p["platform"]: p["attribution_windows"] for p in dash["platform_breakdown"]}
    final_by_conn = {c["connection_id"]: c for c in finality.connections}
    sources = [
        {
            "connection_id": c["connection_id"],
            "name": c["name"],
            "platform": c["platform"],
            "platform_label": label(c["platform"]),
            "status": c["status"],
            "broken_reason": c["broken_reason"],
            "data_through": c["data_through"],
            "data_as_of": c["data_as_of"],
            "covers_period": c["covers_period"],
            "attribution_windows": windows_by_platform.get(c["platform"], []),
            "final": final_by_conn.get(str(c["connection_id"]), {}).get("final", True),
        }
        for c in dash["data_freshness"]["connections"]
    ]
    recommendations = _recommendations(
        uow, client, kpis, drivers, movers, platforms, pacing, sources, target, now
    )
    as_of = [s["data_as_of"] for s in sources if s["data_as_of"] is not None]
    provisional_reasons = [
        f"{c['name']} ({label(c['platform'])}): {'; '.join(c['reasons'])}"
        for c in finality.connections
        if not c["final"]
    ]
    methodology = [
        f"Period {start.isoformat()} to {end.isoformat()} in the client's reporting time zone "
        f"({client.reporting_timezone}); compared with the same number of days immediately before "
        f"({previous.start.isoformat()} to {previous.end.isoformat()}).",
        # the dashboard's own notes, less the two about its period presets and its top-10 list (not in a report)
        *(m for m in dash["methodology"] if not m.startswith(("Period ", "Top campaigns"))),
        "Attribution windows by platform: "
        + (
            "; ".join(f"{label(p)}: {', '.join(w)}" for p, w in sorted(windows_by_platform.items()))
            or "no conversions synced"
        )
        + ". Each platform credits conversions under its own window; they are not de-duplicated across platforms.",
    ]
    fx_info = dash["fx"]
    if fx_info["rates_used"]:
        methodology.append(
            f"FX: {fx_info['source']}. Rates used (units per EUR): "
            + ", ".join(f"{r['currency']} {r['per_eur']} on {r['rate_date']}" for r in fx_info["rates_used"])
            + "."
        )
    methodology.extend(fx_info["notes"])
    methodology.append(
        "Data as of: "
        + (
            min(as_of).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            + " (the least recent sync of the sources below)"
            if as_of
            else "no platform has synced; figures come from imported metrics only"
        )
        + ". "
        + timing.RULE
        + (
            " This report is provisional: " + "; ".join(provisional_reasons) + "."
            if provisional
            else " Every source was final when this report was built."
        )
    )
    methodology.append(
        "What moved: campaigns ranked by the absolute change in conversions; 'why' splits the change of CPA into "
        "CPM, CTR and CVR (and, for the client, the mix across platforms) from the period sums: "
        "ln(current / previous) is divided exactly among the factors and rescaled to percentage points."
    )
    methodology.append(
        "Recommendations are rules applied to the figures above, each with its evidence; platform CPAs are "
        "averages, not marginal costs."
    )
    methodology.extend(kpi_notes)
    methodology.extend(mover_notes)
    data = {
        "title": title,
        "client": {
            "id": client.id,
            "name": client.name,
            "currency": client.currency,
            "reporting_timezone": client.reporting_timezone,
        },
        "agency": {
            "name": branding.get("sender_name") or (tenant.name if tenant else ""),
            "primary_color": _colour(branding.get("primary_color"), "#1f2937"),
            "accent_color": _colour(branding.get("accent_color"), "#2563eb"),
            "footer": branding.get("footer_text") or "",
        },
        "period": {
            "start": start,
            "end": end,
            "label": timing.period_label(start, end),
            "description": timing.describe_period(start, end),
            "time_zone": client.reporting_timezone,
        },
        "comparison_period": {"start": previous.start, "end": previous.end},
        "currency": target,
        "generated_at": now,
        "data_as_of": min(as_of) if as_of else None,
        "provisional": provisional,
        "provisional_reasons": provisional_reasons if provisional else [],
        "finality": finality.as_dict(),
        "sections": sections,
        "kpis": kpis,
        "kpi_notes": kpi_notes,
        "platforms": platforms,
        "drivers": drivers,
        "movers": movers,
        "recommendations": recommendations,
        "pacing": pacing,
        "sources": sources,
        "methodology": methodology,
        "dashboard": {
            "overview": dash["overview"],
            "performance_trends": dash["performance_trends"],
            "platform_breakdown": dash["platform_breakdown"],
            "pacing": dash["pacing"],
            "data_freshness": dash["data_freshness"],
            "period": dash["period"],
            "comparison_period": dash["comparison_period"],
            "currency": dash["currency"],
            "fx": dash["fx"],
        },
    }
    return jsonable(data)
