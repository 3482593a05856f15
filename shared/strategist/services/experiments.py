"""A/B experiments over synced campaign metrics: design (sample size and duration), tracking with a sequentially
valid test, and the stop/ship decision.

Why a sequential test: agencies look at a running test every day, and a fixed-horizon p-value checked daily
rejects a true null far more often than alpha. The always-valid p-value and confidence sequence of
strategist.ml.abtest stay valid at whatever look one stops, so the recommendation may be read at any time.

What a variant is: a slice of synced traffic, a campaign's totals (breakdown '') or one breakdown of it. The first
variant is the control. With more than two variants each is compared with the control at alpha / (k - 1)
(Bonferroni), in planning and in tracking alike, so the family-wise error stays at alpha.

Rates (conversion_rate = conversions / clicks, ctr = clicks / impressions) are planned with the two-proportion
power formula; ratios of sums (cpa, roas, revenue_per_click) with the delta method on daily sums, which treats
the day as the unit and so also absorbs day-to-day swings (conservative). Every assumption is stated in the
design or the results, never hidden.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select

from strategist.adapters.db.models import Campaign, CampaignMetric, Client, Experiment
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, FieldProblem, ValidationFailed
from strategist.domain.platforms import Platform
from strategist.http.schemas.common import decode_cursor, encode_cursor
from strategist.http.schemas.experiments import (
    ExperimentCreate,
    ExperimentListQuery,
    ExperimentMetric,
    ExperimentOut,
    ExperimentStop,
    VariantOut,
)
from strategist.services.clients import get_client_owned, visible_to

#: Days of daily data needed before the delta method's variance is trusted for planning.
MIN_DELTA_DAYS = 7
#: Coefficient of variation per denominator unit assumed for a ratio metric with no usable history.
FALLBACK_CV = 1.0
GOOGLE_ADS_NOTE = (
    "Google Ads reports its own experiment significance for campaign experiments; that is not synced yet, so "
    "the figures here are computed from the synced daily metrics only."
)


@dataclass(frozen=True)
class MetricDef:
    numerator: str
    denominator: str
    kind: Literal["rate", "ratio"]
    higher_is_better: bool
    unit: str

    @property
    def formula(self) -> str:
        return f"{_LABEL[self.numerator]} / {_LABEL[self.denominator]}"


_LABEL = {"conversions": "conversions", "clicks": "clicks", "impressions": "impressions", "cost": "spend",
          "conversion_value": "revenue"}  # fmt: skip

METRICS: dict[ExperimentMetric, MetricDef] = {
    ExperimentMetric.CONVERSION_RATE: MetricDef("conversions", "clicks", "rate", True, "clicks"),
    ExperimentMetric.CTR: MetricDef("clicks", "impressions", "rate", True, "impressions"),
    ExperimentMetric.CPA: MetricDef("cost", "conversions", "ratio", False, "conversions"),
    ExperimentMetric.ROAS: MetricDef("conversion_value", "cost", "ratio", True, "spend (currency units)"),
    ExperimentMetric.REVENUE_PER_CLICK: MetricDef("conversion_value", "clicks", "ratio", True, "clicks"),
}

Daily = dict[dt.date, tuple[float, float]]  # date -> (numerator, denominator)


# -- statistics ------------------------------------------------------------------------------------------------
def _z(p: float) -> float:
    return NormalDist().inv_cdf(p)


def comparison_alpha(alpha: float, n_variants: int) -> float:
    """Bonferroni over the k - 1 comparisons with the control."""
    return alpha / max(1, n_variants - 1)


def two_proportion_sample_size(p1: float, mde: float, alpha: float, power: float) -> int:
    """Per arm, two-sided: n = (z_(1-a/2) sqrt(2 pbar (1 - pbar)) + z_power sqrt(p1 q1 + p2 q2))^2 / (p2 - p1)^2,
    with p2 = p1 (1 + mde) and pbar their mean (Fleiss; the pooled variance under the null, unpooled under the
    alternative)."""
    p2 = p1 * (1 + mde)
    pbar = (p1 + p2) / 2
    n = (
        _z(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar))
        + _z(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / (p2 - p1) ** 2
    return math.ceil(n)


def ratio_sample_size(cv: float, mde: float, alpha: float, power: float) -> int:
    """Per arm, in denominator units, for a relative change mde of a ratio whose per-unit coefficient of
    variation is cv: n = 2 (z_(1-a/2) + z_power)^2 cv^2 / mde^2 (the baseline cancels for a relative effect)."""
    return math.ceil(2 * (_z(1 - alpha / 2) + _z(power)) ** 2 * cv * cv / (mde * mde))


def ratio_estimate(days: list[tuple[float, float]]) -> tuple[float, float] | None:
    """R = sum(y) / sum(x) and its delta-method variance sum((y_i - R x_i)^2) / sum(x)^2 * n / (n - 1), the day
    being the unit. None with fewer than two days carrying a denominator."""
    used = [(y, x) for y, x in days if x > 0]
    if len(used) < 2:
        return None
    sx = sum(x for _, x in used)
    r = sum(y for y, _ in used) / sx
    n = len(used)
    var = sum((y - r * x) ** 2 for y, x in used) / (sx * sx) * n / (n - 1)
    return r, var


def per_unit_cv(days: list[tuple[float, float]]) -> tuple[float, int] | None:
    """Coefficient of variation per denominator unit from daily sums (delta method): sigma^2_unit = s_d^2 / x_bar
    with d_i = y_i - R x_i, so that Var(R) = sigma^2_unit / sum(x). Needs MIN_DELTA_DAYS days and R > 0."""
    used = [(y, x) for y, x in days if x > 0]
    if len(used) < MIN_DELTA_DAYS:
        return None
    sx = sum(x for _, x in used)
    r = sum(y for y, _ in used) / sx
    if r <= 0:
        return None
    n = len(used)
    s2 = sum((y - r * x) ** 2 for y, x in used) / (n - 1)
    if (
        s2 <= 0
    ):  # identical daily ratios say nothing about the noise; planning on zero variance would give n = 0
        return None
    return math.sqrt(s2 / (sx / n)) / r, n


def confidence_sequence_half_width(var: float, tau: float, alpha: float) -> float:
    """The normal-mixture confidence sequence's half width (the same boundary as sequential_proportions)."""
    v, t2 = max(var, 1e-300), tau * tau
    return math.sqrt(v * (v + t2) / t2 * (math.log((v + t2) / v) + 2 * math.log(1 / alpha)))


# -- reading metrics -------------------------------------------------------------------------------------------
def _slices_filter(variants: list[dict[str, Any]]) -> Any:
    return or_(
        *(
            and_(
                CampaignMetric.campaign_id == uuid.UUID(str(v["campaign_id"])),
                CampaignMetric.breakdown == v["breakdown"],
            )
            for v in variants
        )
    )


def _daily_by_variant(
    uow: UnitOfWork,
    variants: list[dict[str, Any]],
    currencies: dict[uuid.UUID, str],
    definition: MetricDef,
    start: dt.date,
    end: dt.date,
) -> tuple[dict[str, Daily], dt.datetime | None, list[str]]:
    """Daily (numerator, denominator) per variant key over [start, end]; rows in a currency other than the
    campaign's are left out (nothing here converts) and named."""
    m = CampaignMetric
    num, den = getattr(m, definition.numerator), getattr(m, definition.denominator)
    stmt = (
        select(
            m.campaign_id,
            m.breakdown,
            m.date,
            m.currency,
            func.sum(num),
            func.sum(den),
            func.max(m.synced_at),
        )
        .where(_slices_filter(variants), m.date >= start, m.date <= end)
        .group_by(m.campaign_id, m.breakdown, m.date, m.currency)
    )
    key_of = {(uuid.UUID(str(v["campaign_id"])), v["breakdown"]): v["key"] for v in variants}
    out: dict[str, Daily] = {v["key"]: {} for v in variants}
    as_of: dt.datetime | None = None
    excluded: set[str] = set()
    for cid, breakdown, day, currency, y, x, synced in uow.session.execute(stmt):
        if currency != currencies[cid]:
            excluded.add(f"{cid}:{currency}")
            continue
        out[key_of[(cid, breakdown)]][day] = (float(y or 0), float(x or 0))
        as_of = synced if as_of is None or synced > as_of else as_of
    return out, as_of, sorted(excluded)


def _client_daily(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    platforms: set[str],
    definition: MetricDef,
    start: dt.date,
    end: dt.date,
) -> list[tuple[float, float]]:
    """The client's campaign totals on the variants' platforms, per day: the baseline when the variants' own
    slices have no history (new campaigns or new breakdowns)."""
    m = CampaignMetric
    num, den = getattr(m, definition.numerator), getattr(m, definition.denominator)
    stmt = (
        select(m.date, func.sum(num), func.sum(den))
        .join(Campaign, Campaign.id == m.campaign_id)
        .where(
            Campaign.client_id == client_id,
            Campaign.platform.in_(sorted(platforms)),
            m.breakdown == "",
            m.currency == Campaign.currency,
            m.date >= start,
            m.date <= end,
        )
        .group_by(m.date)
    )
    return [(float(y or 0), float(x or 0)) for _, y, x in uow.session.execute(stmt)]


# -- design ----------------------------------------------------------------------------------------------------
def _variant_campaigns(
    uow: UnitOfWork, client_id: uuid.UUID, data: ExperimentCreate
) -> dict[uuid.UUID, Campaign]:
    ids = {v.campaign_id for v in data.variants}
    found = {c.id: c for c in uow.session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}
    problems = [
        FieldProblem(
            f"body.variants.{i}.campaign_id", f"campaign {v.campaign_id} is not one of this client's"
        )
        for i, v in enumerate(data.variants)
        if v.campaign_id not in found or found[v.campaign_id].client_id != client_id
    ]
    if problems:
        raise ValidationFailed("; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems)
    metric = METRICS[data.metric]
    if "cost" in (metric.numerator, metric.denominator) or "conversion_value" in (
        metric.numerator,
        metric.denominator,
    ):
        currencies = {found[v.campaign_id].currency for v in data.variants}
        if len(currencies) > 1:
            reason = f"{data.metric.value} compares money across variants, which are in {', '.join(sorted(currencies))}"
            raise ValidationFailed.one("body.variants", reason)
    return found


def _plan(
    uow: UnitOfWork, data: ExperimentCreate, campaigns: dict[uuid.UUID, Campaign], start: dt.date
) -> tuple[int | None, int | None, dict[str, Any]]:
    """Sample size per variant, expected duration and the design record (baseline, method, assumptions)."""
    definition = METRICS[data.metric]
    k = len(data.variants)
    alpha_c = comparison_alpha(data.alpha, k)
    window = (start - dt.timedelta(days=data.baseline_days), start - dt.timedelta(days=1))
    variants = [v.model_dump(mode="json") for v in data.variants]
    currencies = {c.id: c.currency for c in campaigns.values()}
    per_variant, _, excluded = _daily_by_variant(uow, variants, currencies, definition, *window)
    pooled: dict[dt.date, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for days in per_variant.values():
        for day, (y, x) in days.items():
            py, px = pooled[day]
            pooled[day] = (py + y, px + x)
    history = list(pooled.values())
    source = "variants"
    if sum(x for _, x in history) <= 0:
        history = _client_daily(
            uow, data.client_id, {c.platform for c in campaigns.values()}, definition, *window
        )
        source = "client"
    total_x = sum(x for _, x in history)
    assumptions: list[str] = []
    if k > 2:
        assumptions.append(
            f"{k - 1} comparisons with the control, each at alpha {alpha_c:.4g} (Bonferroni) so the family-wise "
            f"false-positive rate stays at {data.alpha:g}"
        )
    baseline: float | None = sum(y for y, _ in history) / total_x if total_x > 0 else None
    design: dict[str, Any] = {
        "metric_definition": definition.formula,
        "sample_unit": definition.unit,
        "control": data.variants[0].key,
        "comparison_alpha": alpha_c,
        "baseline_window": {"start": window[0], "end": window[1], "days": data.baseline_days},
        "baseline_source": source if total_x > 0 else None,
        "baseline": baseline,
        "excluded_currency_rows": excluded,
    }
    if definition.kind == "rate":
        if data.baseline_rate is not None:
            baseline = data.baseline_rate
            design["baseline_source"] = "request"
            design["baseline"] = baseline
        if baseline is None or baseline <= 0:
            reason = (
                f"no {definition.formula} history in the {data.baseline_days} days before the start, for the "
                "variants or the client; give the baseline to plan with"
            )
            raise ValidationFailed.one("body.baseline_rate", reason)
        if baseline >= 1 or baseline * (1 + data.mde) >= 1:
            reason = f"the baseline {baseline:.4g} lifted by {data.mde:g} is not a rate below 1"
            raise ValidationFailed.one("body.mde", reason)
        n = two_proportion_sample_size(baseline, data.mde, alpha_c, data.power)
        design["method"] = "two-proportion power calculation (Fleiss), two-sided"
    else:
        if data.baseline_rate is not None:
            raise ValidationFailed.one(
                "body.baseline_rate", f"applies to rate metrics only, not {data.metric.value}"
            )
        estimated = per_unit_cv(history)
        if estimated is not None:
            cv, used_days = estimated
            design["method"] = f"delta method on {used_days} days of daily sums, two-sided"
            assumptions.append(
                "the day is the unit of the variance estimate, so day-to-day swings count as noise (conservative)"
            )
        else:
            cv = FALLBACK_CV
            design["method"] = (
                "normal approximation with an assumed per-unit coefficient of variation, two-sided"
            )
            assumptions.append(
                f"fewer than {MIN_DELTA_DAYS} days of {definition.formula} history: assumed a coefficient of "
                f"variation of {FALLBACK_CV:g} per {definition.unit.split(' ')[0].rstrip('s')}; re-plan once data "
                "exists"
            )
        design["coefficient_of_variation_per_unit"] = cv
        n = ratio_sample_size(cv, data.mde, alpha_c, data.power)
    duration: int | None = None
    per_variant_x = {key: sum(x for _, x in days.values()) for key, days in per_variant.items()}
    if all(x > 0 for x in per_variant_x.values()):
        slowest = min(per_variant_x.values()) / data.baseline_days
        design["daily_units_per_variant"] = slowest
        assumptions.append("each variant keeps its own recent traffic; the slowest variant sets the duration")
    elif total_x > 0:
        slowest = total_x / data.baseline_days / k
        design["daily_units_per_variant"] = slowest
        assumptions.append(f"recent traffic ({source}) is split evenly across the {k} variants")
    else:
        slowest = 0.0
        design["daily_units_per_variant"] = None
        assumptions.append("no recent traffic: the duration cannot be estimated until metrics are synced")
    if slowest > 0:
        duration = math.ceil(n / slowest)
    design["assumptions"] = assumptions
    return n, duration, design


def create_experiment(uow: UnitOfWork, principal: Principal, data: ExperimentCreate) -> ExperimentOut:
    principal.require_role(Role.ANALYST)
    principal.require_tenant(data.tenant_id)
    principal.require_client(data.client_id)
    client = uow.session.scalar(
        select(Client).where(Client.id == data.client_id, Client.deleted_at.is_(None))
    )
    if client is None:
        raise ValidationFailed.one("body.client_id", f"client {data.client_id} does not exist in this tenant")
    today = dt.datetime.now(dt.UTC).date()
    if data.status == "draft" and data.start_date is not None:
        raise ValidationFailed.one("body.start_date", "a draft has no start; create it running to set one")
    if data.start_date is not None and data.start_date > today:
        raise ValidationFailed.one("body.start_date", f"must not be after today ({today.isoformat()}, UTC)")
    if data.start_date is not None and (today - data.start_date).days > 365:
        raise ValidationFailed.one("body.start_date", "must be within the last 365 days")
    campaigns = _variant_campaigns(uow, client.id, data)
    start = data.start_date or today
    n, duration, design = _plan(uow, data, campaigns, start)
    platforms = {campaigns[v.campaign_id].platform for v in data.variants}
    shared_campaign = {v.campaign_id for v in data.variants}
    now = dt.datetime.now(dt.UTC)
    exp = Experiment(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        campaign_id=next(iter(shared_campaign)) if len(shared_campaign) == 1 else None,
        name=data.name,
        hypothesis=data.hypothesis,
        platform=platforms.pop() if len(platforms) == 1 else "multiple",
        metric=data.metric.value,
        variants=[v.model_dump(mode="json") for v in data.variants],
        mde=Decimal(str(data.mde)),
        alpha=Decimal(str(data.alpha)),
        power=Decimal(str(data.power)),
        required_sample_size_per_variant=n,
        expected_duration_days=duration,
        design=jsonable(design),
        status=data.status,
        started_at=(dt.datetime.combine(start, dt.time(), dt.UTC) if data.status == "running" else None),
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(exp)
    uow.session.flush()
    uow.audit("experiment.create", "experiment", exp.id, after=_snapshot(exp))
    uow.emit(
        "experiment.created",
        {"experiment_id": exp.id, "client_id": exp.client_id, "metric": exp.metric, "status": exp.status},
    )
    return to_out(uow, exp)


# -- reading ---------------------------------------------------------------------------------------------------
def get_experiment(uow: UnitOfWork, principal: Principal, experiment_id: uuid.UUID) -> Experiment:
    """404 for another tenant's (RLS), another client's for a viewer, or a deleted client's experiment."""
    return get_client_owned(uow, principal, Experiment, experiment_id, "experiment")


def list_experiments(
    uow: UnitOfWork, principal: Principal, query: ExperimentListQuery
) -> tuple[list[ExperimentOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = (
        select(Experiment).join(Client, Client.id == Experiment.client_id).where(Client.deleted_at.is_(None))
    )
    stmt = visible_to(stmt, Experiment.client_id, principal, query.client_id)
    if query.status is not None:
        stmt = stmt.where(Experiment.status == query.status.value)
    if query.cursor:
        try:
            after_created, after_id = decode_cursor(query.cursor)
        except ValueError as exc:
            raise ValidationFailed.one("query.cursor", str(exc)) from exc
        stmt = stmt.where(
            or_(
                Experiment.created_at < after_created,
                and_(Experiment.created_at == after_created, Experiment.id < after_id),
            )
        )
    rows = list(
        uow.session.scalars(
            stmt.order_by(Experiment.created_at.desc(), Experiment.id.desc()).limit(query.limit + 1)
        )
    )
    nxt = (
        encode_cursor(rows[query.limit - 1].created_at, rows[query.limit - 1].id)
        if len(rows) > query.limit
        else None
    )
    return [to_out(uow, r) for r in rows[: query.limit]], nxt


def _campaigns_of(uow: UnitOfWork, exp: Experiment) -> dict[uuid.UUID, Campaign]:
    ids = {uuid.UUID(str(v["campaign_id"])) for v in exp.variants}
    return {c.id: c for c in uow.session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}


def to_out(uow: UnitOfWork, exp: Experiment, results: dict[str, Any] | None = None) -> ExperimentOut:
    campaigns = _campaigns_of(uow, exp)
    variants = [
        VariantOut(
            key=v["key"],
            name=v["name"],
            campaign_id=v["campaign_id"],
            breakdown=v["breakdown"],
            platform=(c.platform if (c := campaigns.get(uuid.UUID(str(v["campaign_id"])))) else None),
        )
        for v in exp.variants
    ]
    return ExperimentOut(
        id=exp.id,
        client_id=exp.client_id,
        campaign_id=exp.campaign_id,
        name=exp.name,
        hypothesis=exp.hypothesis,
        platform=exp.platform,
        metric=exp.metric,
        variants=variants,
        mde=float(exp.mde),
        alpha=float(exp.alpha),
        power=float(exp.power),
        required_sample_size_per_variant=exp.required_sample_size_per_variant,
        expected_duration_days=exp.expected_duration_days,
        design=exp.design,
        status=exp.status,
        started_at=exp.started_at,
        stopped_at=exp.stopped_at,
        decision=exp.decision,
        created_by=exp.created_by,
        created_at=exp.created_at,
        updated_at=exp.updated_at,
        results=results,
    )


# -- tracking --------------------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:+.4g}"


def _compare(
    definition: MetricDef,
    control: str,
    variant: str,
    days: dict[str, Daily],
    dates: list[dt.date],
    *,
    alpha: float,
    mde: float,
    baseline: float | None,
) -> dict[str, Any]:
    """One variant against the control: fixed-horizon interval (for reference), the always-valid p-value and
    confidence sequence over daily looks, and the advice with its numbers."""
    from strategist.ml import abtest

    a, b = days[control], days[variant]
    ya, xa = sum(v[0] for v in a.values()), sum(v[1] for v in a.values())
    yb, xb = sum(v[0] for v in b.values()), sum(v[1] for v in b.values())
    out: dict[str, Any] = {"variant": variant, "control": control, "alpha": alpha}
    if xa <= 0 or xb <= 0:
        out.update(recommendation="keep_running", reason=f"no {definition.unit} synced yet for both arms")
        return out
    ra, rb = ya / xa, yb / xb
    scale = baseline if baseline else ra
    tau = max(mde * abs(scale), 1e-9)
    if definition.kind == "rate":
        if ya > xa or yb > xb:
            out.update(
                recommendation="keep_running",
                reason=f"{definition.formula} exceeds 1 in an arm, so it is not a proportion; no test is run",
            )
            return out
        fixed = abtest.difference_in_proportions(ya, xa, yb, xb, confidence=1 - alpha)
        ca = cb = na = nb = 0.0
        looks: list[tuple[float, float, float, float]] = []
        for day in dates:
            ca += a.get(day, (0, 0))[0]
            na += a.get(day, (0, 0))[1]
            cb += b.get(day, (0, 0))[0]
            nb += b.get(day, (0, 0))[1]
            if na > 0 and nb > 0:
                looks.append((ca, na, cb, nb))
        seq = abtest.sequential_proportions(*zip(*looks, strict=True), alpha=alpha, tau=tau)
        diff, ci, p_fixed = fixed.difference, fixed.ci, fixed.p_value
        cs, p_seq = seq.confidence_sequence, seq.p_value
    else:
        est_d, est_v = [], []
        for t in range(1, len(dates) + 1):
            ea = ratio_estimate([a[d] for d in dates[:t] if d in a])
            eb = ratio_estimate([b[d] for d in dates[:t] if d in b])
            if ea is not None and eb is not None:
                est_d.append(eb[0] - ea[0])
                est_v.append(ea[1] + eb[1])
        if not est_d:
            out.update(
                recommendation="keep_running",
                reason="the delta method needs at least two days with data in each arm",
            )
            return out
        diff, var = est_d[-1], max(est_v[-1], 1e-300)
        z = _z(1 - alpha / 2)
        ci = (diff - z * math.sqrt(var), diff + z * math.sqrt(var))
        if var > 1e-300:
            p_fixed = 2 * (1 - NormalDist().cdf(abs(diff) / math.sqrt(var)))
        else:  # no day-to-day noise at all: any difference is exact
            p_fixed = 1.0 if diff == 0 else 0.0
        p_seq = float(abtest.always_valid_pvalues(est_d, est_v, tau)[-1])
        half = confidence_sequence_half_width(var, tau, alpha)
        cs = (diff - half, diff + half)
        out["variance_method"] = "delta method on daily sums (the day is the unit)"

    def rel(x: float) -> float | None:
        """Relative to the control's value, which is treated as known (an approximation)."""
        return x / ra if ra else None

    out.update(
        control_value=ra,
        variant_value=rb,
        difference=diff,
        relative_difference=rel(diff),
        ci=[ci[0], ci[1]],
        ci_relative=[rel(ci[0]), rel(ci[1])],
        fixed_horizon_p=p_fixed,
        confidence_sequence=[cs[0], cs[1]],
        confidence_sequence_relative=[rel(cs[0]), rel(cs[1])],
        always_valid_p=p_seq,
        mde_absolute=tau,
        tau=tau,
    )
    better = diff > 0 if definition.higher_is_better else diff < 0
    excludes_zero = cs[0] > 0 or cs[1] < 0
    level = f"{(1 - alpha) * 100:.4g} %"
    numbers = (
        f"{variant} vs {control}: {rb:.4g} vs {ra:.4g}, difference {_fmt(diff)}"
        + (f" ({_fmt(diff / ra * 100)} %)" if ra else "")
        + f", always-valid p = {p_seq:.3g}, {level} confidence sequence [{_fmt(cs[0])}, {_fmt(cs[1])}]"
    )
    if p_seq < alpha and excludes_zero:
        if better:
            rec, why = (
                "ship",
                f"{numbers}: p < alpha {alpha:.4g} and the interval excludes 0, in the better direction",
            )
        else:
            rec, why = "stop", f"{numbers}: p < alpha {alpha:.4g} and the variant is significantly worse"
    elif -tau < cs[0] and cs[1] < tau:
        rec = "stop"
        why = f"{numbers} lies within ±{tau:.4g} (the minimum detectable effect): futility, no effect worth having"
    else:
        rec = "keep_running"
        why = (
            f"{numbers}: not yet conclusive (p ≥ alpha {alpha:.4g} or the interval includes 0, and it is wider "
            f"than ±{tau:.4g})"
        )
    out.update(recommendation=rec, reason=why)
    return out


def track(uow: UnitOfWork, exp: Experiment, campaigns: dict[uuid.UUID, Campaign]) -> dict[str, Any] | None:
    """Per-variant figures since the start, each variant against the control, and the overall advice."""
    if exp.started_at is None:
        return None
    definition = METRICS[ExperimentMetric(exp.metric)]
    start = exp.started_at.astimezone(dt.UTC).date()
    end = (exp.stopped_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date()
    currencies = {c.id: c.currency for c in campaigns.values()}
    days, as_of, excluded = _daily_by_variant(uow, exp.variants, currencies, definition, start, end)
    dates = sorted({d for per in days.values() for d in per})
    alpha = comparison_alpha(float(exp.alpha), len(exp.variants))
    required = exp.required_sample_size_per_variant
    per_variant = []
    for v in exp.variants:
        y = sum(p[0] for p in days[v["key"]].values())
        x = sum(p[1] for p in days[v["key"]].values())
        per_variant.append(
            {
                "key": v["key"],
                "name": v["name"],
                definition.numerator: y,
                definition.denominator: x,
                "value": y / x if x else None,
                "days_with_data": len(days[v["key"]]),
                "progress": (x / required) if required else None,
            }
        )
    control = exp.variants[0]["key"]
    baseline = exp.design.get("baseline")
    comparisons = [
        _compare(
            definition, control, v["key"], days, dates, alpha=alpha, mde=float(exp.mde), baseline=baseline
        )
        for v in exp.variants[1:]
    ]
    winners = [c for c in comparisons if c["recommendation"] == "ship"]
    if winners:
        best = max(
            winners, key=lambda c: c["difference"] if definition.higher_is_better else -c["difference"]
        )
        advice = {"action": "ship", "variant": best["variant"], "reason": best["reason"]}
    elif comparisons and all(c["recommendation"] == "stop" for c in comparisons):
        advice = {"action": "stop", "variant": control, "reason": "; ".join(c["reason"] for c in comparisons)}
    else:
        open_ = [c for c in comparisons if c["recommendation"] == "keep_running"]
        advice = {"action": "keep_running", "variant": None, "reason": "; ".join(c["reason"] for c in open_)}
    platform_statistics = {}
    if any(c.platform == Platform.GOOGLE_ADS.value for c in campaigns.values()):
        platform_statistics[Platform.GOOGLE_ADS.value] = {"available": False, "reason": GOOGLE_ADS_NOTE}
    return jsonable(
        {
            "period": {"start": start, "end": end, "days_with_data": len(dates)},
            "data_as_of": as_of,
            "metric_definition": definition.formula,
            "variants": per_variant,
            "comparisons": comparisons,
            "recommendation": advice,
            "method": (
                "always-valid p-values and confidence sequences (normal-mixture SPRT; Johari et al. 2017) over "
                "daily looks: valid whenever one looks or stops; the fixed-horizon interval is for reference only"
            ),
            "platform_statistics": platform_statistics,
            "excluded_currency_rows": excluded,
        }
    )


def get_with_results(uow: UnitOfWork, principal: Principal, experiment_id: uuid.UUID) -> ExperimentOut:
    exp = get_experiment(uow, principal, experiment_id)
    return to_out(uow, exp, track(uow, exp, _campaigns_of(uow, exp)))


# -- stopping --------------------------------------------------------------------------------------------------
def _snapshot(exp: Experiment) -> dict[str, Any]:
    return jsonable(
        {
            k: getattr(exp, k)
            for k in (
                "client_id",
                "name",
                "metric",
                "variants",
                "mde",
                "alpha",
                "power",
                "status",
                "decision",
            )
        }
    )


def stop_experiment(
    uow: UnitOfWork, principal: Principal, experiment_id: uuid.UUID, data: ExperimentStop
) -> ExperimentOut:
    """Record the decision, with the advice the data gave at that moment, so a later reader sees both."""
    principal.require_role(Role.ANALYST)
    exp = get_experiment(uow, principal, experiment_id)
    if exp.status not in {"draft", "running"}:
        raise Conflict(f"the experiment is already {exp.status}")
    keys = [v["key"] for v in exp.variants]
    if data.outcome == "ship" and data.winner not in keys:
        reason = f"ship needs the winning variant's key, one of {', '.join(keys)}"
        raise ValidationFailed.one("body.winner", reason)
    if data.outcome == "stop" and data.winner is not None:
        raise ValidationFailed.one("body.winner", "a stopped experiment ships no variant")
    before = _snapshot(exp)
    results = track(uow, exp, _campaigns_of(uow, exp))
    now = dt.datetime.now(dt.UTC)
    exp.decision = jsonable(
        {
            "outcome": data.outcome,
            "winner": data.winner,
            "reason": data.reason,
            "decided_by": principal.actor,
            "decided_at": now,
            "advice_at_decision": None if results is None else results["recommendation"],
        }
    )
    exp.status = "shipped" if data.outcome == "ship" else "stopped"
    exp.stopped_at = now
    exp.updated_at = now
    uow.session.flush()
    uow.audit("experiment.stop", "experiment", exp.id, before=before, after=_snapshot(exp))
    uow.emit(
        "experiment.stopped",
        {
            "experiment_id": exp.id,
            "client_id": exp.client_id,
            "status": exp.status,
            "outcome": data.outcome,
            "winner": data.winner,
        },
    )
    return to_out(uow, exp, results)
