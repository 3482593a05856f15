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
import math
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
    from strategist.ml.priors import FunnelPrior, MetricPrior

KIND_PLATFORM = "platform_funnel"
KIND_CAMPAIGN = "campaign_funnel"
#: history older than this is not read: two years of days is plenty for a log-linear funnel and keeps reads fast
HISTORY_DAYS = 730
#: at least this many days with spend and impressions and the fit is called "history" (the data dominate the
#: prior on every stage); fewer, and it is "history+priors" (shrinkage visibly matters)
HISTORY_MIN_DAYS = 60
#: bumped when the fitted parameters' meaning changes, so old cache rows are refitted instead of misread
CACHE_VERSION = 3

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

#: Similar past campaigns as evidence for a platform's prior (issue 5). Each past campaign of the tenant is one
#: pseudo-observation of what *this* plan's rate will be, worth ``similarity x min(1, days / SIMILAR_FULL_DAYS)``
#: observations; their sum is capped at SIMILAR_MAX_N so a stack of look-alike plans cannot pin the prior. A
#: past campaign's rate differs from the next campaign's by a log-sd of SIMILAR_TRANSFER_LOG_SD (a stated
#: modelling assumption: another campaign of the same agency, briefed alike, lands within about +-40 % of it at
#: one sd), plus the counting noise of its own clicks/conversions. The prior is then updated by precision, as
#: ``fit_platform_response`` updates it with the client's own days, so the weight grows with the evidence.
SIMILAR_TRANSFER_LOG_SD = 0.35
SIMILAR_FULL_DAYS = 28
SIMILAR_MAX_N = 3.0
#: a past platform result with fewer clicks or conversions than this says nothing reliable about a rate
SIMILAR_MIN_COUNT = 20


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
    #: past campaigns blended into the prior: {"strategies": [...], "metrics": [...]}, empty when none were
    similar: dict[str, Any] = field(default_factory=dict)

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
    prior_notes: list[str] = field(default_factory=list)  # how the benchmark rows were combined, per platform

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


def _source_names(prior: MetricPrior | None) -> set[str]:
    return {src[0] for src in prior.sources} if prior is not None else set()


def coherent_prior(platform: str, objective: str, industry: str) -> tuple[FunnelPrior, str | None]:
    """The benchmark prior with its cost and conversion-rate figures from one population.

    Why: ``benchmark_prior`` takes each metric from the most specific row it finds, independently, so a platform
    can get its CPC from one publication (e.g. WordStream's 2025-26 all-industry search CPC, USD 5.42) and its
    conversion rate from another that counted something else (Kibo's 2020 ecommerce orders per *session* from
    Google traffic, 1.42 %). Revenue per unit of spend is CVR x AOV / CPC, so that mix divides a per-session
    purchase rate by a per-click price of a different population (ROAS 0.26 for Google ecommerce). Clicks per unit
    of spend come from the CPC alone, so the CVR must describe the same clicks: when the CVR's source differs
    from the cost figure's and the cost figure's own publication gives a CVR for this platform and objective
    (its all-industry row), that CVR is used instead, one fallback step wider (industry not matched), and the
    swap is returned as a note for the assumptions. Otherwise the prior is left as the table gives it."""
    from strategist.ml.priors import FALLBACK_LOG_SD, MetricPrior, benchmark_prior

    prior = benchmark_prior(platform, objective, industry)
    cost = prior.get("cpc") or prior.get("cpm")
    cvr = prior.get("cvr")
    if cost is None or cvr is None or industry == "all":
        return prior, None
    cost_sources = _source_names(cost)
    if _source_names(cvr) & cost_sources:
        return prior, None
    alt = benchmark_prior(platform, objective, "all").get("cvr")
    if alt is None or not _source_names(alt) or not _source_names(alt) <= cost_sources:
        return prior, None
    swapped = MetricPrior(alt.median, alt.log_sd + FALLBACK_LOG_SD, alt.sources, alt.derived)
    note = (
        f"{platform}: conversion rate {alt.median:.4%} from the same publication as its cost figure "
        f"({sorted(cost_sources)[0]}) instead of the '{industry}' rate {cvr.median:.4%} "
        f"({sorted(_source_names(cvr))[0]}), which counts another population (cost per click and conversions per "
        f"click must describe the same clicks); log-sd widened by {FALLBACK_LOG_SD} for the unmatched industry"
    )
    return dataclasses.replace(prior, metrics={**prior.metrics, "cvr": swapped}), note


def platform_prior(
    platform: str,
    objective: str,
    industry: str,
    factor: float,
    overrides: dict[str, tuple[float, float]] | None = None,
    notes: list[str] | None = None,
) -> FunnelPrior:
    """Benchmark prior in the client's currency (cost and conversion figures from one population, see
    ``coherent_prior``; its note is appended to ``notes``); email gets the stated cost-per-send model as its CPM.
    ``overrides`` are already in the client's currency and beat the table."""
    from strategist.ml.priors import MetricPrior

    base, note = coherent_prior(platform, objective, industry)
    if note and notes is not None:
        notes.append(note)
    prior = _scaled(base, factor)
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


@dataclass(frozen=True)
class SimilarEvidence:
    """One past strategy's results on one platform, in the client's currency when ``money`` is True."""

    strategy_id: str
    name: str
    similarity: float
    days: int
    spend: float
    impressions: float
    clicks: float
    conversions: float
    revenue: float
    money: bool

    @property
    def pseudo_n(self) -> float:
        """Observations this campaign is worth: its similarity, scaled down when it ran less than four weeks."""
        return max(0.0, min(1.0, self.similarity)) * min(1.0, self.days / SIMILAR_FULL_DAYS)


def similar_evidence(
    similar: Iterable[Any], platform: str, currency: str, exclude_client: uuid.UUID | None = None
) -> list[SimilarEvidence]:
    """Past strategies (``similarity.SimilarStrategy`` or its dict form) with results on ``platform``.

    ``exclude_client`` leaves out that client's own past strategies: their days are already in the client's
    history for this platform, and counting them twice would overstate the evidence. Money figures (CPM, AOV) are
    used only when the past strategy was in the client's currency; rates (CTR, CVR) are unit-free."""
    out = []
    for item in similar:
        get = item.get if isinstance(item, dict) else lambda k, _i=item: getattr(_i, k, None)
        results = get("results") or {}
        plat = (results.get("by_platform") or {}).get(platform)
        if not plat or float(plat.get("impressions") or 0) <= 0:
            continue
        if exclude_client is not None and str(get("client_id")) == str(exclude_client):
            continue
        out.append(
            SimilarEvidence(
                strategy_id=str(get("strategy_id")),
                name=str(get("name")),
                similarity=float(get("similarity") or 0.0),
                days=int(plat.get("days") or 0),
                spend=float(plat.get("spend") or 0),
                impressions=float(plat.get("impressions") or 0),
                clicks=float(plat.get("clicks") or 0),
                conversions=float(plat.get("conversions") or 0),
                revenue=float(plat.get("revenue") or 0),
                money=results.get("currency") == currency,
            )
        )
    return [e for e in out if e.pseudo_n > 0]


def _observed(e: SimilarEvidence, metric: str) -> tuple[float, float] | None:
    """Log of the metric in one past campaign and its counting variance, or None when it says nothing."""
    if metric == "cpm" and e.money and e.spend > 0 and e.impressions > 0:
        return math.log(e.spend / e.impressions * 1000.0), 1.0 / e.impressions
    if metric == "ctr" and e.clicks >= SIMILAR_MIN_COUNT:
        return math.log(e.clicks / e.impressions), 1.0 / e.clicks
    if metric == "cvr" and e.conversions >= SIMILAR_MIN_COUNT and e.clicks > 0:
        return math.log(e.conversions / e.clicks), 1.0 / e.conversions
    if metric == "aov" and e.money and e.conversions >= SIMILAR_MIN_COUNT and e.revenue > 0:
        return math.log(e.revenue / e.conversions), 1.0 / e.conversions
    return None


def blend_similar(
    prior: FunnelPrior, evidence: list[SimilarEvidence]
) -> tuple[FunnelPrior, list[dict[str, Any]]]:
    """The prior updated by similar past campaigns, metric by metric (CPM, CTR, CVR, AOV), and what moved.

    Per metric: the similarity-weighted mean of the past campaigns' log rates is one observation whose variance
    is SIMILAR_TRANSFER_LOG_SD^2 / n_eff (n_eff = summed pseudo-observations, capped at SIMILAR_MAX_N) plus their
    counting noise; it is combined with the log-normal benchmark prior by precision. The posterior is narrower
    than the prior, and ``weight`` (the evidence's share of the precision) says how far it moved."""
    from strategist.ml.priors import MetricPrior

    metrics = dict(prior.metrics)
    used: list[dict[str, Any]] = []
    for metric in ("cpm", "ctr", "cvr", "aov"):
        obs = [(e, o) for e in evidence if (o := _observed(e, metric)) is not None]
        if not obs:
            continue
        w = [e.pseudo_n for e, _ in obs]
        wsum = sum(w)
        n_eff = min(SIMILAR_MAX_N, wsum)
        d = sum(wi * o[0] for wi, (_, o) in zip(w, obs, strict=True)) / wsum
        count_var = sum(wi**2 * o[1] for wi, (_, o) in zip(w, obs, strict=True)) / wsum**2
        var_d = SIMILAR_TRANSFER_LOG_SD**2 / n_eff + count_var
        base = metrics.get(metric)
        # no benchmark figure at all: a vague prior (log-sd 3, as strategist.ml.curves uses) lets the evidence speak
        m0, s0 = (base.log_median, base.log_sd) if base is not None else (d, 3.0)
        prec = 1.0 / s0**2 + 1.0 / var_d
        mean = (m0 / s0**2 + d / var_d) / prec
        sd = math.sqrt(1.0 / prec)
        source = (
            "similar past campaigns of this agency: "
            + ", ".join(f"'{e.name}' (similarity {e.similarity:.2f}, {e.days} days)" for e, _ in obs),
            "",
            "",
        )
        metrics[metric] = MetricPrior(
            math.exp(mean),
            sd,
            (*(base.sources if base is not None else ()), source),
            base.derived if base is not None else False,
        )
        used.append(
            {
                "metric": metric,
                "benchmark_median": base.median if base is not None else None,
                "benchmark_log_sd": round(s0, 4) if base is not None else None,
                "observed": math.exp(d),
                "pseudo_observations": round(n_eff, 3),
                "weight": round((1.0 / var_d) / prec, 4),
                "median": math.exp(mean),
                "log_sd": round(sd, 4),
                "strategies": [e.strategy_id for e, _ in obs],
            }
        )
    return dataclasses.replace(prior, metrics=metrics), used


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
        "conversion_elasticity": [float(x) for x in r.conversion_elasticity],
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
        conversion_elasticity=(float(p["conversion_elasticity"][0]), float(p["conversion_elasticity"][1])),
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
            "conversion_elasticity": response.conversion_elasticity[0],
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
    similar: dict[str, Any] | None = None,
) -> ModelledPlatform:
    """Fit (or reuse) one scope. A cached fit is valid while its last data day and its prior are unchanged
    (a prior moved by similar past campaigns has another key, so it is refitted when they change)."""
    from strategist.ml.curves import fit_platform_response

    similar = similar or {}
    suffix = "+similar_campaigns" if similar else ""
    usable = {d: v for d, v in days.items() if v[0] > 0 and v[1] > 0}
    if not usable:
        response = fit_platform_response(_frame({}), platform, prior)
        return ModelledPlatform(
            scope, platform, response, "benchmark_priors" + suffix, 0, None, prior, similar=similar
        )
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
            basis_for(response.n_days) + suffix,
            response.n_days,
            through,
            prior,
            True,
            history,
            similar,
        )
    response = fit_platform_response(_frame(days), platform, prior)
    _store(uow, client_id, kind, scope, through, response, key, history)
    return ModelledPlatform(
        scope,
        platform,
        response,
        basis_for(response.n_days) + suffix,
        response.n_days,
        through,
        prior,
        False,
        history,
        similar,
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
    similar: list[Any] | None = None,
) -> ResponseSet:
    """One funnel model per requested platform for this client (``objective``/``industry`` are the benchmark
    table's labels). Platforms without history use their benchmark prior, so a mixed plan is normal.

    ``similar`` are the tenant's past strategies most like this brief, with their results: on a platform where
    the client has less than HISTORY_MIN_DAYS of its own, their observed rates move the prior
    (``blend_similar``) before the fit, and the platform's basis says "+similar_campaigns"."""
    today = today or dt.date.today()
    factor, fx_note = usd_factor(uow, currency, today)
    daily, row_note = _read_history(uow, client_id, currency, "platform", today)
    models = {}
    notes: list[str] = []
    for p in platforms:
        prior = platform_prior(p, objective, industry, factor, (overrides or {}).get(p), notes)
        own = daily.rows.get(p, {})
        n_own = sum(1 for v in own.values() if v[0] > 0 and v[1] > 0)
        used: dict[str, Any] = {}
        if similar and n_own < HISTORY_MIN_DAYS:
            evidence = similar_evidence(similar, p, currency, client_id if n_own else None)
            if evidence:
                prior, moved = blend_similar(prior, evidence)
                if moved:
                    used = {
                        "strategies": [
                            {
                                "strategy_id": e.strategy_id,
                                "name": e.name,
                                "similarity": round(e.similarity, 4),
                                "days": e.days,
                                "pseudo_observations": round(e.pseudo_n, 3),
                                "same_currency": e.money,
                            }
                            for e in evidence
                        ],
                        "metrics": moved,
                    }
        models[p] = _fit(uow, client_id, KIND_PLATFORM, p, p, own, prior, used)
    note = "; ".join(n for n in (fx_note, row_note) if n) or None
    return ResponseSet(currency, objective, industry, models, note, daily.unconverted, notes)


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
