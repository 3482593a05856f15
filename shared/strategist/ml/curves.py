"""Per-client, per-platform response curves fitted from the service's own daily campaign metrics.

The funnel is modelled stage by stage because each stage is observed: impressions bought per unit of spend
(with an elasticity below one: buying more reach costs more per impression), then CTR, CVR and AOV. Every stage is
a conjugate normal update of a log-scale benchmark prior, so a client with three days of data gets an answer close
to the benchmarks and a client with a year gets its own numbers: the shrinkage is automatic and explainable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from strategist.domain.platforms import Platform
from strategist.ml.priors import FunnelPrior, MetricPrior, benchmark_prior
from strategist.ml.response import PowerCurve

__all__ = ["OUTCOMES", "PlatformResponse", "fit_platform_response", "prior_response"]

Array = NDArray[np.float64]
OUTCOMES = ("impressions", "clicks", "conversions", "revenue")
#: prior on the spend elasticity of impressions minus one: mildly diminishing returns
ELASTICITY_PRIOR = (-0.15, 0.1)
#: day-to-day log noise assumed before seeing data, and its weight in pseudo-days
DAY_SD_PRIOR = (0.3, 5.0)
#: used only when neither the table nor an override has a figure and the data must speak alone
VAGUE_LOG_SD = 3.0
#: complete weeks of history needed before the day spreads are calibrated on weekly residuals
MIN_WEEKS = 4
#: weight, in weeks, of the per-day spread estimate when the weekly calibration takes over
DAY_ESTIMATE_WEEKS = 2.0
#: smallest day spread a stage keeps (a stage may add next to nothing to the stage before it)
MIN_DAY_SD = 0.01


@dataclass(frozen=True)
class _Rate:
    """Posterior of a log-rate's mean and the day-to-day log spread around it."""

    mean: float
    sd: float
    day_sd: float


@dataclass(frozen=True)
class PlatformResponse:
    """Posterior of one platform's funnel: impressions = exp(a) * s_ref * (spend / s_ref) ** (1 + c)."""

    platform: str
    spend_ref: float
    coef_mean: Array
    coef_cov: Array
    impression_day_sd: float
    ctr: _Rate
    cvr: _Rate
    aov: _Rate
    n_days: int

    @property
    def elasticity(self) -> float:
        return float(1.0 + self.coef_mean[1])

    def expected(self, spend: float | Array, outcome: str = "revenue") -> Array:
        """Posterior-median outcome per day at a daily spend (parameter medians, no day noise)."""
        draws = self._param_draws(np.random.default_rng(0), 1, median=True)
        return self._outcome(np.atleast_1d(np.asarray(spend, dtype=float)), draws, outcome)[0]

    def _param_draws(self, rng: np.random.Generator, n: int, median: bool = False) -> dict[str, Array]:
        if median:
            coef = self.coef_mean[None, :]
            z = np.zeros((1, 3))
        else:
            coef = rng.multivariate_normal(self.coef_mean, self.coef_cov, size=n, method="cholesky")
            z = rng.standard_normal((n, 3))
        return {
            "a": coef[:, 0],
            "c": np.minimum(coef[:, 1], -1e-3),
            "ctr": self.ctr.mean + self.ctr.sd * z[:, 0],
            "cvr": self.cvr.mean + self.cvr.sd * z[:, 1],
            "aov": self.aov.mean + self.aov.sd * z[:, 2],
        }

    def _outcome(self, spend: Array, p: dict[str, Array], outcome: str) -> Array:
        s = np.maximum(spend, 0.0)
        impressions = (
            np.exp(p["a"])[:, None] * self.spend_ref * (s[None, :] / self.spend_ref) ** (1 + p["c"])[:, None]
        )
        steps = {"impressions": 0, "clicks": 1, "conversions": 2, "revenue": 3}
        if outcome not in steps:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        log_rate = sum(p[k] for k in ("ctr", "cvr", "aov")[: steps[outcome]]) if steps[outcome] else 0.0
        return impressions * np.exp(log_rate)[:, None] if steps[outcome] else impressions

    def curve(self, outcome: str = "revenue", n_draws: int = 400, random_state: int | None = 0) -> PowerCurve:
        """Daily outcome as a concave power curve of daily spend, with posterior draws for uplift intervals."""
        rng = np.random.default_rng(random_state)
        med = self._param_draws(rng, 1, median=True)
        draws = self._param_draws(rng, n_draws)

        def coef(p: dict[str, Array]) -> Array:
            one = self._outcome(np.array([self.spend_ref]), p, outcome)[:, 0]
            return one / self.spend_ref ** (1 + p["c"])

        return PowerCurve(
            coef=float(coef(med)[0]),
            exponent=float(1 + med["c"][0]),
            draws=np.column_stack([coef(draws), 1 + draws["c"]]),
        )

    def simulate(
        self, spend: Array, n_draws: int, rng: np.random.Generator, days_per_period: float = 1.0
    ) -> dict[str, Array]:
        """Draws (n_draws, periods) of each funnel metric for spend per period: parameter and day noise.

        Rate noise is mean-one (the rates are ratios of sums), so summed draws are centred on the fitted totals;
        the day spreads are calibrated on weekly sums, so intervals are meant for weeks and longer periods."""
        spend = np.asarray(spend, dtype=float)
        daily = spend / days_per_period
        p = self._param_draws(rng, n_draws)
        shape = (n_draws, len(spend))
        shrink = 1.0 / math.sqrt(days_per_period)
        imp = self._outcome(daily, p, "impressions") * np.exp(
            self.impression_day_sd * shrink * rng.standard_normal(shape)
        )
        out = {"impressions": imp * days_per_period}
        level = out["impressions"]
        for name, key, rate in (
            ("clicks", "ctr", self.ctr),
            ("conversions", "cvr", self.cvr),
            ("revenue", "aov", self.aov),
        ):
            sd = rate.day_sd * shrink
            level = level * np.exp(p[key][:, None] + sd * rng.standard_normal(shape) - 0.5 * sd**2)
            out[name] = level
        return out


def _metric_or_vague(prior: MetricPrior | None, fallback: float) -> tuple[float, float]:
    if prior is None:
        return math.log(fallback), VAGUE_LOG_SD
    return prior.log_median, prior.log_sd


def _rate_posterior(num: Array, den: Array, prior: tuple[float, float]) -> _Rate:
    """Pooled log-rate with Poisson and day-to-day error, combined with the log-normal prior by precision."""
    m0, s0 = prior
    tau0, k0 = DAY_SD_PRIOR
    mask = den > 0
    if not mask.any():
        return _Rate(m0, s0, tau0)
    num, den = num[mask], den[mask]
    usable = num >= 5
    ss = 0.0
    if usable.sum() >= 2:
        logs = np.log(num[usable] / den[usable])
        ss = float(np.sum((logs - logs.mean()) ** 2))
    tau = math.sqrt((k0 * tau0**2 + ss) / (k0 + max(int(usable.sum()) - 1, 0)))
    d = math.log((num.sum() + 0.5) / (den.sum() + 0.5))
    var_d = 1.0 / (num.sum() + 0.5) + tau**2 / len(num)
    prec = 1.0 / s0**2 + 1.0 / var_d
    mean = (m0 / s0**2 + d / var_d) / prec
    return _Rate(mean, math.sqrt(1.0 / prec), tau)


def fit_platform_response(
    daily: pd.DataFrame,
    platform: str | Platform,
    prior: FunnelPrior | None = None,
    objective: str = "conversions",
    industry: str = "all",
) -> PlatformResponse:
    """Fit one platform's funnel from daily rows with ``spend``, ``impressions``, ``clicks``, ``conversions``,
    ``revenue`` (missing later stages fall back to the prior). An empty frame gives the pure benchmark prior."""
    platform = Platform(platform).value
    prior = prior or benchmark_prior(platform, objective, industry)
    cols = {
        c: daily[c].to_numpy(dtype=float) if c in daily else np.zeros(len(daily))
        for c in ("spend", *OUTCOMES)
    }
    ok = (cols["spend"] > 0) & (cols["impressions"] > 0)
    spend = cols["spend"][ok]
    if len(spend) == 0 and prior.get("cpm") is None:
        raise ValueError(
            f"no cost benchmark (CPM/CPC) for {platform}; pass overrides={{'cpm': (median, log_sd)}}"
        )
    s_ref = float(np.exp(np.mean(np.log(spend)))) if len(spend) else 100.0

    cpm = _metric_or_vague(prior.get("cpm"), 10.0)
    mu0 = np.array([math.log(1000.0) - cpm[0], ELASTICITY_PRIOR[0]])
    prec0 = np.diag([1.0 / cpm[1] ** 2, 1.0 / ELASTICITY_PRIOR[1] ** 2])
    cov = np.linalg.inv(prec0)
    mean = mu0
    tau0, k0 = DAY_SD_PRIOR
    sigma = tau0
    if len(spend):
        X = np.column_stack([np.ones(len(spend)), np.log(spend / s_ref)])
        y = np.log(cols["impressions"][ok] / spend)
        for _ in range(3):
            prec = prec0 + X.T @ X / sigma**2
            cov = np.linalg.inv(prec)
            mean = cov @ (prec0 @ mu0 + X.T @ y / sigma**2)
            rss = float(np.sum((y - X @ mean) ** 2))
            sigma = math.sqrt((k0 * tau0**2 + rss) / (k0 + len(y)))
    ctr = _rate_posterior(cols["clicks"], cols["impressions"], _metric_or_vague(prior.get("ctr"), 0.01))
    cvr = _rate_posterior(cols["conversions"], cols["clicks"], _metric_or_vague(prior.get("cvr"), 0.02))
    aov_num = cols["revenue"]
    aov = _rate_posterior(aov_num, cols["conversions"], _metric_or_vague(prior.get("aov"), 100.0))
    if aov_num.sum() > 0 and cols["conversions"].sum() > 0:
        # revenue is a sum of order values, not a count: its Poisson term is meaningless, keep day-level error only
        mask = cols["conversions"] > 0
        d = math.log(aov_num[mask].sum() / cols["conversions"][mask].sum())
        var_d = aov.day_sd**2 / mask.sum()
        m0, s0 = _metric_or_vague(prior.get("aov"), 100.0)
        prec = 1 / s0**2 + 1 / var_d
        aov = _Rate((m0 / s0**2 + d / var_d) / prec, math.sqrt(1 / prec), aov.day_sd)
    if len(spend):
        sigma, ctr, cvr, aov = _weekly_calibration(cols, s_ref, mean, sigma, (ctr, cvr, aov))
    return PlatformResponse(platform, s_ref, mean, cov, sigma, ctr, cvr, aov, len(spend))


def _weekly_calibration(
    cols: dict[str, Array], s_ref: float, coef: Array, imp_sd: float, rates: tuple[_Rate, _Rate, _Rate]
) -> tuple[float, _Rate, _Rate, _Rate]:
    """Day spreads such that the simulated WEEKLY sums spread as the training weeks do around the fitted funnel.

    Per-day log ratios overstate what matters for a plan: a day-of-week cycle cancels within a week, and a ratio
    conversions/clicks carries the clicks' own noise, which the simulation already stacks underneath. So each
    stage is compared, week by week (consecutive 7-day blocks ending at the last row), with its expected total
    from the fitted means given the spend actually made; the variance of those log residuals is what the
    simulation's stacked daily noise must reproduce. Independent daily noise of sd ``s`` makes a week's log
    total spread by about ``s**2 * h`` (``h`` = the week's Herfindahl of expected daily volumes, 1/7 for even
    days), so the cumulative daily variance of stage k is ``V_k / h`` and each stage keeps the increment over
    the stage before it. Low-count days count (weekly sums carry their counting noise), and the per-day estimate
    is kept as a prior worth ``DAY_ESTIMATE_WEEKS`` weeks. Fewer than ``MIN_WEEKS`` usable weeks: unchanged."""
    n_weeks = len(cols["spend"]) // 7
    day_sds = [imp_sd, *(r.day_sd for r in rates)]
    if n_weeks < MIN_WEEKS:
        return imp_sd, *rates
    start = len(cols["spend"]) - 7 * n_weeks
    spend = np.maximum(cols["spend"][start:], 0.0)
    base = np.zeros_like(spend)
    on = spend > 0
    base[on] = math.exp(coef[0]) * s_ref * (spend[on] / s_ref) ** (1.0 + min(coef[1], -1e-3))
    days = base.reshape(n_weeks, 7)
    week_base = days.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        herf = np.where(week_base > 0, (days**2).sum(axis=1) / week_base**2, np.nan)
    log_step = 0.0
    cum_prev = 0.0
    out = []
    for k, name in enumerate(OUTCOMES):
        if k:
            log_step += rates[k - 1].mean
        actual = cols[name][start:].reshape(n_weeks, 7).sum(axis=1)
        use = (actual > 0) & (week_base > 0)
        if use.sum() < MIN_WEEKS:
            out.append(day_sds[k])
            cum_prev += day_sds[k] ** 2
            continue
        resid = np.log(actual[use]) - np.log(week_base[use]) - log_step
        cum = float(np.var(resid, ddof=1)) / float(np.mean(herf[use]))
        inc = max(cum - cum_prev, MIN_DAY_SD**2)
        dof = float(use.sum() - 1)
        var = (DAY_ESTIMATE_WEEKS * day_sds[k] ** 2 + dof * inc) / (DAY_ESTIMATE_WEEKS + dof)
        out.append(math.sqrt(var))
        cum_prev = max(cum, cum_prev + MIN_DAY_SD**2)
    ctr, cvr, aov = (_Rate(r.mean, r.sd, sd) for r, sd in zip(rates, out[1:], strict=True))
    return out[0], ctr, cvr, aov


def prior_response(
    platform: str | Platform,
    objective: str = "conversions",
    industry: str = "all",
    overrides: dict[str, tuple[float, float]] | None = None,
) -> PlatformResponse:
    """No history at all: the benchmark prior as a response (wide intervals by construction)."""
    prior = benchmark_prior(platform, objective, industry, overrides)
    empty = pd.DataFrame({c: [] for c in ("spend", *OUTCOMES)})
    return fit_platform_response(empty, platform, prior)
