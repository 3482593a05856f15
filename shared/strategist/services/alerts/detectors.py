"""What each rule kind checks, as functions of plain daily series (no database): the job feeds them synced
metrics, bench/alerts_false_alarms.py feeds them the simulator's curves, and both judge with the same code.

Days are complete days in the client's reporting time zone: ``today`` is the client's local date and the latest
day judged is yesterday. A day without a row is missing, never zero.

- anomaly: strategist.ml.anomaly.detect_anomalies (the detector campaign insights use: each day against a trailing
  28-day median level plus a weekday effect, on log(1 + x), with a MAD-based spread; the baseline uses only the
  days before) on the scope's daily totals. Volume metrics (cost, impressions, clicks) are judged on yesterday;
  conversions and revenue on the day SETTLE_DAYS + 1 old, because platforms restate recent conversions (the
  last days are early estimates, ~70 % reported a day later). One alert per metric; it resolves when the judged
  day is back inside the band.
- threshold: the sum (or the ratio of sums) over the last ``window_days`` complete days against a value.
- pacing: strategist.domain.pacing on month-to-date spend against the monthly target.
- tracking_stopped: a campaign whose last ``days`` complete days each had >= ``min_clicks_per_day`` clicks and zero
  conversions, while at least ``min_baseline_conversion_share`` of the ``baseline_days`` before had conversions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from strategist.domain import pacing as pacing_math

METRIC_LABEL = {"cost": "spend", "impressions": "impressions", "clicks": "clicks", "conversions": "conversions",
                "revenue": "revenue", "ctr": "CTR", "cpc": "CPC", "cpm": "CPM", "cvr": "conversion rate",
                "cpa": "CPA", "roas": "ROAS"}  # fmt: skip
#: conversions and revenue are judged on the day this many days before yesterday (restatement of recent days)
SETTLE_DAYS = 2
#: days read before the judged day for the anomaly baseline (28-day level + 8 weeks of weekday effect)
ANOMALY_HISTORY_DAYS = 84
MIN_ANOMALY_HISTORY = 28
SETTLING = frozenset({"conversions", "revenue"})
COUNTS = frozenset({"impressions", "clicks", "conversions"})
COMPARATOR = {"gt": (">", lambda a, b: a > b), "gte": (">=", lambda a, b: a >= b),
              "lt": ("<", lambda a, b: a < b), "lte": ("<=", lambda a, b: a <= b)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DayTotals:
    cost: float
    impressions: float
    clicks: float
    conversions: float
    revenue: float

    def get(self, metric: str) -> float:
        return float(getattr(self, metric))


Daily = dict[dt.date, DayTotals]


@dataclass
class Finding:
    """One object's outcome: firing (with why), clear, or unknown (not enough data: leave any alert as it is)."""

    object_key: str
    status: Literal["firing", "clear", "unknown"]
    title: str = ""
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    campaign_id: Any = None
    connection_id: Any = None


def add(a: DayTotals, b: DayTotals) -> DayTotals:
    return DayTotals(a.cost + b.cost, a.impressions + b.impressions, a.clicks + b.clicks,
                     a.conversions + b.conversions, a.revenue + b.revenue)  # fmt: skip


def total(series: Sequence[Daily]) -> Daily:
    out: Daily = {}
    for s in series:
        for day, v in s.items():
            out[day] = add(out[day], v) if day in out else v
    return out


def _cap(text: str) -> str:
    return text if text.isupper() or text[:3].isupper() else text[:1].upper() + text[1:]


def _fmt(value: float, unit: str = "") -> str:
    text = f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


# -- anomaly -----------------------------------------------------------------------------------------------------
def judged_day(metric: str, today: dt.date) -> dt.date:
    return today - dt.timedelta(days=1 + (SETTLE_DAYS if metric in SETTLING else 0))


def anomaly(
    daily: Daily,
    *,
    metric: str,
    threshold: float,
    direction: str,
    today: dt.date,
    object_key: str,
    label: str,
    currency: str,
) -> Finding:
    import pandas as pd

    from strategist.ml.anomaly import detect_anomalies

    day = judged_day(metric, today)
    start = day - dt.timedelta(days=ANOMALY_HISTORY_DAYS)
    index = pd.date_range(start, day, freq="D")
    values = [daily[d.date()].get(metric) if d.date() in daily else math.nan for d in index]
    series = pd.Series(values, index=index, dtype=float)
    history = int(series.iloc[:-1].notna().sum())
    if math.isnan(values[-1]) or history < MIN_ANOMALY_HISTORY:
        why = "no row for the judged day" if math.isnan(values[-1]) else f"only {history} days of history"
        return Finding(object_key, "unknown", evidence={"reason": why, "judged_day": day})
    row = detect_anomalies(series, threshold=threshold).iloc[-1]
    score = None if pd.isna(row["score"]) else float(row["score"])
    unit = currency if metric in {"cost", "revenue"} else ""
    evidence = {
        "metric": metric,
        "judged_day": day,
        "observed": round(float(row["value"]), 4),
        "expected": None if pd.isna(row["expected"]) else round(float(row["expected"]), 4),
        "band": None if pd.isna(row["upper"]) else [round(float(row["lower"]), 4), round(float(row["upper"]), 4)],
        "score": None if score is None else round(score, 3),
        "threshold": threshold,
        "direction": direction,
        "history_days": history,
        "currency": currency if unit else None,
        "method": (
            "strategist.ml.anomaly.detect_anomalies: the judged day against a baseline of the days before it only "
            "(trailing 28-day median level plus the median weekday effect of the last 8 same weekdays, on "
            "log(1 + x)) with a MAD-based robust spread; firing beyond the threshold in robust sds (counts: and "
            "at least as unlikely under Poisson counting noise at the expected level)."
            + (f" {_cap(METRIC_LABEL[metric])} are judged {SETTLE_DAYS + 1} days back: platforms restate "
               "the most recent days." if metric in SETTLING else "")
        ),
    }  # fmt: skip
    if score is None:
        return Finding(object_key, "unknown", evidence={**evidence, "reason": "baseline not ready"})
    hit = abs(score) > threshold and (direction == "both" or (direction == "up") == (score > 0))
    if hit and metric in COUNTS:
        # a sparse count (0, 1, 0, 2 ...) has a robust spread near zero on the log scale, so one unit reads as
        # many sds: also require the day to be that unlikely under pure counting noise (Poisson at the expected
        # level), the least noise a count can have
        p = counting_tail(evidence["observed"], evidence["expected"], up=score > 0)
        evidence["counting_noise_p"] = p
        hit = p < two_sided_tail(threshold)
    if not hit:
        return Finding(object_key, "clear", evidence=evidence)
    word = "above" if score > 0 else "below"
    lo, hi = evidence["band"]
    title = f"{_cap(METRIC_LABEL[metric])} anomaly on {label}: {_fmt(evidence['observed'], unit)} on {day}"
    message = (
        f"{_cap(METRIC_LABEL[metric])} for {label} on {day} was {_fmt(evidence['observed'], unit)}, {word} "
        f"the expected {_fmt(evidence['expected'], unit)} (band {_fmt(lo, unit)} - {_fmt(hi, unit)}, "
        f"{abs(score):.1f} robust sds against a threshold of {threshold:g}); baseline from the "
        f"{history} days before it."
    )
    return Finding(object_key, "firing", title, message, evidence)


def two_sided_tail(z: float) -> float:
    return math.erfc(z / math.sqrt(2))


def counting_tail(observed: float, expected: float, *, up: bool) -> float:
    """P(X >= observed) (up) or P(X <= observed) for X ~ Poisson(expected), counts rounded to whole units."""
    from scipy.stats import poisson

    k, mu = round(observed), max(float(expected), 1e-9)
    return float(poisson.sf(k - 1, mu) if up else poisson.cdf(k, mu))


# -- threshold ---------------------------------------------------------------------------------------------------
def ratio_value(metric: str, s: DayTotals) -> tuple[float | None, float]:
    """(value, denominator) for a metric over summed days; value None when the denominator is zero."""
    parts = {"ctr": (s.clicks * 100, s.impressions), "cpc": (s.cost, s.clicks), "cpm": (s.cost * 1000, s.impressions),
             "cvr": (s.conversions * 100, s.clicks), "cpa": (s.cost, s.conversions), "roas": (s.revenue, s.cost)}  # fmt: skip
    if metric not in parts:
        return s.get(metric), 1.0
    num, den = parts[metric]
    return (None if den == 0 else num / den), den


def threshold(
    daily: Daily,
    *,
    params: dict[str, Any],
    today: dt.date,
    object_key: str,
    label: str,
    currency: str,
) -> Finding:
    metric, comp, value, window = (
        params["metric"],
        params["comparator"],
        float(params["value"]),
        params["window_days"],
    )
    first, last = today - dt.timedelta(days=window), today - dt.timedelta(days=1)
    days = [d for d in daily if first <= d <= last]
    base = {"metric": metric, "comparator": comp, "value": value, "window": {"start": first, "end": last,
            "days": window, "days_with_data": len(days)}, "currency": currency}  # fmt: skip
    if not days:
        return Finding(object_key, "unknown", evidence={**base, "reason": "no data in the window"})
    summed = DayTotals(0, 0, 0, 0, 0)
    for d in days:
        summed = add(summed, daily[d])
    observed, den = ratio_value(metric, summed)
    min_den = float(params.get("min_denominator") or 0)
    if observed is None or den < min_den:
        return Finding(
            object_key, "unknown", evidence={**base, "reason": "the window's denominator is too small"}
        )
    symbol, test = COMPARATOR[comp]
    evidence = {
        **base,
        "observed": round(observed, 6),
        "method": f"{METRIC_LABEL[metric]} over the window's sums",
    }
    if not test(observed, value):
        return Finding(object_key, "clear", evidence=evidence)
    unit = currency if metric in {"cost", "revenue", "cpc", "cpm", "cpa"} else ""
    title = f"{_cap(METRIC_LABEL[metric])} {symbol} {_fmt(value, unit)} on {label}"
    message = (
        f"{_cap(METRIC_LABEL[metric])} for {label} over the {window} complete days {first}..{last} "
        f"({len(days)} with data) is {_fmt(observed, unit)}, {symbol} the rule's {_fmt(value, unit)}."
    )
    return Finding(object_key, "firing", title, message, evidence)


# -- pacing ------------------------------------------------------------------------------------------------------
RECENT_DAYS = 14
PROFILE_DAYS = 56


def pacing(
    daily: Daily,
    *,
    params: dict[str, Any],
    target: float | None,
    target_basis: str,
    today: dt.date,
    object_key: str,
    label: str,
    currency: str,
) -> Finding:
    month_start = today.replace(day=1)
    yesterday = today - dt.timedelta(days=1)
    if target is None or target <= 0:
        return Finding(object_key, "unknown", evidence={"reason": target_basis})
    elapsed = (yesterday - month_start).days + 1 if yesterday >= month_start else 0
    mtd = sum(v.cost for d, v in daily.items() if month_start <= d <= yesterday)
    recent = [
        daily[d].cost for d in (today - dt.timedelta(days=i) for i in range(1, RECENT_DAYS + 1)) if d in daily
    ]
    profile = None
    if params.get("curve", "weekday_profile") == "weekday_profile":
        hist = [
            (d, v.cost) for d, v in daily.items() if today - dt.timedelta(days=PROFILE_DAYS) <= d <= yesterday
        ]
        profile = pacing_math.weekday_profile(hist)
    a = pacing_math.assess(
        target=target, month_start=month_start, elapsed_days=elapsed, spend_to_date=mtd, recent_daily=recent,
        profile=profile, band_start=float(params.get("band_start_pct", 15.0)),
        band_end=float(params.get("band_end_pct", 5.0)),
    )  # fmt: skip
    r2 = lambda x: None if x is None else round(x, 2)  # noqa: E731
    evidence = {
        "month": a.month, "target": r2(target), "target_basis": target_basis, "currency": currency,
        "days_in_month": a.days_in_month, "elapsed_days": a.elapsed_days, "spend_to_date": r2(mtd),
        "expected_to_date": r2(a.expected_to_date), "pace_pct": a.pace_pct, "tolerance_pct": a.tolerance_pct,
        "band": [r2(a.band_low), r2(a.band_high)], "curve": a.curve, "status": a.status,
        "projected_month_end": {"p10": r2(a.projected_p10), "p50": r2(a.projected_p50), "p90": r2(a.projected_p90),
                                "recent_days": a.recent_days},
        "method": (
            f"expected = target x S(k), S(k) the share of the month's weights in its first k = {a.elapsed_days} "
            f"complete days ({'weekday spend profile of the last 8 weeks' if profile else 'linear by days'}); "
            f"tolerance tol(k) = {params.get('band_start_pct', 15.0)} - ({params.get('band_start_pct', 15.0)} - "
            f"{params.get('band_end_pct', 5.0)}) x k / {a.days_in_month} = {a.tolerance_pct} %; on track when "
            "spend to date is within expected +- tol. Projection: to date + remaining days at the mean of the last "
            f"{RECENT_DAYS} days, p10/p90 from their spread (normal, days independent)."
        ),
    }  # fmt: skip
    alert_on = params.get("alert_on", "both")
    if a.status == "too_early":
        return Finding(object_key, "unknown", evidence=evidence)
    if not a.firing or (alert_on != "both" and a.status != alert_on):
        return Finding(object_key, "clear", evidence=evidence)
    word = "over" if a.status == "over" else "under"
    proj = (
        f" Projected month end {_fmt(a.projected_p50, currency)} (p10-p90 {_fmt(a.projected_p10, currency)} - "
        f"{_fmt(a.projected_p90, currency)}) against the target {_fmt(target, currency)}."
        if a.projected_p50 is not None
        else ""
    )
    title = f"{label} is pacing {word} its {a.month} target: {a.pace_pct:.0f} % of expected"
    message = (
        f"{label} spent {_fmt(mtd, currency)} in the first {a.elapsed_days} days of {a.month}; expected "
        f"{_fmt(a.expected_to_date, currency)} of the {_fmt(target, currency)} target ({target_basis}), so pace is "
        f"{a.pace_pct:.1f} % against a band of +-{a.tolerance_pct:g} % (tol = {params.get('band_start_pct', 15.0):g} "
        f"- ({params.get('band_start_pct', 15.0):g} - {params.get('band_end_pct', 5.0):g}) x {a.elapsed_days} / "
        f"{a.days_in_month}, narrowing toward month end).{proj}"
    )
    return Finding(object_key, "firing", title, message, evidence)


# -- conversion tracking stopped ---------------------------------------------------------------------------------
def tracking_stopped(
    daily: Daily, *, params: dict[str, Any], today: dt.date, object_key: str, label: str
) -> Finding:
    n, min_clicks = int(params.get("days", 2)), int(params.get("min_clicks_per_day", 20))
    base_n = int(params.get("baseline_days", 28))
    share_needed = float(params.get("min_baseline_conversion_share", 0.8))
    recent = [today - dt.timedelta(days=i) for i in range(n, 0, -1)]
    baseline = [today - dt.timedelta(days=i) for i in range(n + base_n, n, -1)]
    base_rows = [daily[d] for d in baseline if d in daily]
    with_conv = sum(1 for r in base_rows if r.conversions > 0)
    share = with_conv / len(baseline)
    base_conv = sum(r.conversions for r in base_rows)
    evidence: dict[str, Any] = {
        "recent_days": [{"date": d, "clicks": daily[d].clicks if d in daily else None,
                         "conversions": daily[d].conversions if d in daily else None} for d in recent],
        "baseline": {"start": baseline[0], "end": baseline[-1], "days_with_data": len(base_rows),
                     "days_with_conversions": with_conv, "conversions": round(base_conv, 2),
                     "conversions_per_day": round(base_conv / max(1, len(base_rows)), 3)},
        "params": {"days": n, "min_clicks_per_day": min_clicks, "min_baseline_conversion_share": share_needed},
        "method": (
            f"fires when each of the last {n} complete days has >= {min_clicks} clicks and zero conversions while "
            f"at least {share_needed:.0%} of the {base_n} days before had conversions"
        ),
    }  # fmt: skip
    if any(d not in daily for d in recent):
        return Finding(object_key, "unknown", evidence={**evidence, "reason": "a recent day has no data yet"})
    if share < share_needed:
        return Finding(
            object_key, "clear", evidence={**evidence, "reason": "conversions were not steady before"}
        )
    stopped = all(daily[d].clicks >= min_clicks and daily[d].conversions == 0 for d in recent)
    if not stopped:
        return Finding(object_key, "clear", evidence=evidence)
    clicks = sum(daily[d].clicks for d in recent)
    title = f"Conversion tracking may have stopped on {label}"
    message = (
        f"{label} had {clicks:,.0f} clicks and no conversions over the last {n} complete days "
        f"({recent[0]}..{recent[-1]}), after {base_conv:,.1f} conversions in the {base_n} days before "
        f"({with_conv} of {len(base_rows)} days with conversions). Check the pixel / conversion tag and the "
        "platform's conversion actions."
    )
    return Finding(object_key, "firing", title, message, evidence)
