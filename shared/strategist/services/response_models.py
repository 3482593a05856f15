"""Per-client response models: one spend -> funnel curve per platform (or per campaign), from the client's own
daily metrics when it has them and from the cited benchmark priors when it does not.

Why a service around ``strategist.ml``: the modelling core is pure and knows nothing about tenants, currencies or
caching. Here we (1) read the client's daily rows (breakdown '' only, so no day is counted twice), converting any
row whose currency is not the client's with dated ECB rates; (2) turn USD benchmark figures into the client's
currency; (3) fit with ``fit_platform_response``, whose conjugate update shrinks short histories toward the prior;
(4) cache the posterior in ``fitted_models`` and reuse it until a newer day of data arrives.

The numeric core (numpy/pandas/strategist.ml) is imported inside the functions: the module itself is cheap to
import, and only the two functions that ship with the ml layer ever call these paths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from strategist.adapters.db.models import FittedModel
from strategist.domain.platforms import Platform

if TYPE_CHECKING:
    from strategist.adapters.db.uow import UnitOfWork
    from strategist.ml.curves import PlatformResponse
    from strategist.ml.priors import FunnelPrior

KIND_PLATFORM = "platform_funnel"
KIND_CAMPAIGN = "campaign_funnel"
#: history older than this is not read: two years of days is plenty for a log-linear funnel and keeps reads fast
HISTORY_DAYS = 730
#: at least this many days with spend and impressions and the fit is called "history" (the data dominate the
#: prior on every stage); fewer, and it is "history+priors" (shrinkage visibly matters)
HISTORY_MIN_DAYS = 60
#: bumped when the fitted parameters' meaning changes, so old cache rows are refitted instead of misread
CACHE_VERSION = 1

#: Client industries (strategist.domain.clients.Industry) -> the industry labels of the benchmark table.
#: Anything not listed uses the table's all-industry rows; the mapping is reported in the assumptions.
BENCHMARK_INDUSTRY: dict[str, str] = {
    "ecommerce": "ecommerce",
    "retail": "ecommerce",
    "b2b_saas": "b2b",
    "technology": "b2b",
    "healthcare": "health",
    "fitness": "health",
    "beauty": "beauty",
    "food_beverage": "food_beverage",
}

#: Brief objectives -> the objectives of the benchmark table.
OBJECTIVES: dict[str, str] = {
    "sales_conversion": "conversions",
    "sales": "conversions",
    "conversions": "conversions",
    "lead_generation": "leads",
    "leads": "leads",
    "traffic": "traffic",
    "website_traffic": "traffic",
    "brand_awareness": "awareness",
    "awareness": "awareness",
    "reach": "awareness",
}

#: Email has no CPM in the benchmark table. Cost model (a stated assumption, overridable per request): what the
#: agency pays per 1,000 sends, ESP fees plus a share of copy and design production, median USD 5 with a wide
#: log-normal spread (log-sd 0.6, i.e. roughly USD 2-11 as a 10-90 % band).
EMAIL_COST_PER_THOUSAND_USD = 5.0
EMAIL_COST_LOG_SD = 0.6


@dataclass(frozen=True)
class ModelledPlatform:
    """One platform's (or campaign's) response, and what it rests on."""

    scope: str
    platform: str
    response: PlatformResponse
    basis: str  # "history" | "history+priors" | "benchmark_priors"
    n_days: int
    data_through: dt.date | None
    prior: FunnelPrior
    cached: bool = False
    history: dict[str, float] = field(default_factory=dict)  # totals over the history window, client currency

    def curve(self, outcome: str) -> Any:
        """Daily ``outcome`` as a concave curve of daily spend (what the allocator takes)."""
        return self.response.curve(outcome)


@dataclass
class ResponseSet:
    """The models for one request, with the facts a plan must disclose."""

    currency: str
    objective: str
    industry: str
    models: dict[str, ModelledPlatform]
    fx_note: str | None = None
    unconverted_rows: int = 0

    def curves(self, outcome: str) -> dict[str, Any]:
        return {k: m.curve(outcome) for k, m in self.models.items()}

    def responses(self) -> dict[str, PlatformResponse]:
        return {k: m.response for k, m in self.models.items()}


def benchmark_industry(industry: str | None) -> str:
    return BENCHMARK_INDUSTRY.get(str(industry or ""), "all")


def benchmark_objective(objective: str) -> str:
    return OBJECTIVES.get(objective, "conversions")


def usd_factor(uow: UnitOfWork, currency: str, day: dt.date | None = None) -> tuple[float, str | None]:
    """USD -> ``currency`` multiplier for the benchmark figures (published in USD), from the latest ECB rate.
    Returns (1.0, note) when no rate is known, so the caller can say the figures stayed in USD."""
    if currency == "USD":
        return 1.0, None
    from strategist.services import fx

    day = day or dt.date.today()
    try:
        table = fx.load_table(uow.session, ["USD", currency], day - dt.timedelta(days=10), day)
        f = table.factor("USD", currency, day)
    except fx.FxUnavailable:
        return 1.0, f"no ECB rate for USD->{currency}: benchmark money figures are left in USD"
    rate_day = f.target.rate_date if f.target is not None else day
    return float(
        f.value
    ), f"benchmark money figures converted USD->{currency} at {f.value:.6f} (ECB, {rate_day})"


def _scaled(prior: FunnelPrior, factor: float) -> FunnelPrior:
    """The same prior with money metrics (CPM, CPC, AOV) in another currency; ratios are unit-free."""
    if factor == 1.0:
        return prior
    metrics = {
        k: dataclasses.replace(v, median=v.median * factor) if k in {"cpm", "cpc", "aov"} else v
        for k, v in prior.metrics.items()
    }
    return dataclasses.replace(prior, metrics=metrics)


def platform_prior(
    platform: str,
    objective: str,
    industry: str,
    factor: float,
    overrides: dict[str, tuple[float, float]] | None = None,
) -> FunnelPrior:
    """Benchmark prior in the client's currency; email gets the stated cost-per-send model as its CPM.
    ``overrides`` are already in the client's currency and beat the table."""
    from strategist.ml.priors import MetricPrior, benchmark_prior

    prior = _scaled(benchmark_prior(platform, objective, industry), factor)
    extra: dict[str, MetricPrior] = {}
    if platform == Platform.EMAIL.value and prior.get("cpm") is None:
        extra["cpm"] = MetricPrior(
            EMAIL_COST_PER_THOUSAND_USD * factor,
            EMAIL_COST_LOG_SD,
            (
                (
                    "assumption: email cost per 1,000 sends (ESP fees + production share), agency default",
                    "",
                    "",
                ),
            ),
        )
    for metric, (median, log_sd) in (overrides or {}).items():
        extra[metric] = MetricPrior(float(median), float(log_sd), (("agency override (request)", "", ""),))
    if not extra:
        return prior
    return dataclasses.replace(prior, metrics={**prior.metrics, **extra})


def _prior_key(prior: FunnelPrior) -> str:
    """Fingerprint of a prior: a cached fit is reused only if the prior it was shrunk toward is the same."""
    blob = json.dumps(
        [
            CACHE_VERSION,
            prior.platform,
            prior.objective,
            prior.industry,
            *sorted((k, round(v.median, 9), round(v.log_sd, 9)) for k, v in prior.metrics.items()),
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _to_params(r: PlatformResponse) -> dict[str, Any]:
    return {
        "platform": r.platform,
        "spend_ref": r.spend_ref,
        "coef_mean": [float(x) for x in r.coef_mean],
        "coef_cov": [[float(x) for x in row] for row in r.coef_cov],
        "impression_day_sd": r.impression_day_sd,
        "ctr": [r.ctr.mean, r.ctr.sd, r.ctr.day_sd],
        "cvr": [r.cvr.mean, r.cvr.sd, r.cvr.day_sd],
        "aov": [r.aov.mean, r.aov.sd, r.aov.day_sd],
        "n_days": r.n_days,
    }


def _from_params(p: dict[str, Any]) -> PlatformResponse:
    import numpy as np

    from strategist.ml import curves

    # _Rate is the posterior triple PlatformResponse holds; ml exports no constructor for it, so the cache
    # rebuilds it directly (ask the ml owner for a public from_params if this ever changes shape).
    return curves.PlatformResponse(
        platform=p["platform"],
        spend_ref=float(p["spend_ref"]),
        coef_mean=np.asarray(p["coef_mean"], dtype=float),
        coef_cov=np.asarray(p["coef_cov"], dtype=float),
        impression_day_sd=float(p["impression_day_sd"]),
        ctr=curves._Rate(*p["ctr"]),
        cvr=curves._Rate(*p["cvr"]),
        aov=curves._Rate(*p["aov"]),
        n_days=int(p["n_days"]),
    )


def basis_for(n_days: int) -> str:
    if n_days <= 0:
        return "benchmark_priors"
    return "history" if n_days >= HISTORY_MIN_DAYS else "history+priors"


@dataclass
class _Daily:
    """Daily rows per scope, already in the client's currency."""

    rows: dict[str, dict[dt.date, list[float]]] = field(default_factory=dict)
    unconverted: int = 0

    def add(self, scope: str, day: dt.date, values: Iterable[float]) -> None:
        acc = self.rows.setdefault(scope, {}).setdefault(day, [0.0] * 5)
        for i, v in enumerate(values):
            acc[i] += v


def _read_history(
    uow: UnitOfWork, client_id: uuid.UUID, currency: str, by: str, today: dt.date
) -> tuple[_Daily, str | None]:
    """Daily spend/impressions/clicks/conversions/revenue per platform (``by="platform"``) or campaign.

    Grouped by currency in SQL; rows in another currency are converted with the rate of their own day (cost and
    value alike, before any ratio). A currency the ECB does not publish cannot be converted: those rows are left
    out and counted, never silently summed as if they were the client's currency."""
    key = "c.platform" if by == "platform" else "c.id::text"
    start = today - dt.timedelta(days=HISTORY_DAYS)
    rows = uow.session.execute(
        text(
            f"SELECT {key} AS scope, m.date, m.currency, sum(m.cost), sum(m.impressions), sum(m.clicks), "
            "sum(m.conversions), sum(m.conversion_value) "
            "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
            "WHERE c.tenant_id = :t AND m.tenant_id = :t AND c.client_id = :c AND m.breakdown = '' "
            "AND m.date >= :start AND m.date < :today "
            f"GROUP BY {key}, m.date, m.currency"
        ),
        {"t": uow.tenant_id, "c": client_id, "start": start, "today": today},
    ).all()
    out = _Daily()
    foreign = sorted({r[2] for r in rows if r[2] != currency})
    note = None
    table = None
    if foreign:
        from strategist.services import fx

        days = [r[1] for r in rows]
        table = fx.load_table(uow.session, [*foreign, currency], min(days), max(days))
        note = f"rows in {', '.join(foreign)} converted to {currency} with the ECB rate of each row's day"
    for scope, day, cur, cost, imp, clicks, conv, value in rows:
        factor = Decimal(1)
        if cur != currency and table is not None:
            from strategist.services import fx

            try:
                factor = table.factor(cur, currency, day).value
            except fx.FxUnavailable:
                out.unconverted += 1
                continue
        out.add(
            str(scope),
            day,
            (
                float(Decimal(cost or 0) * factor),
                float(imp or 0),
                float(clicks or 0),
                float(conv or 0),
                float(Decimal(value or 0) * factor),
            ),
        )
    return out, note


def _frame(days: dict[dt.date, list[float]]) -> Any:
    import pandas as pd

    ordered = sorted(days)
    cols = list(zip(*(days[d] for d in ordered), strict=True)) if ordered else [[]] * 5
    return pd.DataFrame(
        {
            "date": ordered,
            "spend": cols[0],
            "impressions": cols[1],
            "clicks": cols[2],
            "conversions": cols[3],
            "revenue": cols[4],
        }
    )


def _cached(uow: UnitOfWork, client_id: uuid.UUID, kind: str, scope: str) -> FittedModel | None:
    from sqlalchemy import select

    return uow.session.scalar(
        select(FittedModel).where(
            FittedModel.client_id == client_id, FittedModel.kind == kind, FittedModel.scope == scope
        )
    )


def _store(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    kind: str,
    scope: str,
    data_through: dt.date,
    response: PlatformResponse,
    prior_key: str,
    history: dict[str, float],
) -> None:
    values = {
        "data_through": data_through,
        "n_days": response.n_days,
        "params": _to_params(response),
        "diagnostics": {
            "prior_key": prior_key,
            "basis": basis_for(response.n_days),
            "elasticity": response.elasticity,
            "history": history,
        },
        "fitted_at": dt.datetime.now(dt.UTC),
    }
    stmt = insert(FittedModel).values(
        id=uuid.uuid4(), tenant_id=uow.tenant_id, client_id=client_id, kind=kind, scope=scope, **values
    )
    uow.session.execute(
        stmt.on_conflict_do_update(index_elements=["tenant_id", "client_id", "kind", "scope"], set_=values)
    )


def _fit(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    kind: str,
    scope: str,
    platform: str,
    days: dict[dt.date, list[float]],
    prior: FunnelPrior,
) -> ModelledPlatform:
    """Fit (or reuse) one scope. A cached fit is valid while its last data day and its prior are unchanged."""
    from strategist.ml.curves import fit_platform_response

    usable = {d: v for d, v in days.items() if v[0] > 0 and v[1] > 0}
    if not usable:
        response = fit_platform_response(_frame({}), platform, prior)
        return ModelledPlatform(scope, platform, response, "benchmark_priors", 0, None, prior)
    through = max(usable)
    key = _prior_key(prior)
    history = {
        name: float(sum(v[i] for v in usable.values()))
        for i, name in enumerate(("spend", "impressions", "clicks", "conversions", "revenue"))
    }
    row = _cached(uow, client_id, kind, scope)
    if row is not None and row.data_through == through and (row.diagnostics or {}).get("prior_key") == key:
        response = _from_params(row.params)
        return ModelledPlatform(
            scope,
            platform,
            response,
            basis_for(response.n_days),
            response.n_days,
            through,
            prior,
            True,
            history,
        )
    response = fit_platform_response(_frame(days), platform, prior)
    _store(uow, client_id, kind, scope, through, response, key, history)
    return ModelledPlatform(
        scope, platform, response, basis_for(response.n_days), response.n_days, through, prior, False, history
    )


def platform_models(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    *,
    platforms: list[str],
    currency: str,
    objective: str,
    industry: str,
    overrides: dict[str, dict[str, tuple[float, float]]] | None = None,
    today: dt.date | None = None,
) -> ResponseSet:
    """One funnel model per requested platform for this client (``objective``/``industry`` are the benchmark
    table's labels). Platforms without history use their benchmark prior, so a mixed plan is normal."""
    today = today or dt.date.today()
    factor, fx_note = usd_factor(uow, currency, today)
    daily, row_note = _read_history(uow, client_id, currency, "platform", today)
    models = {}
    for p in platforms:
        prior = platform_prior(p, objective, industry, factor, (overrides or {}).get(p))
        models[p] = _fit(uow, client_id, KIND_PLATFORM, p, p, daily.rows.get(p, {}), prior)
    note = "; ".join(n for n in (fx_note, row_note) if n) or None
    return ResponseSet(currency, objective, industry, models, note, daily.unconverted)


def campaign_models(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    *,
    campaigns: dict[str, str],
    currency: str,
    objective: str,
    industry: str,
    today: dt.date | None = None,
) -> ResponseSet:
    """One funnel model per campaign (``campaigns`` maps campaign id -> platform), each shrunk toward its
    platform's benchmark prior, cached per campaign."""
    today = today or dt.date.today()
    factor, fx_note = usd_factor(uow, currency, today)
    daily, row_note = _read_history(uow, client_id, currency, "campaign", today)
    priors: dict[str, FunnelPrior] = {}
    models = {}
    for cid, platform in campaigns.items():
        if platform not in priors:
            priors[platform] = platform_prior(platform, objective, industry, factor)
        models[cid] = _fit(
            uow,
            client_id,
            KIND_CAMPAIGN,
            f"campaign:{cid}",
            platform,
            daily.rows.get(cid, {}),
            priors[platform],
        )
    note = "; ".join(n for n in (fx_note, row_note) if n) or None
    return ResponseSet(currency, objective, industry, models, note, daily.unconverted)


def prior_facts(prior: FunnelPrior) -> list[dict[str, Any]]:
    """Every figure a prior used, with its source and date (for a plan's assumptions)."""
    out = []
    for metric, m in sorted(prior.metrics.items()):
        out.append(
            {
                "platform": prior.platform,
                "metric": metric,
                "median": m.median,
                "log_sd": round(m.log_sd, 4),
                "derived": m.derived,
                "sources": [{"source": s, "url": u, "published": d} for s, u, d in m.sources],
            }
        )
    return out


def recent_spend(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    *,
    currency: str,
    by: str,
    days: int = 30,
    today: dt.date | None = None,
) -> dict[str, float]:
    """Spend per platform or campaign over the last ``days`` complete days, in the client's currency (the
    current split a budget optimization starts from)."""
    today = today or dt.date.today()
    daily, _ = _read_history(uow, client_id, currency, by, today)
    since = today - dt.timedelta(days=days)
    return {
        scope: float(sum(v[0] for d, v in rows.items() if d >= since))
        for scope, rows in daily.rows.items()
        if any(d >= since and v[0] > 0 for d, v in rows.items())
    }
