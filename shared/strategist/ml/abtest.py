"""A/B-test statistics: fixed-horizon differences with intervals, and a sequential test safe under peeking.

Agencies look at running tests every day; a fixed-horizon p-value checked daily rejects a true null far more
often than its nominal 5 %. The mixture SPRT (Robbins 1970; Johari et al., "Always valid inference", 2017) gives
p-values and confidence sequences that stay valid whenever one stops, at the price of some power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "SequentialResult",
    "TestResult",
    "always_valid_pvalues",
    "difference_in_means",
    "difference_in_proportions",
    "sequential_proportions",
]


@dataclass(frozen=True)
class TestResult:
    """Difference B - A with a confidence interval and a two-sided p-value."""

    difference: float
    ci: tuple[float, float]
    p_value: float
    relative_lift: float | None


def _wilson(x: float, n: float, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference_in_proportions(
    conv_a: int, n_a: int, conv_b: int, n_b: int, confidence: float = 0.95
) -> TestResult:
    """Newcombe's hybrid score interval (good coverage even for rare conversions) and the pooled z-test."""
    if min(n_a, n_b) <= 0 or not (0 <= conv_a <= n_a and 0 <= conv_b <= n_b):
        raise ValueError("need 0 <= conversions <= trials and trials > 0 in both arms")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    pa, pb = conv_a / n_a, conv_b / n_b
    la, ua = _wilson(conv_a, n_a, z)
    lb, ub = _wilson(conv_b, n_b, z)
    d = pb - pa
    lo = d - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    hi = d + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    pooled = (conv_a + conv_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p_value = float(2 * stats.norm.sf(abs(d) / se0)) if se0 > 0 else 1.0
    return TestResult(d, (lo, hi), p_value, d / pa if pa > 0 else None)


def difference_in_means(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> TestResult:
    """Welch's t: no equal-variance assumption (revenue per user rarely has one)."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError("need at least two observations per arm")
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = math.sqrt(va + vb)
    d = float(xb.mean() - xa.mean())
    if se == 0:
        return TestResult(d, (d, d), 1.0 if d == 0 else 0.0, d / xa.mean() if xa.mean() else None)
    df = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    p_value = float(2 * stats.t.sf(abs(d) / se, df))
    return TestResult(d, (d - t * se, d + t * se), p_value, d / xa.mean() if xa.mean() else None)


def always_valid_pvalues(differences: ArrayLike, variances: ArrayLike, tau: float) -> NDArray[np.float64]:
    """Running always-valid p-values for a sequence of looks (last axis) at a difference estimate.

    Normal-mixture SPRT with mixing N(0, tau^2): the likelihood ratio is
    sqrt(V / (V + tau^2)) * exp(d^2 tau^2 / (2 V (V + tau^2))); the p-value is the running minimum of 1 / ratio.
    """
    d = np.asarray(differences, dtype=float)
    v = np.maximum(np.asarray(variances, dtype=float), 1e-300)
    t2 = tau * tau
    log_lr = 0.5 * np.log(v / (v + t2)) + d * d * t2 / (2 * v * (v + t2))
    p = np.minimum(1.0, np.exp(-log_lr))
    return np.minimum.accumulate(p, axis=-1)


@dataclass(frozen=True)
class SequentialResult:
    difference: float
    confidence_sequence: tuple[float, float]
    p_value: float
    reject: bool


def sequential_proportions(
    conv_a: Sequence[int],
    n_a: Sequence[int],
    conv_b: Sequence[int],
    n_b: Sequence[int],
    *,
    alpha: float = 0.05,
    tau: float | None = None,
) -> SequentialResult:
    """Cumulative counts at each look so far (any number of looks, any spacing); valid at every look.

    ``tau`` is the scale of differences worth detecting (absolute conversion-rate points); by default 20 % of
    the pooled rate, a typical relative lift for marketing tests.
    """
    ca, na, cb, nb = (np.asarray(x, dtype=float) for x in (conv_a, n_a, conv_b, n_b))
    if np.any(na <= 0) or np.any(nb <= 0):
        raise ValueError("every look needs trials in both arms")
    pa, pb = ca / na, cb / nb
    pooled = (ca + cb) / (na + nb)
    var = np.maximum(pa * (1 - pa) / na + pb * (1 - pb) / nb, pooled * (1 - pooled) * (1 / na + 1 / nb))
    var = np.maximum(var, 1e-12)
    tau_ = float(tau) if tau is not None else max(0.2 * float(pooled[-1]), 1e-4)
    p = always_valid_pvalues(pb - pa, var, tau_)
    v, t2 = float(var[-1]), tau_ * tau_
    half = math.sqrt(v * (v + t2) / t2 * (math.log((v + t2) / v) + 2 * math.log(1 / alpha)))
    d = float(pb[-1] - pa[-1])
    return SequentialResult(d, (d - half, d + half), float(p[-1]), bool(p[-1] <= alpha))
