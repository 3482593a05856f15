"""Phases over the flight and the A/B test plan.

Phases: delivery systems need a learning period (Meta's ad sets leave "learning" after about 50 optimisation
events; Google's Smart Bidding describes up to a week of learning), so the plan spends a little below its average
pace in the first ~7 days, above it while scaling, and at it while optimizing. The weights are plan choices, stated
in the output; every platform's phase totals add up exactly to its allocation.

Test plan: a standard two-proportion power calculation (two-sided alpha 0.05, power 0.8) on the rate behind the
stated KPI, with the base rate from the platform's fitted model (the client's own data when it has them, else the
benchmark prior), and the duration from the forecast daily traffic split evenly between two arms.
"""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist
from typing import Any

from strategist.services.strategy.plan_math import quantum, split_exact

PHASE_WEIGHTS = {"learning": 0.8, "scale": 1.15, "optimize": 1.0}
LEARNING_DAYS = 7
ALPHA = 0.05
POWER = 0.8
DEFAULT_MDE = 0.2


def phase_days(duration: int) -> dict[str, int]:
    """Learning: 7 days (or a fifth of a short flight, at least 1); optimize: the last quarter; scale between."""
    if duration <= 2:
        return {"learning": duration, "scale": 0, "optimize": 0}
    learning = max(1, min(LEARNING_DAYS, round(duration * 0.2)))
    optimize = max(1, round(duration * 0.25))
    scale = duration - learning - optimize
    if scale < 0:
        optimize += scale
        scale = 0
    return {"learning": learning, "scale": scale, "optimize": optimize}


def daily_plan(
    allocation: dict[str, Decimal], duration: int, currency: str
) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """Daily spend per platform over the flight (for the forecast) and the phase table (for people).

    Each platform's phase totals are split exactly (minor units) from its allocation by phase weight x days; the
    daily figure shown is the phase total over its days, and the days of a phase carry that amount in the
    forecast, so the forecast spends exactly the allocation."""
    days = phase_days(duration)
    q = quantum(currency)
    names = [n for n in ("learning", "scale", "optimize") if days[n] > 0]
    weight_sum = sum(PHASE_WEIGHTS[n] * days[n] for n in names)
    daily: dict[str, list[float]] = {p: [] for p in allocation}
    totals: dict[str, dict[str, Decimal]] = {}
    for p, amount in allocation.items():
        raw = {n: float(amount) * PHASE_WEIGHTS[n] * days[n] / weight_sum for n in names}
        totals[p] = split_exact(raw, amount, currency)
        for n in names:
            per_day = float(totals[p][n]) / days[n]
            daily[p].extend([per_day] * days[n])
    phases = []
    start = 1
    for n in names:
        phases.append(
            {
                "phase": n,
                "start_day": start,
                "end_day": start + days[n] - 1,
                "days": days[n],
                "pace_vs_average": PHASE_WEIGHTS[n],
                "budget": {p: totals[p][n] for p in allocation},
                "daily_budget": {p: (totals[p][n] / days[n]).quantize(q) for p in allocation},
                "focus": {
                    "learning": "let delivery learn: no edits to targeting or bids; broad-enough audiences",
                    "scale": "raise spend on the winning ad sets/keywords; launch the second test round",
                    "optimize": "shift spend to the best marginal return; retire losing variants",
                }[n],
            }
        )
        start += days[n]
    return daily, phases


def sample_size_per_arm(p1: float, mde: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Two-sided two-proportion test, unpooled alternative variance: n per arm to detect p1 -> p1 * (1 + mde)."""
    p2 = min(p1 * (1 + mde), 0.999999)
    if not 0 < p1 < 1 or p2 == p1:
        raise ValueError("base rate must be in (0, 1) and the effect non-zero")
    z_a = NormalDist().inv_cdf(1 - alpha / 2)
    z_b = NormalDist().inv_cdf(power)
    p_bar = (p1 + p2) / 2
    n = (z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (
        p2 - p1
    ) ** 2
    return math.ceil(n)


#: which rate a KPI is tested on, and the traffic unit that rate is a share of
KPI_RATE = {
    "conversions": ("cvr", "clicks"),
    "cpa": ("cvr", "clicks"),
    "roas": ("cvr", "clicks"),
    "revenue": ("cvr", "clicks"),
    "leads": ("cvr", "clicks"),
    "cpl": ("cvr", "clicks"),
    "clicks": ("ctr", "impressions"),
    "ctr": ("ctr", "impressions"),
    "cpc": ("ctr", "impressions"),
}
TEST_SUBJECT = {
    "google_ads": "responsive search ad: benefit-led vs offer-led headline set (ad variations / experiment)",
    "meta_ads": "creative angle A vs B in one ad set (Meta A/B test, same audience and budget split)",
    "linkedin_ads": "single image vs document ad with the same offer",
    "tiktok_ads": "creator-style hook vs product-demo hook (Split Test)",
    "youtube_ads": "problem-first vs product-first opening 5 seconds (video experiment)",
    "email": "subject line A vs B on a random half of the list each (click rate per send)",
}


def test_plan(
    platforms: list[str],
    kpis: list[str],
    rates: dict[str, dict[str, float]],
    daily_units: dict[str, dict[str, float]],
    duration: int,
    mde: float,
    rate_basis: dict[str, str],
) -> list[dict[str, Any]]:
    """One test per platform on the rate behind the first testable KPI (CVR for conversion KPIs, else CTR)."""
    kpi = next((k for k in kpis if k in KPI_RATE), "conversions")
    rate_name, unit = KPI_RATE[kpi]
    tests = []
    for p in platforms:
        r_name, u_name = (rate_name, unit)
        if p == "email" and rate_name == "ctr":
            r_name, u_name = "ctr", "impressions"
        base = rates[p][r_name]
        per_day = daily_units[p][u_name]
        n = sample_size_per_arm(base, mde)
        days_needed = math.ceil(2 * n / per_day) if per_day > 0 else None
        feasible = days_needed is not None and days_needed <= duration
        # the smallest relative lift the flight can detect with all its traffic (for an infeasible test)
        detectable = None
        if not feasible and per_day > 0:
            units = per_day * duration / 2
            lo, hi = mde, 50.0
            for _ in range(60):
                mid = (lo + hi) / 2
                if base * (1 + mid) >= 1 or sample_size_per_arm(base, mid) > units:
                    lo = mid
                else:
                    hi = mid
            detectable = round(hi, 3) if hi < 50 else None
        tests.append(
            {
                "platform": p,
                "test": TEST_SUBJECT[p],
                "kpi": kpi,
                "metric": f"{r_name} ({'clicks per send' if p == 'email' and r_name == 'ctr' else r_name})",
                "base_rate": round(base, 5),
                "base_rate_basis": rate_basis[p],
                "mde_relative": mde,
                "alpha": ALPHA,
                "power": POWER,
                "sample_size_per_arm": n,
                "unit": "sends" if p == "email" and u_name == "impressions" else u_name,
                "forecast_units_per_day": round(per_day, 1),
                "days_needed": days_needed,
                "feasible_within_flight": feasible,
                "detectable_lift_within_flight": detectable,
                "method": "two-sided two-proportion z-test sample size (unpooled alternative variance)",
            }
        )
    return tests
