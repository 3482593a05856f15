"""Monthly spend pacing against a target: the expected spend-to-date curve, the tolerance band that narrows toward
month end, and the projected month-end spend with an interval. Pure arithmetic; the caller supplies the days.

Expected spend to date (through day k of a D-day month, k complete days):

    expected(k) = target x S(k),   S(k) = sum_{d<=k} w(d) / sum_{d<=D} w(d)

with w(d) = 1 (linear by days), or w(d) = the campaign's/client's day-of-week spend profile (mean spend of that
weekday over the last weeks, normalised), so a client that spends less at weekends is not "under" every Monday.

Tolerance band, in percent of expected, narrowing linearly from the first to the last day of the month:

    tol(k) = start - (start - end) x k / D        (start = 15 %, end = 5 % by default; rules may set their own)

on track when 100 - tol <= pace <= 100 + tol with pace = 100 x spend to date / expected(k). Early in the month a
day's swing is a large share of the spend so far; by month end there is little room left to correct, so the band
narrows: the same band the dashboard and campaign insights use.

Projection: month end = spend to date + the remaining days at the recent mean daily spend r (scaled by the
remaining days' weekday weights), with an interval from the recent days' spread s: the remaining total is taken
as normal with sd = s x sqrt(n_remaining) (days independent), p10/p90 = p50 -+ 1.2816 sd, floored at the spend to
date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

BAND_START_PCT = 15.0
BAND_END_PCT = 5.0
Z90 = NormalDist().inv_cdf(0.9)


def tolerance_pct(
    elapsed_days: float, days_in_month: int, start: float = BAND_START_PCT, end: float = BAND_END_PCT
) -> float:
    """tol(k) = start - (start - end) x k / D, k clamped to [0, D]."""
    share = min(1.0, max(0.0, elapsed_days / days_in_month))
    return round(start - (start - end) * share, 4)


def weekday_profile(daily: Sequence[tuple[dt.date, float]]) -> list[float] | None:
    """Mean spend per weekday (Monday = 0) normalised to mean 1, from at least two of each weekday; None when the
    history is too short or a weekday never spends (the linear curve is used instead)."""
    sums, counts = [0.0] * 7, [0] * 7
    for day, spend in daily:
        sums[day.weekday()] += spend
        counts[day.weekday()] += 1
    if min(counts) < 2:
        return None
    means = [s / c for s, c in zip(sums, counts, strict=True)]
    avg = fmean(means)
    if avg <= 0 or min(means) <= 0:
        return None
    return [m / avg for m in means]


def month_days(month_start: dt.date) -> list[dt.date]:
    n = calendar.monthrange(month_start.year, month_start.month)[1]
    return [month_start + dt.timedelta(days=i) for i in range(n)]


def expected_share(month_start: dt.date, elapsed_days: int, profile: Sequence[float] | None = None) -> float:
    """S(k): the share of the month's target expected through the first ``elapsed_days`` days."""
    days = month_days(month_start)
    weights = [1.0 if profile is None else profile[d.weekday()] for d in days]
    k = min(max(elapsed_days, 0), len(days))
    return sum(weights[:k]) / sum(weights)


@dataclass(frozen=True, slots=True)
class PacingAssessment:
    status: str  # on_track | under | over | too_early
    target: float
    month: str
    days_in_month: int
    elapsed_days: int
    spend_to_date: float
    expected_to_date: float
    pace_pct: float | None
    tolerance_pct: float
    band_low: float  # spend-to-date bounds of the band
    band_high: float
    curve: str  # linear | weekday_profile
    projected_p50: float | None
    projected_p10: float | None
    projected_p90: float | None
    recent_days: int

    @property
    def firing(self) -> bool:
        return self.status in {"under", "over"}


def assess(
    *,
    target: float,
    month_start: dt.date,
    elapsed_days: int,
    spend_to_date: float,
    recent_daily: Sequence[float],
    profile: Sequence[float] | None = None,
    band_start: float = BAND_START_PCT,
    band_end: float = BAND_END_PCT,
) -> PacingAssessment:
    """Judge ``spend_to_date`` over ``elapsed_days`` complete days of the month starting ``month_start``."""
    days = month_days(month_start)
    n_days = len(days)
    k = min(max(elapsed_days, 0), n_days)
    share = expected_share(month_start, k, profile)
    expected = target * share
    tol = tolerance_pct(k, n_days, band_start, band_end)
    low, high = expected * (1 - tol / 100), expected * (1 + tol / 100)
    pace = None if expected <= 0 else 100.0 * spend_to_date / expected
    if k == 0 or expected <= 0:
        status = "too_early"
    elif pace is not None and pace > 100 + tol:
        status = "over"
    elif pace is not None and pace < 100 - tol:
        status = "under"
    else:
        status = "on_track"
    p10 = p50 = p90 = None
    if recent_daily:
        rate = fmean(recent_daily)
        sd = stdev(recent_daily) if len(recent_daily) >= 2 else 0.0
        remaining = days[k:]
        mean_w = 1.0 if profile is None else fmean(profile)
        scale = sum((1.0 if profile is None else profile[d.weekday()] / mean_w) for d in remaining)
        p50 = spend_to_date + rate * scale
        half = Z90 * sd * math.sqrt(len(remaining))
        p10, p90 = max(spend_to_date, p50 - half), p50 + half
    return PacingAssessment(
        status=status,
        target=target,
        month=month_start.strftime("%Y-%m"),
        days_in_month=n_days,
        elapsed_days=k,
        spend_to_date=spend_to_date,
        expected_to_date=expected,
        pace_pct=None if pace is None else round(pace, 2),
        tolerance_pct=tol,
        band_low=low,
        band_high=high,
        curve="linear" if profile is None else "weekday_profile",
        projected_p50=p50,
        projected_p10=p10,
        projected_p90=p90,
        recent_days=len(recent_daily),
    )
