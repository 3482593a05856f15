"""Campaign insights: trends with a comparison period, a driver decomposition of the KPI changes, anomalies on each
daily metric, a forecast to the end of the flight, pacing, the fitted response curve with marginal ROAS/CPA, and
the data facts behind every figure.

Why one read of the campaign-total rows: one campaign has at most ~1,100 days in the widest window this route
reads (3 years), so all of trends, anomalies, pacing and the forecast's recent rate come from a single ordered
query over the primary key, and are cut in Python. Breakdown rows (ad sets, ...) are read separately and used only
for the mix effect, never added to totals. Rows in a currency other than the campaign's are left out and named
(nothing here converts with FX); the response model is the client's, in the client's currency, from
``services.response_models`` (cached per campaign in ``fitted_models``).

numpy/pandas/strategist.ml are imported inside the functions that need them (heavy imports stay off the module).
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, text

from strategist.adapters.db.models import Campaign, Client, PlatformConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain import drivers as drv
from strategist.domain.auth import Principal
from strategist.domain.money import minor_unit_exponent
from strategist.http.schemas.insights import InsightsQuery
from strategist.services import analytics, campaigns
from strategist.services.analytics import Window

ROLLING_DAYS = {"7d": 7, "14d": 14, "30d": 30, "90d": 90}
#: anomalies are judged over at least this many days ending with the period ...
ANOMALY_DAYS = 56
#: ... each against a baseline that needs this much earlier history (28-day level, 8 weeks of weekday effect)
BASELINE_DAYS = 56
ANOMALY_METRICS = {
    "cost": "spend",
    "impressions": "impressions",
    "clicks": "clicks",
    "conversions": "conversions",
}
ANOMALY_THRESHOLD = 3.5
#: the forecast's spend rate is the mean daily spend of this many complete days
RATE_DAYS = 14
MIN_RATE_DAYS = 3
CURVE_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
#: a breakdown dimension is used for the mix effect only if its rows add up to the campaign totals within this
RECONCILE_TOL = 0.005
PREFERRED_DIMENSIONS = ("ad_set", "adset", "ad_group", "adgroup", "ad_squad", "ad")
N_DRAWS = 2000

RATIO_Q = Decimal("0.0001")
PCT_Q = Decimal("0.01")
ZERO = Decimal(0)

_DAILY_SQL = text(
    "SELECT date::text, currency, cost, impressions, clicks, conversions, conversion_value, attribution_window, "
    "source, time_zone, synced_at FROM campaign_metrics "
    "WHERE campaign_id = :c AND breakdown = '' AND date BETWEEN :lo AND :hi ORDER BY date"
)
_SEGMENTS_SQL = text(
    "SELECT breakdown, date >= :cur_start AS is_current, sum(cost), sum(impressions), sum(clicks), "
    "sum(conversions), sum(conversion_value) FROM campaign_metrics "
    "WHERE campaign_id = :c AND breakdown <> '' AND currency = :cur "
    "AND (date BETWEEN :cur_start AND :cur_end OR date BETWEEN :prev_start AND :prev_end) "
    "GROUP BY breakdown, is_current"
)
_SUM_SQL = text(
    "SELECT sum(cost), sum(conversions), sum(conversion_value) FROM campaign_metrics "
    "WHERE campaign_id = :c AND breakdown = '' AND currency = :cur AND date BETWEEN :lo AND :hi"
)


@dataclass(frozen=True, slots=True)
class Day:
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _ratio(num: Decimal | int, den: Decimal | int, scale: int = 1) -> Decimal | None:
    return None if not den else _q(Decimal(num) * scale / Decimal(den), RATIO_Q)


def _ratios(d: Day) -> dict[str, Decimal | None]:
    return {
        "ctr": _ratio(d.clicks, d.impressions, 100),
        "cpc": _ratio(d.spend, d.clicks),
        "cpm": _ratio(d.spend, d.impressions, 1000),
        "cvr": _ratio(d.conversions, d.clicks, 100),
        "cpa": _ratio(d.spend, d.conversions),
        "roas": _ratio(d.revenue, d.spend),
    }


def _sum(days: list[Day]) -> Day:
    return Day(
        sum((d.spend for d in days), ZERO),
        sum(d.impressions for d in days),
        sum(d.clicks for d in days),
        sum((d.conversions for d in days), ZERO),
        sum((d.revenue for d in days), ZERO),
    )


EMPTY = Day(ZERO, 0, 0, ZERO, ZERO)


# -- periods -------------------------------------------------------------------------------------------------
def resolve_period(query: InsightsQuery, today: dt.date) -> Window:
    """Rolling ranges are the N complete days ending yesterday in the campaign's zone: today is partial and the
    platforms restate recent days."""
    if query.start is not None and query.end is not None:
        return Window(query.start, query.end, "custom")
    label = query.date_range or "30d"
    end = today - dt.timedelta(days=1)
    return Window(end - dt.timedelta(days=ROLLING_DAYS[label] - 1), end, label)


# -- sections ------------------------------------------------------------------------------------------------
def _trends(
    days: dict[dt.date, Day], period: Window, previous: Window, money_q: Decimal
) -> tuple[dict[str, Any], Day, Day]:
    def series(w: Window) -> list[dict[str, Any]]:
        out = []
        for d in w.dates():
            day = days.get(d, EMPTY)
            out.append(
                {
                    "date": d,
                    "has_data": d in days,
                    "spend": _q(day.spend, money_q),
                    "impressions": day.impressions,
                    "clicks": day.clicks,
                    "conversions": _q(day.conversions, PCT_Q),
                    "revenue": _q(day.revenue, money_q),
                    **_ratios(day),
                }
            )
        return out

    def totals(w: Window) -> tuple[dict[str, Any], Day]:
        present = [days[d] for d in w.dates() if d in days]
        t = _sum(present)
        return {
            "days_with_data": len(present),
            "spend": _q(t.spend, money_q),
            "impressions": t.impressions,
            "clicks": t.clicks,
            "conversions": _q(t.conversions, PCT_Q),
            "revenue": _q(t.revenue, money_q),
            **_ratios(t),
        }, t

    cur, cur_sum = totals(period)
    prev, prev_sum = totals(previous)
    deltas = []
    for metric in (
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "ctr",
        "cpc",
        "cpm",
        "cvr",
        "cpa",
        "roas",
    ):
        a, b = cur[metric], prev[metric]
        change = None if a is None or b is None else a - b
        pct = None if change is None or not b else _q(Decimal(change) * 100 / Decimal(b), PCT_Q)
        deltas.append({"metric": metric, "current": a, "previous": b, "change": change, "change_pct": pct})

    def label(w: Window) -> dict[str, Any]:
        return {"start": w.start, "end": w.end, "days": w.days, "label": w.label}

    return (
        {
            "period": label(period),
            "comparison_period": label(previous),
            "current": series(period),
            "comparison": series(previous),
            "totals": cur,
            "comparison_totals": prev,
            "deltas": deltas,
        },
        cur_sum,
        prev_sum,
    )


def _funnel(d: Day) -> drv.FunnelSums:
    return drv.FunnelSums(
        float(d.spend), float(d.impressions), float(d.clicks), float(d.conversions), float(d.revenue)
    )


def _dimension(name: str) -> str:
    return name.split(":", 1)[0] if ":" in name else "breakdown"


def _pick_segments(
    rows: list[tuple[str, bool, Day]], cur: Day, prev: Day
) -> tuple[str | None, dict[str, Day], dict[str, Day], list[str]]:
    """The breakdown dimension used for the mix effect: ad-set-like dimensions first; it must reconcile with
    the campaign totals in both periods (so the decomposition of its rows is the decomposition of the campaign),
    and rows of different dimensions are never added together."""
    by_dim: dict[str, tuple[dict[str, Day], dict[str, Day]]] = defaultdict(lambda: ({}, {}))
    for name, is_current, day in rows:
        by_dim[_dimension(name)][0 if is_current else 1][name] = day
    notes: list[str] = []

    def rank(dim: str) -> tuple[int, str]:
        return (
            PREFERRED_DIMENSIONS.index(dim) if dim in PREFERRED_DIMENSIONS else len(PREFERRED_DIMENSIONS),
            dim,
        )

    for dim in sorted(by_dim, key=rank):
        now, before = by_dim[dim]
        ok = True
        for segs, total in ((now, cur), (before, prev)):
            s = _sum(list(segs.values()))
            for field in ("spend", "impressions", "clicks", "conversions", "revenue"):
                want, got = Decimal(getattr(total, field)), Decimal(getattr(s, field))
                if abs(got - want) > Decimal(str(RECONCILE_TOL)) * max(abs(want), Decimal(1)):
                    ok = False
        if ok and len(set(now) | set(before)) > 1:
            return dim, now, before, notes
        notes.append(
            f"Breakdown '{dim}' was not used for the mix effect: its rows do not add up to the campaign totals "
            f"within {RECONCILE_TOL:.1%} in both periods (partial coverage or a different attribution)."
            if not ok
            else f"Breakdown '{dim}' has a single row: no mix to measure."
        )
    return None, {}, {}, notes


def _drivers(
    uow: UnitOfWork, campaign: Campaign, period: Window, previous: Window, cur: Day, prev: Day
) -> dict[str, Any]:
    seg_rows = [
        (r[0], bool(r[1]), Day(r[2] or ZERO, int(r[3] or 0), int(r[4] or 0), r[5] or ZERO, r[6] or ZERO))
        for r in uow.session.execute(
            _SEGMENTS_SQL,
            {
                "c": campaign.id,
                "cur": campaign.currency,
                "cur_start": period.start,
                "cur_end": period.end,
                "prev_start": previous.start,
                "prev_end": previous.end,
            },
        )
    ]
    dim, now, before, notes = _pick_segments(seg_rows, cur, prev) if seg_rows else (None, {}, {}, [])
    if dim is not None:
        after_map = {k: _funnel(v) for k, v in now.items()}
        before_map = {k: _funnel(v) for k, v in before.items()}
        basis, mix_label = f"breakdown rows ({dim})", f"mix across {dim.replace('_', ' ')}s"
    else:
        after_map, before_map = {"campaign": _funnel(cur)}, {"campaign": _funnel(prev)}
        basis, mix_label = "campaign totals (no breakdown rows to measure mix)", "mix"
    kpis = []
    for name in ("cpa", "roas", "cpc"):
        d = drv.decompose(name, before_map, after_map)
        kpis.append(
            {
                "kpi": name,
                "previous": d.previous,
                "current": d.current,
                "change_pct": d.change_pct,
                "log_points": d.log_points,
                "components": [c.__dict__ for c in d.components],
                "summary": drv.summary_sentence(d, mix_label),
                "reason": d.reason,
            }
        )
    return {
        "basis": basis,
        "breakdown_dimension": dim,
        "segments": len(set(after_map) | set(before_map)),
        "kpis": kpis,
        "method": (
            "CPA = CPM / (1000 x CTR x CVR), CPC = CPM / (1000 x CTR), ROAS = CTR x CVR x AOV x 1000 / CPM, all from "
            "period sums. ln(current / previous) of each KPI is split exactly into its factors' log-changes; with "
            "breakdown rows, the KPI's yield per unit of spend (conversions, clicks or revenue per unit) is a "
            "spend-weighted average of the rows' yields, and a midpoint shift-share splits its change into mix "
            "(spend shares moving between rows) and within-row rate changes, which the logarithmic mean splits "
            "over the factors. log_points add up to 100 x ln(current / previous); pct_points rescale them to add "
            "up to the percent change."
        ),
        "notes": notes,
    }


def _anomalies(days: dict[dt.date, Day], period: Window, today: dt.date) -> dict[str, Any]:
    import pandas as pd

    from strategist.ml.anomaly import detect_anomalies

    eval_to = period.end
    eval_from = min(period.start, eval_to - dt.timedelta(days=ANOMALY_DAYS - 1))
    base_from = eval_from - dt.timedelta(days=BASELINE_DAYS)
    dates = [d for d in days if base_from <= d <= eval_to]
    items: list[dict[str, Any]] = []
    if dates:
        idx = pd.DatetimeIndex(sorted(dates))
        for metric, attr in ANOMALY_METRICS.items():
            series = pd.Series([float(getattr(days[d], attr)) for d in sorted(dates)], index=idx)
            # re-index over the whole window: days without a row are missing, not zero
            series = series.reindex(pd.date_range(base_from, eval_to, freq="D"))
            if series.notna().sum() < 14:
                continue
            res = detect_anomalies(series, threshold=ANOMALY_THRESHOLD)
            hits = res[res["is_anomaly"] & (res.index >= pd.Timestamp(eval_from))]
            for ts, r in hits.iterrows():
                day = ts.date()
                items.append(
                    {
                        "date": day,
                        "metric": metric,
                        "value": round(float(r["value"]), 4),
                        "expected": round(float(r["expected"]), 4),
                        "band": [round(float(r["lower"]), 4), round(float(r["upper"]), 4)],
                        "direction": str(r["direction"]),
                        "score": round(float(r["score"]), 3),
                        "early_estimate": day >= today - dt.timedelta(days=analytics.EARLY_ESTIMATE_DAYS),
                    }
                )
    items.sort(key=lambda i: (i["date"], i["metric"]))
    return {
        "evaluated_from": eval_from,
        "evaluated_to": eval_to,
        "baseline_from": base_from,
        "metrics": list(ANOMALY_METRICS),
        "items": items,
        "method": (
            "strategist.ml.anomaly.detect_anomalies on each daily series: each day against a baseline of the days "
            "before it only (trailing 28-day median level plus a weekday effect from the last 8 same weekdays, on "
            f"log(1 + x)), with a MAD-based spread; flagged beyond {ANOMALY_THRESHOLD} robust sds. Days without a "
            "row are missing, not zero. No holiday calendar is configured for clients yet, so holidays are not "
            "excluded from the baseline."
        ),
    }


def _quantiles(values: Any) -> dict[str, float]:
    import numpy as np

    q = np.quantile(np.asarray(values, dtype=float), [0.1, 0.5, 0.9])
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


def _recent_rate(days: dict[dt.date, Day], today: dt.date) -> tuple[list[float], int]:
    """Daily spends of the last RATE_DAYS complete days that have a row, and how many there are."""
    window = [today - dt.timedelta(days=i) for i in range(1, RATE_DAYS + 1)]
    spends = [float(days[d].spend) for d in window if d in days]
    return spends, len(spends)


def _forecast(
    uow: UnitOfWork,
    campaign: Campaign,
    model: Any,
    model_currency: str,
    fx_factor: float,
    days: dict[dt.date, Day],
    today: dt.date,
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from strategist.ml.forecast import forecast_plan

    if campaign.end_date is not None:
        end, end_basis = campaign.end_date, "the campaign's end date"
    else:
        end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        end_basis = "the end of the current month (the campaign has no end date)"
    base: dict[str, Any] = {"available": False, "currency": model_currency, "flight_end_basis": end_basis}
    if end < today:
        return {**base, "reason": f"the flight ended on {end}; nothing left to forecast", "horizon_end": end}
    start = max(today, campaign.start_date or today)
    spends, n = _recent_rate(days, today)
    if n < MIN_RATE_DAYS:
        return {
            **base,
            "reason": f"only {n} of the last {RATE_DAYS} complete days have data: no recent spend rate to project",
            "horizon_start": start,
            "horizon_end": end,
        }
    horizon = (end - start).days + 1
    daily = np.asarray(spends) * fx_factor
    rate = float(daily.mean())
    rng = np.random.default_rng(0)
    # spend: the remaining days resampled from the recent days' spend (the rate is uncertain day to day)
    spend_draws = rng.choice(daily, size=(N_DRAWS, horizon), replace=True).sum(axis=1)
    plan = pd.DataFrame({"date": [start + dt.timedelta(days=i) for i in range(horizon)], "c": rate})
    fc = forecast_plan(plan, {"c": model.response}, n_draws=N_DRAWS, random_state=0)
    whole = fc[(fc["date"] == "total") & (fc["platform"] == "total")].set_index("metric")

    flight_start = campaign.start_date or (today.replace(day=1) if campaign.end_date is None else None)
    to_date = (0.0, 0.0, 0.0)
    if flight_start is not None and flight_start < today:
        row = uow.session.execute(
            _SUM_SQL,
            {
                "c": campaign.id,
                "cur": campaign.currency,
                "lo": flight_start,
                "hi": today - dt.timedelta(days=1),
            },
        ).one()
        to_date = tuple(float(x or 0) * (fx_factor if i != 1 else 1.0) for i, x in enumerate(row))  # type: ignore[assignment]

    def metric(done: float, remaining: dict[str, float]) -> dict[str, Any]:
        return {
            "to_date": round(done, 4),
            "remaining": {k: round(v, 4) for k, v in remaining.items()},
            "total": {k: round(done + v, 4) for k, v in remaining.items()},
        }

    def fq(name: str) -> dict[str, float]:
        r = whole.loc[name]
        return {"p10": float(r["p10"]), "p50": float(r["p50"]), "p90": float(r["p90"])}

    since = f"since {flight_start}" if flight_start is not None else "(flight start unknown: to-date is 0)"
    return {
        "available": True,
        "currency": model_currency,
        "horizon_start": start,
        "horizon_end": end,
        "horizon_days": horizon,
        "flight_end_basis": end_basis,
        "daily_spend_rate": round(rate, 4),
        "spend": metric(to_date[0], _quantiles(spend_draws)),
        "conversions": metric(to_date[1], fq("conversions")),
        "revenue": metric(to_date[2], fq("revenue")),
        "basis": (
            f"Remaining days {start}..{end} at the mean daily spend of the last {n} complete days with data "
            f"({rate:.2f} {model_currency}/day); spend interval from resampling those days' spend; conversions and "
            f"revenue from the campaign's fitted funnel response ({model.basis}, {model.n_days} days of history) "
            f"simulated with parameter and day-to-day noise ({N_DRAWS} draws, seed 0). to_date is actual {since} "
            "through yesterday; total = to_date + remaining."
        ),
    }


def _pacing(campaign: Campaign, days: dict[dt.date, Day], today: dt.date) -> dict[str, Any]:
    cur = campaign.currency
    money_q = Decimal(1).scaleb(-minor_unit_exponent(cur))
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    yesterday = today - dt.timedelta(days=1)
    elapsed = max(0, (yesterday - month_start).days + 1)
    mtd = sum((days[d].spend for d in days if month_start <= d <= yesterday), ZERO)

    def active(lo: dt.date, hi: dt.date) -> int:
        lo = max(lo, campaign.start_date or lo)
        hi = min(hi, campaign.end_date or hi)
        return max(0, (hi - lo).days + 1)

    active_elapsed = active(month_start, yesterday) if elapsed else 0
    active_month = active(month_start, month_start.replace(day=days_in_month))
    out: dict[str, Any] = {
        "currency": cur,
        "month": month_start.strftime("%Y-%m"),
        "budget_type": campaign.budget_type,
        "budget_amount": None if campaign.budget_amount is None else _q(campaign.budget_amount, money_q),
        "days_in_month": days_in_month,
        "elapsed_days": elapsed,
        "active_days_elapsed": active_elapsed,
        "month_to_date_spend": _q(mtd, money_q),
        "expected_to_date": None,
        "pace_pct": None,
        "projected_month_end": None,
        "band": None,
        "reason": None,
    }
    budget = campaign.budget_amount
    if budget is None:
        method = "The campaign has no budget on record: pacing cannot be judged."
        return {**out, "status": "no_budget", "reason": "no budget on record", "method": method}
    if campaign.budget_type == "lifetime":
        if campaign.start_date is None or campaign.end_date is None:
            return {
                **out,
                "status": "no_budget",
                "reason": "a lifetime budget needs the flight's start and end dates to be pro-rated",
                "method": "Lifetime budgets are pro-rated over the flight's days.",
            }
        flight_days = (campaign.end_date - campaign.start_date).days + 1
        per_day = Decimal(budget) / flight_days
        method = (
            f"Lifetime budget {budget} {cur} pro-rated over the {flight_days}-day flight "
            f"({campaign.start_date}..{campaign.end_date}): expected = budget / flight days x flight days elapsed this "
            "month (the 1st through yesterday)."
        )
    else:
        per_day = Decimal(budget)
        method = "Daily budget x the campaign's active days elapsed this month (the 1st through yesterday)."
    method += (
        f" Status on_track within +-{analytics.BAND_START_PCT} % at the start of the month narrowing linearly to "
        f"+-{analytics.BAND_END_PCT} % at its end, else under or over; too_early before a complete active day. "
        f"Spend in {cur} from campaign-total rows, in the campaign's time zone."
    )
    expected = per_day * active_elapsed
    tol = analytics.pacing_band(Decimal(elapsed), days_in_month)
    band = {"tolerance_pct": tol, "low_pct": 100 - tol, "high_pct": 100 + tol}
    if active_elapsed <= 0 or not expected:
        return {
            **out,
            "status": "too_early",
            "band": band,
            "method": method,
            "expected_to_date": _q(expected, money_q),
        }
    pace = mtd / expected * 100
    status = "over" if pace > 100 + tol else "under" if pace < 100 - tol else "on_track"
    projected = mtd / active_elapsed * active_month
    return {
        **out,
        "status": status,
        "expected_to_date": _q(expected, money_q),
        "pace_pct": _q(pace, PCT_Q),
        "projected_month_end": _q(projected, money_q),
        "band": band,
        "method": method,
    }


def _response_curve(model: Any, currency: str, rate: float, notes: list[str]) -> dict[str, Any]:
    import numpy as np

    outcome = "revenue" if model.history.get("revenue", 0.0) > 0 else "conversions"
    curve = model.response.curve(outcome, n_draws=400, random_state=0)
    if rate <= 0:
        rate = float(model.response.spend_ref)
        notes = [
            *notes,
            f"The campaign has no recent spend: the curve is centred on the model's reference spend ({rate:.2f}/day).",
        ]
    points = []
    for m in CURVE_MULTIPLIERS:
        s = rate * m
        draws = curve.value_draws(s)
        q = (
            _quantiles(draws)
            if draws is not None
            else {k: float(curve.value(s)) for k in ("p10", "p50", "p90")}
        )
        points.append({"multiplier": m, "daily_spend": round(s, 4), **{k: round(v, 6) for k, v in q.items()}})
    d = curve.draws
    marginal = d[:, 0] * d[:, 1] * np.power(rate, d[:, 1] - 1.0)
    mq = _quantiles(marginal)
    at_rate = float(curve.value(rate))
    if outcome == "revenue":
        kind, marg, average = "marginal_roas", mq, at_rate / rate if rate else None
    else:
        # CPA of the next conversion: the inverse swaps the tails
        kind = "marginal_cpa"
        marg = {"p10": 1 / mq["p90"], "p50": 1 / mq["p50"], "p90": 1 / mq["p10"]}
        average = rate / at_rate if at_rate else None
    return {
        "outcome": outcome,
        "currency": currency,
        "current_daily_spend": round(rate, 4),
        "points": points,
        "marginal_kind": kind,
        "marginal": {k: round(v, 6) for k, v in marg.items()},
        "average": None if average is None else round(average, 6),
        "elasticity": round(
            model.response.conversion_elasticity[0], 6
        ),  # of conversions (and revenue) in spend
        "elasticity_of_impressions": round(model.response.elasticity, 6),
        "model_basis": model.basis,
        "model_days": model.n_days,
        "data_through": model.data_through,
        "notes": [
            f"Daily {outcome} as a concave power curve of daily spend from the campaign's funnel model "
            "(services.response_models, impressions ~ spend^elasticity, then CTR, CVR, AOV), shrunk toward the "
            "platform's benchmark prior; p10/p50/p90 over 400 posterior draws (parameter uncertainty, no day noise).",
            f"{kind.replace('_', ' ')} is the derivative at the current daily spend: what the next unit of spend "
            "returns (ROAS) or costs per extra conversion (CPA), against the average at that spend.",
            *notes,
        ],
    }


# -- the route -----------------------------------------------------------------------------------------------
def insights(
    uow: UnitOfWork,
    principal: Principal,
    campaign_id: uuid.UUID,
    query: InsightsQuery,
    *,
    today: dt.date | None = None,
) -> dict[str, Any]:
    campaign, zone = campaigns.get_visible_campaign(uow, principal, campaign_id)
    client = uow.session.get(Client, campaign.client_id)
    assert client is not None  # get_visible_campaign joined it
    today = today or campaigns.local_today(zone)
    period = resolve_period(query, today)
    previous = analytics.comparison_window(period, query.compare)
    assert previous is not None
    money_q = Decimal(1).scaleb(-minor_unit_exponent(campaign.currency))

    anomaly_from = min(period.start, period.end - dt.timedelta(days=ANOMALY_DAYS - 1)) - dt.timedelta(
        days=BASELINE_DAYS
    )
    lo = min(previous.start, anomaly_from, today.replace(day=1), today - dt.timedelta(days=RATE_DAYS))
    hi = max(period.end, today)
    days: dict[dt.date, Day] = {}
    windows: set[str] = set()
    sources: set[str] = set()
    zones: set[str] = set()
    excluded: set[str] = set()
    last_synced: dt.datetime | None = None
    last_day: dt.date | None = None
    for r in uow.session.execute(_DAILY_SQL, {"c": campaign.id, "lo": lo, "hi": hi}):
        day = dt.date.fromisoformat(r[0])
        if r[1] != campaign.currency:
            excluded.add(r[1])
            continue
        days[day] = Day(r[2], int(r[3]), int(r[4]), r[5], r[6])
        if previous.start <= day <= period.end or period.start <= day <= period.end:
            windows.add(r[7])
            sources.add(r[8])
            zones.add(r[9])
        last_synced = r[10] if last_synced is None or r[10] > last_synced else last_synced
        last_day = day

    trends, cur, prev = _trends(days, period, previous, money_q)
    drivers = _drivers(uow, campaign, period, previous, cur, prev)
    anomalies = _anomalies(days, period, today)
    pacing = _pacing(campaign, days, today)

    # the campaign's fitted response, in the client's currency
    from strategist.services import response_models as rm

    model_set = rm.campaign_models(
        uow,
        client.id,
        campaigns={str(campaign.id): campaign.platform},
        currency=client.currency,
        objective=rm.benchmark_objective(campaign.objective or ""),
        industry=rm.benchmark_industry(client.industry),
        today=today,
    )
    model = model_set.models[str(campaign.id)]
    curve_notes: list[str] = []
    fx_factor = 1.0
    spends, n_rate = _recent_rate(days, today)
    if campaign.currency != client.currency and spends:
        converted = rm.recent_spend(
            uow, client.id, currency=client.currency, by="campaign", days=RATE_DAYS, today=today
        )
        native = sum(spends)
        fx_factor = converted.get(str(campaign.id), 0.0) / native if native else 1.0
        curve_notes.append(
            f"The campaign spends in {campaign.currency}; the model and these figures are in the client's currency "
            f"{client.currency} (ECB rates of each day; effective factor {fx_factor:.6f})."
        )
    if model_set.fx_note:
        curve_notes.append(model_set.fx_note)
    rate = (sum(spends) / n_rate * fx_factor) if n_rate >= MIN_RATE_DAYS else 0.0
    forecast = _forecast(uow, campaign, model, client.currency, fx_factor, days, today)
    response_curve = _response_curve(model, client.currency, rate, curve_notes)

    connection = (
        uow.session.scalar(select(PlatformConnection).where(PlatformConnection.id == campaign.connection_id))
        if campaign.connection_id
        else None
    )
    methodology = [
        "Only campaign-total rows (breakdown '') make trends, totals, anomalies, pacing and the forecast's rate; "
        "breakdown rows are used only for the mix effect of the drivers, and only when they add up to the totals.",
        "Ratios come from sums, never averages: CTR = clicks / impressions x 100, CPC = spend / clicks, CPM = "
        "spend / impressions x 1000, CVR = conversions / clicks x 100, CPA = spend / conversions, ROAS = revenue "
        "/ spend; null when the denominator is 0. Days without a row show as zeros with has_data = false.",
        f"Days are the campaign's platform-local days ({zone}); {period.label} ranges are complete days ending "
        "yesterday. previous_period is the same number of days immediately before; previous_year the same dates "
        "a year earlier.",
        f"Money in trends, drivers and pacing is the campaign's currency {campaign.currency}"
        + (f"; rows in {', '.join(sorted(excluded))} are left out (no conversion here)." if excluded else ".")
        + f" The forecast and response curve are in the client's currency {client.currency}.",
        f"The last {analytics.EARLY_ESTIMATE_DAYS} days are early estimates: platforms restate recent days.",
    ]
    if len(windows) > 1:
        methodology.append(
            f"Conversions were counted under more than one attribution window ({', '.join(sorted(windows))}): "
            "a comparison across them is not like for like."
        )
    return {
        "campaign_id": campaign.id,
        "campaign_name": campaign.name,
        "platform": campaign.platform,
        "status": campaign.status,
        "trends": trends,
        "drivers": drivers,
        "anomalies": anomalies,
        "forecast": forecast,
        "pacing": pacing,
        "response_curve": response_curve,
        "experiments": {
            "items": [],
            "note": "Experiments arrive with the experiments API (/api/v1/experiments); none can be open yet.",
        },
        "data": {
            "currency": campaign.currency,
            "time_zone": zone,
            "row_time_zones": sorted(zones),
            "attribution_windows": sorted(windows),
            "sources": sorted(sources),
            "data_as_of": (
                connection.data_as_of if connection is not None and connection.data_as_of else last_synced
            ),
            "data_through": (
                connection.data_through if connection is not None and connection.data_through else last_day
            ),
            "connection_status": connection.status if connection is not None else None,
            "excluded_currencies": sorted(excluded),
            "today": today,
            "methodology": methodology,
        },
    }
