"""Campaigns: list, detail with daily metrics, and manual creation for platforms without a connector.

Row-level security confines every query to the caller's tenant; these functions add what RLS cannot know: a
client viewer sees only its own clients' campaigns (404 for the rest, so it cannot learn they exist), and
campaigns of soft-deleted clients are hidden everywhere.

Numbers reconcile: sums come from SQL over campaign-total rows (breakdown '') only, so a day reported both as a
total and per breakdown is never counted twice; ratios are computed from those sums, never averaged; rows in a
currency other than the campaign's are left out of the sums and named, since nothing here converts with FX; the
attribution windows and sources behind every sum are listed next to it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.exc import IntegrityError

from strategist.adapters.db.models import Campaign, CampaignMetric, Client, PlatformConnection
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from strategist.domain.money import MoneyError, minor_unit_exponent, to_iso_minor
from strategist.domain.platforms import API_PLATFORMS, Platform
from strategist.http.schemas.campaigns import (
    MAX_RANGE_DAYS,
    BudgetOut,
    CampaignCreate,
    CampaignDetailOut,
    CampaignGetQuery,
    CampaignListQuery,
    CampaignOut,
    MetricDayOut,
    MetricsPeriod,
    Totals,
)
from strategist.http.schemas.common import decode_cursor, encode_cursor
from strategist.services.clients import visible_to

#: The list's "recent performance" window, in days, ending today in the campaign's zone.
TOTALS_DAYS = 30
_CTR_PLACES = Decimal("0.000001")
_MONEY_RATIO_PLACES = Decimal("0.0001")

AUDITED = (
    "client_id",
    "platform",
    "external_id",
    "name",
    "status",
    "objective",
    "budget_amount",
    "budget_type",
    "currency",
    "time_zone",
    "start_date",
    "end_date",
)


# -- numbers -----------------------------------------------------------------------------------------------
def trim(value: Decimal, min_places: int) -> Decimal:
    """Drop storage padding (NUMERIC(18,6) gives 12.500000) but keep at least `min_places` decimals, so money
    reads in its currency's minor units (12.50 USD, 1200 JPY) and exact sub-cent platform figures survive."""
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return value.quantize(Decimal(1).scaleb(-places))


def money(value: Decimal, currency: str) -> Decimal:
    return trim(value, minor_unit_exponent(currency))


def _ratio(numerator: Decimal, denominator: Decimal, places: Decimal) -> Decimal | None:
    return None if not denominator else (numerator / denominator).quantize(places)


@dataclass
class Sums:
    """Additive sums over campaign-total rows of one currency. Reach is deliberately absent: it is not additive."""

    days: int = 0
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    video_views: int | None = None
    windows: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    data_as_of: dt.datetime | None = None


def make_totals(
    sums: Sums, *, currency: str, start: dt.date, end: dt.date, excluded: Iterable[str] = ()
) -> Totals:
    """Ratios from sums: CTR = clicks/impressions, CPC = spend/clicks, CPA = spend/conversions, ROAS =
    revenue/spend; null when the denominator is zero rather than a misleading 0 or infinity."""
    return Totals(
        start=start,
        end=end,
        currency=currency,
        days_with_data=sums.days,
        spend=money(sums.spend, currency),
        impressions=sums.impressions,
        clicks=sums.clicks,
        conversions=trim(sums.conversions, 0),
        revenue=money(sums.revenue, currency),
        video_views=sums.video_views,
        ctr=_ratio(Decimal(sums.clicks), Decimal(sums.impressions), _CTR_PLACES),
        cpc=_ratio(sums.spend, Decimal(sums.clicks), _MONEY_RATIO_PLACES),
        cpa=_ratio(sums.spend, sums.conversions, _MONEY_RATIO_PLACES),
        roas=_ratio(sums.revenue, sums.spend, _MONEY_RATIO_PLACES),
        attribution_windows=sorted(sums.windows),
        sources=sorted(sums.sources),
        data_as_of=sums.data_as_of,
        excluded_currencies=sorted(set(excluded)),
    )


def period_totals(
    uow: UnitOfWork, windows: dict[uuid.UUID, tuple[dt.date, dt.date]], currencies: dict[uuid.UUID, str]
) -> dict[uuid.UUID, Totals]:
    """One grouped query for many campaigns, each over its own [start, end]. Campaigns sharing a window (the
    usual case: same zone) share one predicate, so the query stays small for a page of 200."""
    if not windows:
        return {}
    by_window: dict[tuple[dt.date, dt.date], list[uuid.UUID]] = defaultdict(list)
    for cid, window in windows.items():
        by_window[window].append(cid)
    m = CampaignMetric
    stmt = (
        select(
            m.campaign_id,
            m.currency,
            func.count(distinct(m.date)),
            func.sum(m.cost),
            func.sum(m.impressions),
            func.sum(m.clicks),
            func.sum(m.conversions),
            func.sum(m.conversion_value),
            func.sum(m.video_views),
            func.array_agg(distinct(m.attribution_window)),
            func.array_agg(distinct(m.source)),
            func.max(m.synced_at),
        )
        .where(
            m.breakdown == "",
            or_(
                *(
                    and_(m.campaign_id.in_(ids), m.date >= start, m.date <= end)
                    for (start, end), ids in by_window.items()
                )
            ),
        )
        .group_by(m.campaign_id, m.currency)
    )
    sums: dict[uuid.UUID, Sums] = {}
    excluded: dict[uuid.UUID, list[str]] = defaultdict(list)
    for cid, cur, days, cost, imps, clicks, conv, value, views, wins, srcs, as_of in uow.session.execute(
        stmt
    ):
        if cur != currencies[cid]:
            excluded[cid].append(cur)
            continue
        sums[cid] = Sums(
            days=int(days),
            spend=cost or Decimal(0),
            impressions=int(imps or 0),
            clicks=int(clicks or 0),
            conversions=conv or Decimal(0),
            revenue=value or Decimal(0),
            video_views=None if views is None else int(views),
            windows=frozenset(wins or ()),
            sources=frozenset(srcs or ()),
            data_as_of=as_of,
        )
    return {
        cid: make_totals(
            sums.get(cid, Sums()), currency=currencies[cid], start=start, end=end, excluded=excluded[cid]
        )
        for cid, (start, end) in windows.items()
    }


# -- reading ------------------------------------------------------------------------------------------------
def zone_of(campaign: Campaign, reporting_timezone: str | None) -> str:
    """The calendar the campaign's rows are in: its own (platform) zone, else the client's reporting zone."""
    return campaign.time_zone or reporting_timezone or "UTC"


def local_today(zone: str) -> dt.date:
    try:
        return dt.datetime.now(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return dt.datetime.now(dt.UTC).date()


def _recent_window(zone: str) -> tuple[dt.date, dt.date]:
    end = local_today(zone)
    return end - dt.timedelta(days=TOTALS_DAYS - 1), end


def get_visible_campaign(
    uow: UnitOfWork, principal: Principal, campaign_id: uuid.UUID
) -> tuple[Campaign, str]:
    """The campaign and its calendar zone, or 404 when it is not the caller's to see (other tenant via RLS,
    another client for a viewer, a deleted client)."""
    row = uow.session.execute(
        select(Campaign, Client.reporting_timezone)
        .join(Client, Client.id == Campaign.client_id)
        .where(Campaign.id == campaign_id, Client.deleted_at.is_(None))
    ).first()
    if row is None or not principal.can_see_client(row[0].client_id):
        raise NotFound("campaign not found")
    campaign, reporting_tz = row
    return campaign, zone_of(campaign, reporting_tz)


def _fields(campaign: Campaign) -> dict[str, Any]:
    budget = (
        BudgetOut(
            amount=money(campaign.budget_amount, campaign.currency),
            type=campaign.budget_type,
            currency=campaign.currency,
        )
        if campaign.budget_amount is not None
        else None
    )
    return {
        "id": campaign.id,
        "client_id": campaign.client_id,
        "connection_id": campaign.connection_id,
        "platform": campaign.platform,
        "external_id": campaign.external_id,
        "name": campaign.name,
        "status": campaign.status,
        "raw_status": campaign.raw_status,
        "objective": campaign.objective,
        "budget": budget,
        "currency": campaign.currency,
        "time_zone": campaign.time_zone,
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "last_synced_at": campaign.last_synced_at,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def list_campaigns(
    uow: UnitOfWork, principal: Principal, query: CampaignListQuery
) -> tuple[list[CampaignOut], str | None]:
    stmt = (
        select(Campaign, Client.reporting_timezone)
        .join(Client, Client.id == Campaign.client_id)
        .where(Client.deleted_at.is_(None))
    )
    stmt = visible_to(stmt, Campaign.client_id, principal, query.client_id)
    if query.platform is not None:
        stmt = stmt.where(Campaign.platform == query.platform.value)
    if query.status is not None:
        stmt = stmt.where(Campaign.status == query.status.value)
    if query.q:
        stmt = stmt.where(func.lower(Campaign.name).contains(query.q.lower(), autoescape=True))
    if query.cursor:
        try:
            after_created, after_id = decode_cursor(query.cursor)
        except ValueError as exc:
            raise ValidationFailed.one("query.cursor", str(exc)) from exc
        stmt = stmt.where(
            or_(
                Campaign.created_at > after_created,
                and_(Campaign.created_at == after_created, Campaign.id > after_id),
            )
        )
    rows = uow.session.execute(stmt.order_by(Campaign.created_at, Campaign.id).limit(query.limit + 1)).all()
    next_cursor = (
        encode_cursor(rows[query.limit - 1][0].created_at, rows[query.limit - 1][0].id)
        if len(rows) > query.limit
        else None
    )
    page = rows[: query.limit]
    totals = period_totals(
        uow,
        {c.id: _recent_window(zone_of(c, tz)) for c, tz in page},
        {c.id: c.currency for c, _ in page},
    )
    return [CampaignOut(**_fields(c), totals=totals[c.id]) for c, _ in page], next_cursor


def get_campaign(
    uow: UnitOfWork, principal: Principal, campaign_id: uuid.UUID, query: CampaignGetQuery
) -> CampaignDetailOut:
    campaign, zone = get_visible_campaign(uow, principal, campaign_id)
    end = query.end or local_today(zone)
    start = query.start or end - dt.timedelta(days=TOTALS_DAYS - 1)
    if start > end:
        raise ValidationFailed.one("query.start", f"must not be after end ({end.isoformat()})")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed.one(
            "query.start", f"the range may span at most {MAX_RANGE_DAYS} days (3 years)"
        )
    m = CampaignMetric
    stmt = select(m).where(m.campaign_id == campaign.id, m.date >= start, m.date <= end)
    if not query.include_breakdowns:
        stmt = stmt.where(m.breakdown == "")
    rows = [
        MetricDayOut(
            date=r.date,
            breakdown=r.breakdown,
            currency=r.currency,
            spend=money(r.cost, r.currency),
            impressions=r.impressions,
            clicks=r.clicks,
            conversions=trim(r.conversions, 0),
            revenue=money(r.conversion_value, r.currency),
            video_views=r.video_views,
            reach=r.reach,
            time_zone=r.time_zone,
            attribution_window=r.attribution_window,
            source=r.source,
            synced_at=r.synced_at,
        )
        for r in uow.session.scalars(stmt.order_by(m.date, m.breakdown))
    ]
    currencies = {campaign.id: campaign.currency}
    period = period_totals(uow, {campaign.id: (start, end)}, currencies)[campaign.id]
    recent = period_totals(uow, {campaign.id: _recent_window(zone)}, currencies)[campaign.id]
    return CampaignDetailOut(
        **_fields(campaign),
        totals=recent,
        metrics=MetricsPeriod(
            start=start,
            end=end,
            time_zone=zone,
            include_breakdowns=query.include_breakdowns,
            rows=rows,
            totals=period,
        ),
    )


# -- writing ------------------------------------------------------------------------------------------------
def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return jsonable({k: getattr(campaign, k) for k in AUDITED})


def _duplicate(external_id: str) -> Conflict:
    reason = f"a campaign with external_id '{external_id}' already exists for this client and platform"
    return Conflict(reason, fields=[FieldProblem("body.external_id", reason)])


def create_campaign(uow: UnitOfWork, principal: Principal, data: CampaignCreate) -> CampaignOut:
    """A campaign entered by hand, for e-mail or a platform the client has no connection for; its metrics then
    arrive through metrics:import. Where a live connection exists the connector owns the campaigns, and a
    hand-made twin would double-count in every report, hence the 409."""
    principal.require_role(Role.ANALYST)
    principal.require_client(data.client_id)
    client = uow.session.scalar(
        select(Client).where(Client.id == data.client_id, Client.deleted_at.is_(None))
    )
    if client is None:
        raise ValidationFailed.one("body.client_id", f"client {data.client_id} does not exist in this tenant")
    platform = Platform(data.platform)
    if platform in API_PLATFORMS:
        connection = uow.session.scalar(
            select(PlatformConnection.id).where(
                PlatformConnection.client_id == client.id,
                PlatformConnection.platform == platform.value,
                PlatformConnection.deleted_at.is_(None),
            )
        )
        if connection is not None:
            reason = (
                f"the client has a {platform.value} connection ({connection}); its campaigns are synced, "
                "not created by hand"
            )
            raise Conflict(reason, fields=[FieldProblem("body.platform", reason)])
    currency = data.currency or client.currency
    if data.budget is not None:
        try:
            to_iso_minor(data.budget.amount, currency)
        except MoneyError as exc:
            raise ValidationFailed.one("body.budget.amount", str(exc)) from exc
    external_id = data.external_id or f"manual-{uuid.uuid4().hex[:24]}"
    exists = uow.session.scalar(
        select(Campaign.id).where(
            Campaign.client_id == client.id,
            Campaign.platform == platform.value,
            Campaign.external_id == external_id,
        )
    )
    if exists is not None:
        raise _duplicate(external_id)
    campaign = Campaign(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        connection_id=None,
        platform=platform.value,
        external_id=external_id,
        name=data.name,
        status=data.status.value,
        raw_status=None,
        objective=data.objective,
        budget_amount=None if data.budget is None else data.budget.amount,
        budget_type=None if data.budget is None else data.budget.type.value,
        currency=currency,
        time_zone=data.time_zone or client.reporting_timezone,
        start_date=data.start_date,
        end_date=data.end_date,
    )
    try:
        with uow.session.begin_nested():  # a concurrent twin loses on the unique index: 409, not 500
            uow.session.add(campaign)
            uow.session.flush()
    except IntegrityError as exc:
        raise _duplicate(external_id) from exc
    uow.session.refresh(campaign)
    uow.audit("campaign.create", "campaign", campaign.id, after=_snapshot(campaign))
    uow.emit(
        "campaign.created",
        {
            "campaign_id": campaign.id,
            "client_id": campaign.client_id,
            "platform": campaign.platform,
            "external_id": campaign.external_id,
        },
    )
    zone = zone_of(campaign, client.reporting_timezone)
    totals = period_totals(uow, {campaign.id: _recent_window(zone)}, {campaign.id: campaign.currency})
    return CampaignOut(**_fields(campaign), totals=totals[campaign.id])
