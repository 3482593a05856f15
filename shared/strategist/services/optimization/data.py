"""Reads the optimizer needs: a campaign's daily totals (breakdown '') and its breakdown rows, in its currency."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.optimization import WindowSums

_DAILY = text(
    "SELECT date, cost, impressions, clicks, conversions, conversion_value FROM campaign_metrics "
    "WHERE campaign_id = :c AND breakdown = '' AND currency = :cur AND date BETWEEN :lo AND :hi ORDER BY date"
)
_BREAKDOWNS = text(
    "SELECT breakdown, date, cost, impressions, clicks, conversions, conversion_value FROM campaign_metrics "
    "WHERE campaign_id = :c AND breakdown <> '' AND currency = :cur AND date BETWEEN :lo AND :hi"
)


@dataclass(frozen=True, slots=True)
class DayRow:
    date: dt.date
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal


def daily(uow: UnitOfWork, campaign_id: uuid.UUID, currency: str, lo: dt.date, hi: dt.date) -> list[DayRow]:
    return [
        DayRow(r[0], Decimal(r[1]), int(r[2]), int(r[3]), Decimal(r[4]), Decimal(r[5]))
        for r in uow.session.execute(_DAILY, {"c": campaign_id, "cur": currency, "lo": lo, "hi": hi})
    ]


def breakdowns(
    uow: UnitOfWork, campaign_id: uuid.UUID, currency: str, lo: dt.date, hi: dt.date
) -> dict[str, list[DayRow]]:
    out: dict[str, list[DayRow]] = {}
    for r in uow.session.execute(_BREAKDOWNS, {"c": campaign_id, "cur": currency, "lo": lo, "hi": hi}):
        out.setdefault(r[0], []).append(
            DayRow(r[1], Decimal(r[2]), int(r[3]), int(r[4]), Decimal(r[5]), Decimal(r[6]))
        )
    return out


def sums(rows: list[DayRow], lo: dt.date, hi: dt.date) -> WindowSums:
    chosen = [r for r in rows if lo <= r.date <= hi]
    return WindowSums(
        days=sum(1 for r in chosen if r.spend > 0 or r.impressions > 0),
        spend=sum((r.spend for r in chosen), Decimal(0)),
        impressions=sum(r.impressions for r in chosen),
        clicks=sum(r.clicks for r in chosen),
        conversions=sum((r.conversions for r in chosen), Decimal(0)),
        revenue=sum((r.revenue for r in chosen), Decimal(0)),
    )


def snapshot(s: WindowSums, lo: dt.date, hi: dt.date, currency: str) -> dict[str, object]:
    """The evidence block: the window, its sums and the ratios computed from sums."""

    def r(v: Decimal | None, places: str = "0.0001") -> str | None:
        return None if v is None else str(v.quantize(Decimal(places)))

    return {
        "window": {"start": lo.isoformat(), "end": hi.isoformat(), "days_with_data": s.days},
        "currency": currency,
        "spend": str(s.spend),
        "impressions": s.impressions,
        "clicks": s.clicks,
        "conversions": str(s.conversions),
        "revenue": str(s.revenue),
        "cpa": r(s.metric("cpa"), "0.01"),
        "roas": r(s.metric("roas")),
        "ctr_pct": r(s.metric("ctr")),
        "cvr_pct": r(s.metric("cvr")),
    }
