"""Funnel priors from the shipped benchmark table, for clients with little or no history.

Every figure in ``data/benchmarks.csv`` carries its public source, address and date; a prior built from it names
the rows it used, so a plan made from benchmarks can say what it rests on. Published averages describe nobody in
particular, so the priors are deliberately wide (log-normal, ~65 % spread for a direct figure) and widen further
with every fallback (another objective, the all-industry row, a figure derived from two others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import pandas as pd

from strategist.domain.platforms import Platform

__all__ = ["METRICS", "FunnelPrior", "MetricPrior", "benchmark_prior", "load_benchmarks"]

METRICS = ("cpm", "ctr", "cvr", "cpc", "aov")
#: log-sd of a single published average as a guess for one advertiser
BASE_LOG_SD = 0.5
#: extra log-sd per fallback step
FALLBACK_LOG_SD = 0.15


@dataclass(frozen=True)
class MetricPrior:
    """Log-normal prior: ``median`` and ``log_sd``; ``sources`` are the table rows (source, url, date) used."""

    median: float
    log_sd: float
    sources: tuple[tuple[str, str, str], ...] = ()
    derived: bool = False

    @property
    def log_median(self) -> float:
        return math.log(self.median)


@dataclass(frozen=True)
class FunnelPrior:
    platform: str
    objective: str
    industry: str
    metrics: dict[str, MetricPrior] = field(default_factory=dict)

    def get(self, metric: str) -> MetricPrior | None:
        return self.metrics.get(metric)


@lru_cache(maxsize=1)
def load_benchmarks() -> pd.DataFrame:
    """The shipped table (package data, so it travels inside the Lambda layer)."""
    with resources.files("strategist.ml").joinpath("data/benchmarks.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"published": str})
    unknown = set(table["platform"]) - {p.value for p in Platform} - {"any"}
    if unknown:
        raise ValueError(f"benchmark table has unknown platforms: {sorted(unknown)}")
    return table


def _from_rows(rows: pd.DataFrame, extra_sd: float) -> MetricPrior:
    """Pool several published figures: geometric mean, spread from their disagreement and any stated ranges
    (a published "typical range" is read as about +-2 sd)."""
    logs = [math.log(v) for v in rows["value"]]
    center = sum(logs) / len(logs)
    spread = 0.0
    if len(logs) > 1:
        spread = math.sqrt(sum((x - center) ** 2 for x in logs) / (len(logs) - 1))
    ranges = [
        math.log(h / lo) / 4
        for lo, h in zip(rows["low"], rows["high"], strict=True)
        if pd.notna(lo) and pd.notna(h)
    ]
    range_sd = max(ranges) if ranges else 0.0
    sd = math.sqrt(BASE_LOG_SD**2 + spread**2 + range_sd**2) + extra_sd
    sources = tuple((str(r.source), str(r.url), str(r.published)) for r in rows.itertuples())
    return MetricPrior(math.exp(center), sd, sources)


def _lookup(
    table: pd.DataFrame, platform: str, objective: str, industry: str, metric: str
) -> MetricPrior | None:
    rows = table[table["metric"] == metric]
    ladder = [
        (platform, objective, industry),
        (platform, objective, "all"),
        (platform, None, industry),
        (platform, None, "all"),
        ("any", "any", industry),
        ("any", "any", "all"),
    ]
    for step, (p, o, i) in enumerate(ladder):
        hit = rows[(rows["platform"] == p) & (rows["industry"] == i)]
        if o is not None:
            hit = hit[hit["objective"] == o]
        if len(hit):
            return _from_rows(hit, FALLBACK_LOG_SD * step)
    return None


def _combine(parts: list[tuple[MetricPrior, float]], factor: float) -> MetricPrior:
    """Log-normal product ``factor * prod(part ** power)``: variances add."""
    log_med = math.log(factor) + sum(p * m.log_median for m, p in parts)
    sd = math.sqrt(sum((p * m.log_sd) ** 2 for m, p in parts))
    sources = tuple(s for m, _ in parts for s in m.sources)
    return MetricPrior(math.exp(log_med), sd, sources, derived=True)


def benchmark_prior(
    platform: str | Platform,
    objective: str = "conversions",
    industry: str = "all",
    overrides: dict[str, tuple[float, float]] | None = None,
) -> FunnelPrior:
    """Priors for CPM, CTR, CVR, CPC and AOV; CPM and CPC are derived from each other and CTR when missing.

    ``overrides`` maps a metric to ``(median, log_sd)`` from the agency's own knowledge, which beats any table.
    """
    platform = Platform(platform).value
    table = load_benchmarks()
    found: dict[str, MetricPrior] = {}
    for metric in METRICS:
        prior = _lookup(table, platform, objective, industry, metric)
        if prior is not None:
            found[metric] = prior
    ctr = found.get("ctr")
    if "cpm" not in found and "cpc" in found and ctr is not None:
        found["cpm"] = _combine([(found["cpc"], 1.0), (ctr, 1.0)], 1000.0)
    if "cpc" not in found and "cpm" in found and ctr is not None:
        found["cpc"] = _combine([(found["cpm"], 1.0), (ctr, -1.0)], 1e-3)
    for metric, (median, log_sd) in (overrides or {}).items():
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
        found[metric] = MetricPrior(float(median), float(log_sd), (("agency override", "", ""),))
    return FunnelPrior(platform, objective, industry, found)
