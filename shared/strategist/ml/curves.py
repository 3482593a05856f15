"""Per-client, per-platform response curves fitted from the service's own daily campaign metrics.

The funnel is modelled stage by stage because each stage is observed: impressions bought per unit of spend
(with an elasticity below one: buying more reach costs more per impression), then CTR, CVR and AOV. Every stage is
a conjugate normal update of a log-scale benchmark prior, so a client with three days of data gets an answer close
to the benchmarks and a client with a year gets its own numbers: the shrinkage is automatic and explainable.

Conversions saturate on their own: their spend elasticity is estimated directly (log conversions on log spend,
with day-of-week effects and a week of distributed lags so that neither the weekly cycle of spend nor carry-over
biases it), from a prior centred well below one. CVR is the pooled rate at the reference spend and moves with
spend as ``(spend / s_ref) ** (e - (1 + c))``, so conversions and revenue are ``~ spend ** e``: concave, with a
marginal ROAS that falls with spend. When spend barely varies the data say little and the prior decides.
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
#: prior on the spend elasticity of conversions (and so revenue): saturating, rarely near-linear
CONVERSION_ELASTICITY_PRIOR = (0.6, 0.2)
#: range a conversion elasticity draw is kept in (the curve must stay increasing and concave)
CONVERSION_ELASTICITY_RANGE = (0.02, 1.0)
#: days of lagged spend in the conversion regression (carry-over), and the prior sd of each lag's share
ELASTICITY_LAGS = 6
LAG_PRIOR_SD = 0.5
#: prior sd of a day-of-week effect on log conversions
DOW_PRIOR_SD = 0.5
#: fewer usable days than this and the conversion elasticity is fitted without day-of-week and lag terms
MIN_LAG_DAYS = 28


@dataclass(frozen=True)
class _Rate:
    """Posterior of a log-rate's mean and the day-to-day log spread around it."""

    mean: float
    sd: float
    day_sd: float


@dataclass(frozen=True)
class PlatformResponse:
    """Posterior of one platform's funnel: impressions = exp(a) * s_ref * (spend / s_ref) ** (1 + c), clicks at a
    constant CTR, conversions = clicks(s_ref) * CVR * (spend / s_ref) ** e (``conversion_elasticity`` = posterior
    mean and sd of e), revenue at a constant AOV."""

    platform: str
    spend_ref: float
    coef_mean: Array
    coef_cov: Array
    impression_day_sd: float
    ctr: _Rate
    cvr: _Rate
    aov: _Rate
    n_days: int
    conversion_elasticity: tuple[float, float] = CONVERSION_ELASTICITY_PRIOR

    @property
    def elasticity(self) -> float:
        return float(1.0 + self.coef_mean[1])

    def outcome_elasticity(self, outcome: str = "revenue") -> float:
        """Posterior-median spend elasticity of a funnel stage (the exponent of its power curve)."""
        p = self._param_draws(np.random.default_rng(0), 1, median=True)
        return float(self._exponent(p, outcome)[0])

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
        e_mean, e_sd = self.conversion_elasticity
        e = np.full(len(coef), e_mean) if median else e_mean + e_sd * rng.standard_normal(n)
        return {
            "a": coef[:, 0],
            "c": np.minimum(coef[:, 1], -1e-3),
            "ctr": self.ctr.mean + self.ctr.sd * z[:, 0],
            "cvr": self.cvr.mean + self.cvr.sd * z[:, 1],
            "aov": self.aov.mean + self.aov.sd * z[:, 2],
            "e": np.clip(e, *CONVERSION_ELASTICITY_RANGE),
        }

    @staticmethod
    def _exponent(p: dict[str, Array], outcome: str) -> Array:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        return p["e"] if outcome in ("conversions", "revenue") else 1 + p["c"]

    def _outcome(self, spend: Array, p: dict[str, Array], outcome: str) -> Array:
        s = np.maximum(spend, 0.0)
        steps = OUTCOMES.index(outcome) if outcome in OUTCOMES else -1
        exponent = self._exponent(p, outcome)
        log_level = p["a"] + (sum(p[k] for k in ("ctr", "cvr", "aov")[:steps]) if steps else 0.0)
        return (
            np.exp(log_level)[:, None] * self.spend_ref * (s[None, :] / self.spend_ref) ** exponent[:, None]
        )

    def curve(self, outcome: str = "revenue", n_draws: int = 400, random_state: int | None = 0) -> PowerCurve:
        """Daily outcome as a concave power curve of daily spend, with posterior draws for uplift intervals."""
        rng = np.random.default_rng(random_state)
        med = self._param_draws(rng, 1, median=True)
        draws = self._param_draws(rng, n_draws)

        def coef(p: dict[str, Array]) -> Array:
            one = self._outcome(np.array([self.spend_ref]), p, outcome)[:, 0]
            return one / self.spend_ref ** self._exponent(p, outcome)

        return PowerCurve(
            coef=float(coef(med)[0]),
            exponent=float(self._exponent(med, outcome)[0]),
            draws=np.column_stack([coef(draws), self._exponent(draws, outcome)]),
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
        log_noise = self.impression_day_sd * shrink * rng.standard_normal(shape)
        out = {"impressions": self._outcome(daily, p, "impressions") * np.exp(log_noise) * days_per_period}
        for name, rate in (("clicks", self.ctr), ("conversions", self.cvr), ("revenue", self.aov)):
            sd = rate.day_sd * shrink
            log_noise = log_noise + sd * rng.standard_normal(shape) - 0.5 * sd**2
            out[name] = self._outcome(daily, p, name) * np.exp(log_noise) * days_per_period
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
    elasticity = _conversion_elasticity(daily, cols, s_ref)
    # CVR is the rate AT the reference spend: each day's clicks are weighted by how far the conversion curve's
    # elasticity takes that day's spend from the clicks' own, so the fitted curve reproduces the pooled total
    tilt = np.zeros(len(daily))
    pos = cols["spend"] > 0
    tilt[pos] = (cols["spend"][pos] / s_ref) ** (
        float(np.clip(elasticity[0], *CONVERSION_ELASTICITY_RANGE)) - (1.0 + min(float(mean[1]), -1e-3))
    )
    cvr = _rate_posterior(
        cols["conversions"], cols["clicks"] * tilt, _metric_or_vague(prior.get("cvr"), 0.02)
    )
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
        sigma, ctr, cvr, aov = _weekly_calibration(cols, s_ref, mean, sigma, (ctr, cvr, aov), elasticity[0])
    return PlatformResponse(platform, s_ref, mean, cov, sigma, ctr, cvr, aov, len(spend), elasticity)


def _conversion_elasticity(daily: pd.DataFrame, cols: dict[str, Array], s_ref: float) -> tuple[float, float]:
    """Posterior (mean, sd) of the spend elasticity of conversions: a Bayesian regression of log conversions on
    log spend.

    ``log conv_t = alpha + dow_t + e * x_t + sum_k b_k * (x_{t-k} - x_t)`` with ``x = log(spend / s_ref)``:
    the day-of-week effects keep the weekly cycle (which moves spend and conversions together without one
    causing the other) out of ``e``, and the lag terms let a day's conversions answer to the week's spend
    (carry-over), so ``e`` is the long-run elasticity (the lag weights sum to it). Prior ``e ~
    CONVERSION_ELASTICITY_PRIOR``, ``b_k ~ N(0, LAG_PRIOR_SD)``; the precision the data add is proportional to
    the spread of log spend, so a client whose spend barely varies keeps the prior. Days with no spend or no
    conversions are left out; lags only join consecutive calendar days."""
    e0, e_sd0 = CONVERSION_ELASTICITY_PRIOR
    spend, conv = cols["spend"], cols["conversions"]
    n = len(spend)
    if n == 0:
        return e0, e_sd0
    if "date" in daily:
        dates = pd.to_datetime(daily["date"]).to_numpy()
        day = ((dates - np.datetime64("1970-01-05")) // np.timedelta64(1, "D")).astype(np.int64)
    else:
        day = np.arange(n, dtype=np.int64)
    with np.errstate(divide="ignore"):
        x = np.where(spend > 0, np.log(np.maximum(spend, 1e-300) / s_ref), np.nan)
    ok = (spend > 0) & (conv > 0)
    lags = ELASTICITY_LAGS if ok.sum() >= MIN_LAG_DAYS + ELASTICITY_LAGS else 0
    lag_cols = []
    for k in range(1, lags + 1):
        prev = np.full(n, np.nan)
        prev[k:] = x[:-k]
        consecutive = np.zeros(n, dtype=bool)
        consecutive[k:] = day[k:] - day[:-k] == k
        ok &= consecutive & np.isfinite(prev)
        lag_cols.append(prev - x)
    m = int(ok.sum())
    if m < 3:
        return e0, e_sd0
    y = np.log(conv[ok])
    blocks = [np.ones(m)]
    prior_sd = [VAGUE_LOG_SD * 10]
    prior_mean = [float(y.mean())]
    if lags:
        dow = day[ok] % 7
        for d in range(1, 7):
            blocks.append((dow == d).astype(float) - float(np.mean(dow == d)))
        prior_sd += [DOW_PRIOR_SD] * 6
        prior_mean += [0.0] * 6
    e_index = len(blocks)
    blocks.append(x[ok])
    prior_sd.append(e_sd0)
    prior_mean.append(e0)
    for lag in lag_cols:
        blocks.append(lag[ok])
        prior_sd.append(LAG_PRIOR_SD)
        prior_mean.append(0.0)
    X = np.column_stack(blocks)
    mu0 = np.array(prior_mean)
    prec0 = np.diag(1.0 / np.array(prior_sd) ** 2)
    tau0, k0 = DAY_SD_PRIOR
    sigma = tau0
    cov = np.linalg.inv(prec0)
    for _ in range(3):
        prec = prec0 + X.T @ X / sigma**2
        cov = np.linalg.inv(prec)
        beta = cov @ (prec0 @ mu0 + X.T @ y / sigma**2)
        rss = float(np.sum((y - X @ beta) ** 2))
        sigma = math.sqrt((k0 * tau0**2 + rss) / (k0 + m))
    return float(beta[e_index]), float(math.sqrt(cov[e_index, e_index]))


def _weekly_calibration(
    cols: dict[str, Array],
    s_ref: float,
    coef: Array,
    imp_sd: float,
    rates: tuple[_Rate, _Rate, _Rate],
    conv_elasticity: float,
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
    on = spend > 0
    e = float(np.clip(conv_elasticity, *CONVERSION_ELASTICITY_RANGE))
    bases = []
    for exponent in (1.0 + min(coef[1], -1e-3), e):
        base = np.zeros_like(spend)
        base[on] = math.exp(coef[0]) * s_ref * (spend[on] / s_ref) ** exponent
        days = base.reshape(n_weeks, 7)
        week_total = days.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            bases.append(
                (week_total, np.where(week_total > 0, (days**2).sum(axis=1) / week_total**2, np.nan))
            )
    log_step = 0.0
    cum_prev = 0.0
    out = []
    for k, name in enumerate(OUTCOMES):
        week_base, herf = bases[0] if k < 2 else bases[1]
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
