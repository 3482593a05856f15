"""Arithmetic a plan needs around the allocator and the funnel models: exact money splits and Monte Carlo
forecasts that can be summed by week, phase and platform from the same draws.

Why not ``strategist.ml.forecast_plan`` alone: it returns quantiles per period, and quantiles cannot be added, so
weekly and whole-flight intervals must come from the same simulated draws. We call each platform's
``PlatformResponse.simulate`` (parameters drawn once per draw for the whole flight, fresh day noise), then sum
draws over any grouping before taking quantiles; ROAS and CPA are ratios per draw, never ratios of quantiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from strategist.domain.money import minor_unit_exponent

#: draws per forecast: p10/p90 of 1,000 draws move by well under 1 % between seeds; fixed seed = same answer
N_DRAWS = 1000
SEED = 20_261_126
METRICS = ("impressions", "clicks", "conversions", "revenue")


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit_exponent(currency))


def split_exact(
    amounts: Mapping[str, float],
    total: Decimal,
    currency: str,
    fixed: Mapping[str, Decimal] | None = None,
    upper: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Round ``amounts`` to the currency's minor units so they sum exactly to ``total`` (largest remainder).

    ``fixed`` items (locks) keep their amount exactly. Amounts are first snapped to 1e-6 (so a float a hair
    under a bound is the bound), floored to the minor unit, then the missing minor units go one each to the
    largest fractional parts, never past an item's ``upper`` bound: no item moves by a whole unit or more, so an
    amount at a bound on the minor-unit grid stays at it."""
    q = quantum(currency)
    fixed = dict(fixed or {})
    upper = dict(upper or {})
    free = [k for k in amounts if k not in fixed]
    target = total - sum(fixed.values(), Decimal(0))
    raw = {k: Decimal(repr(max(float(amounts[k]), 0.0))).quantize(Decimal("1e-6")) for k in free}
    floors = {k: (v / q).to_integral_value(rounding=ROUND_FLOOR) * q for k, v in raw.items()}
    missing = int(((target - sum(floors.values(), Decimal(0))) / q).to_integral_value())
    order = sorted(free, key=lambda k: (raw[k] - floors[k], raw[k]), reverse=True)
    step = q if missing >= 0 else -q
    i = 0
    guard = 0
    while missing and order and guard < 10 * len(order) + abs(missing) * 2:
        k = order[i % len(order)] if step > 0 else order[::-1][i % len(order)]
        room = (k not in upper or floors[k] + step <= upper[k]) and floors[k] + step >= 0
        if room or guard >= 2 * len(order):
            floors[k] += step
            missing -= 1 if step > 0 else -1
        i += 1
        guard += 1
    return {k: fixed[k] if k in fixed else floors[k] for k in amounts}


def simulate(
    responses: Mapping[str, Any], daily_spend: Mapping[str, Sequence[float]], n_draws: int = N_DRAWS
) -> dict[str, dict[str, Any]]:
    """Draws (n_draws, days) of each funnel metric per platform, plus ``spend``; one seeded generator so the
    same plan gives the same forecast and a larger budget a larger p50 (common random numbers)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    out: dict[str, dict[str, Any]] = {}
    for name in responses:
        spend = np.asarray(daily_spend[name], dtype=float)
        sim = responses[name].simulate(spend, n_draws, rng)
        sim["spend"] = np.broadcast_to(spend, (n_draws, len(spend)))
        out[name] = sim
    return out


def quantiles(values: Any) -> dict[str, float | None]:
    import numpy as np

    values = values[np.isfinite(values)]
    if not len(values):
        return {"p10": None, "p50": None, "p90": None}
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


def summarize(sims: Mapping[str, Mapping[str, Any]], names: Sequence[str], cols: slice | Any = None) -> dict:
    """Quantiles of the summed draws of ``names`` over the day columns ``cols`` (all days by default):
    impressions, clicks, conversions, revenue, spend, and per-draw CPA and ROAS."""
    import numpy as np

    sel = cols if cols is not None else slice(None)
    tot = {m: sum(np.asarray(sims[n][m])[:, sel].sum(axis=1) for n in names) for m in (*METRICS, "spend")}
    with np.errstate(divide="ignore", invalid="ignore"):
        roas = np.where(tot["spend"] > 0, tot["revenue"] / tot["spend"], np.nan)
        cpa = np.where(tot["conversions"] > 0, tot["spend"] / tot["conversions"], np.nan)
    out = {m: quantiles(tot[m]) for m in METRICS}
    out["cpa"] = quantiles(cpa)
    out["roas"] = quantiles(roas)
    out["spend"] = float(np.asarray(tot["spend"])[0]) if len(tot["spend"]) else 0.0
    return out


def rounded(interval: dict[str, float | None], digits: int = 2) -> dict[str, float | None]:
    return {k: (round(v, digits) if v is not None else None) for k, v in interval.items()}


def round_summary(summary: dict[str, Any], currency_digits: int) -> dict[str, Any]:
    """Counts to whole numbers, money to the currency's decimals, ratios to 2 decimals."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if k in {"impressions", "clicks"}:
            out[k] = rounded(v, 0)
        elif k == "conversions":
            out[k] = rounded(v, 1)
        elif k in {"revenue", "cpa"}:
            out[k] = rounded(v, currency_digits)
        elif k == "roas":
            out[k] = rounded(v, 2)
        elif k == "spend":
            out[k] = round(v, currency_digits)
        else:
            out[k] = v
    return out
