"""Forecasts of a future spend plan: p10/p50/p90 of impressions, clicks, conversions, revenue and ROAS.

Monte Carlo over the platform posteriors: each draw keeps its parameters for the whole plan (a platform that is
worse than we think is worse every week) while day-level noise is fresh each period, so totals are not falsely
narrow. ROAS is computed per draw (revenue / spend) before taking quantiles, never as a ratio of quantiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from strategist.ml.curves import OUTCOMES, PlatformResponse

__all__ = ["forecast_plan"]


def forecast_plan(
    plan: pd.DataFrame,
    responses: Mapping[str, PlatformResponse],
    *,
    date: str = "date",
    days_per_period: float = 1.0,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    n_draws: int = 2000,
    random_state: int | None = None,
) -> pd.DataFrame:
    """``plan`` has a ``date`` column and one spend column per platform (spend per period).

    Returns one row per (period, platform) plus ``platform == "total"`` rows and ``date == "total"`` rows for the
    whole plan, with columns ``metric`` and one per quantile (``p10``, ``p50``, ``p90``).
    """
    platforms = [c for c in plan.columns if c != date]
    missing = [p for p in platforms if p not in responses]
    if missing:
        raise KeyError(f"no fitted response for {missing}")
    spend = plan[platforms].to_numpy(dtype=float)
    if np.any(spend < 0) or not np.all(np.isfinite(spend)):
        raise ValueError("planned spend must be finite and non-negative")
    rng = np.random.default_rng(random_state)
    labels = [f"p{round(q * 100):d}" for q in quantiles]
    sims: dict[str, dict[str, np.ndarray]] = {}
    for j, p in enumerate(platforms):
        sims[p] = responses[p].simulate(spend[:, j], n_draws, rng, days_per_period)
        sims[p]["spend"] = np.broadcast_to(spend[:, j], (n_draws, len(plan)))
    sims["total"] = {m: sum(sims[p][m] for p in platforms) for m in (*OUTCOMES, "spend")}  # type: ignore[misc]

    dates = [str(d) for d in plan[date]] if date in plan else [str(i) for i in range(len(plan))]
    rows = []
    for name, sim in sims.items():
        per_period = {m: sim[m] for m in OUTCOMES}
        with np.errstate(divide="ignore", invalid="ignore"):
            per_period["roas"] = np.where(sim["spend"] > 0, sim["revenue"] / sim["spend"], np.nan)
        whole = {m: sim[m].sum(axis=1) for m in OUTCOMES}
        total_spend = sim["spend"].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            whole["roas"] = np.where(total_spend > 0, whole["revenue"] / total_spend, np.nan)
        for metric, values in per_period.items():
            qs = np.quantile(values, quantiles, axis=0) if not np.all(np.isnan(values)) else None
            for t, d in enumerate(dates):
                row = {"date": d, "platform": name, "metric": metric}
                row.update(
                    {lab: float(qs[i, t]) if qs is not None else float("nan") for i, lab in enumerate(labels)}
                )
                rows.append(row)
        for metric, values in whole.items():
            qs_w = (
                np.quantile(values, quantiles)
                if not np.all(np.isnan(values))
                else [float("nan")] * len(labels)
            )
            rows.append(
                {
                    "date": "total",
                    "platform": name,
                    "metric": metric,
                    **dict(zip(labels, map(float, qs_w), strict=True)),
                }
            )
    return pd.DataFrame(rows)
