"""The analytics dashboard (the brief's Performance Analytics): overview with comparison deltas, daily trends per
platform, platform breakdown, top campaigns, budget pacing and data freshness, in one target currency.

Numbers that reconcile are the product, so the rules are fixed here and repeated in ``methodology``:
- only campaign-total rows (``breakdown = ''``) are aggregated; breakdown rows never add to totals;
- Postgres does the heavy lifting: it groups the period's rows down to (day, platform, currency, attribution
  window, source), a few hundred rows however many campaigns there are; only those are converted in Python;
- cost and conversion value are converted from each row's native currency with the dated ECB rate (latest ECB
  date <= the row's date) before any ratio, and every rate used is listed;
- ratios come from sums (CPA = spend / conversions over the period), never averages; a zero denominator is null;
- conversions keep their attribution window and source; mixed windows are reported as mixed, not as one figure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from strategist.adapters.db.models import Client, PlatformConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain import pacing as pacing_rule
from strategist.domain.auth import Principal
from strategist.domain.errors import NotFound, ValidationFailed
from strategist.domain.money import minor_unit_exponent
from strategist.http.schemas.analytics import DashboardQuery
from strategist.services import fx

TOP_N = 10
ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_CURRENCY = "USD"
#: Platforms restate recent days (Google: conversions up to ~15 h late; Meta: attribution windows still open).
EARLY_ESTIMATE_DAYS = 3
#: Pacing tolerance: +-15 % on day 1, narrowing linearly to +-5 % at month end.
# One pacing band for the dashboard, insights, optimization and the pacing alerts (strategist.domain.pacing).
BAND_START_PCT = Decimal(str(pacing_rule.BAND_START_PCT))
BAND_END_PCT = Decimal(str(pacing_rule.BAND_END_PCT))

RATIO_Q = Decimal("0.0001")
PCT_Q = Decimal("0.01")
CONV_Q = Decimal("0.01")
ZERO = Decimal(0)

#: Whose clock draws each platform's day boundary (metric rows are platform-local days).
DAY_BOUNDARY = {
    "google_ads": "the Google Ads account's time zone (fixed at account creation)",
    "youtube_ads": "the Google Ads account's time zone (fixed at account creation)",
    "meta_ads": "the Meta ad account's time zone",
    "linkedin_ads": "UTC",
    "tiktok_ads": "the TikTok advertiser account's time zone",
    "email": "the day given in the imported file",
}

# Dates come back as text: pg8000 parses a date with strptime (~10 us), date.fromisoformat takes ~0.1 us.
# Both periods in one statement (two date ranges OR-ed; the (tenant_id, date) index serves both).
_METRICS_SQL = text(
    "SELECT m.date::text, c.platform, m.currency, m.attribution_window, m.source, m.time_zone, "
    "sum(m.cost), sum(m.impressions), sum(m.clicks), sum(m.conversions), sum(m.conversion_value), count(*) "
    "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE m.tenant_id = :tenant AND c.tenant_id = :tenant AND m.breakdown = '' "
    "AND c.client_id = ANY(:clients) "
    "AND (m.date BETWEEN :start AND :end OR m.date BETWEEN :prev_start AND :prev_end) "
    "GROUP BY m.date, c.platform, m.currency, m.attribution_window, m.source, m.time_zone"
)

_PACING_SQL = text(
    "SELECT c.client_id, m.date::text, m.currency, sum(m.cost) "
    "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE m.tenant_id = :tenant AND c.tenant_id = :tenant AND m.breakdown = '' "
    "AND c.client_id = ANY(:clients) AND m.date BETWEEN :start AND :end "
    "GROUP BY c.client_id, m.date, m.currency"
)

# The same conversion as the overview, done in SQL: the (currency, day) -> factor series is built once in Python
# from the ECB table and handed over as three arrays; rows in an unconvertible currency are left out (and listed).
_TOP_SQL = text(
    "WITH fx AS (SELECT * FROM unnest(CAST(:fx_cur AS varchar[]), CAST(:fx_day AS date[]), "
    "  CAST(:fx_factor AS numeric[])) AS f(currency, date, factor)) "
    "SELECT c.id, c.name, c.platform, c.client_id, "
    "  sum(m.cost * COALESCE(fx.factor, 1)) AS spend, sum(m.impressions), sum(m.clicks), sum(m.conversions), "
    "  sum(m.conversion_value * COALESCE(fx.factor, 1)) "
    "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "LEFT JOIN fx ON fx.currency = m.currency AND fx.date = m.date "
    "WHERE m.tenant_id = :tenant AND c.tenant_id = :tenant AND m.breakdown = '' "
    "  AND c.client_id = ANY(:clients) AND m.date BETWEEN :start AND :end "
    "  AND (m.currency = :target OR fx.factor IS NOT NULL) "
    "GROUP BY c.id, c.name, c.platform, c.client_id "
    "ORDER BY spend DESC, c.name, c.id LIMIT :limit"
)
# A DISTINCT aggregate in the query above would force a sort of every row; the ten winners' windows are cheap
# to read separately through the primary key.
_TOP_WINDOWS_SQL = text(
    "SELECT campaign_id, array_agg(DISTINCT attribution_window) FROM campaign_metrics "
    "WHERE campaign_id = ANY(:ids) AND breakdown = '' AND date BETWEEN :start AND :end GROUP BY campaign_id"
)
#: Enough for the hash aggregate of a multi-year range to stay in memory instead of spilling to a disk sort.
WORK_MEM = "32MB"


# -- periods ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def resolve_period(query: DashboardQuery, today: dt.date) -> Window:
    """7d/30d/90d are the N complete days ending yesterday (today is partial and restated); mtd/qtd/ytd run from
    the period's first day through today; start/end are taken as given."""
    if query.start is not None and query.end is not None:
        return Window(query.start, query.end, "custom")
    label = query.date_range or "30d"
    if label in ROLLING_DAYS:
        end = today - dt.timedelta(days=1)
        return Window(end - dt.timedelta(days=ROLLING_DAYS[label] - 1), end, label)
    if label == "mtd":
        start = today.replace(day=1)
    elif label == "qtd":
        start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    else:
        start = today.replace(month=1, day=1)
    return Window(start, today, label)


def comparison_window(period: Window, compare: str) -> Window | None:
    """previous_period: the same number of days immediately before; previous_year: the same dates a year
    earlier (29 February -> 28 February)."""
    if compare == "none":
        return None
    if compare == "previous_year":
        return Window(_year_earlier(period.start), _year_earlier(period.end), compare)
    end = period.start - dt.timedelta(days=1)
    return Window(end - dt.timedelta(days=period.days - 1), end, compare)


# -- sums ---------------------------------------------------------------------------------------------------------
@dataclass
class Totals:
    spend: Decimal = ZERO
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = ZERO
    revenue: Decimal = ZERO

    def add(
        self, spend: Decimal, impressions: int, clicks: int, conversions: Decimal, revenue: Decimal
    ) -> None:
        self.spend += spend
        self.impressions += impressions
        self.clicks += clicks
        self.conversions += conversions
        self.revenue += revenue


@dataclass(frozen=True, slots=True)
class AggRow:
    date: dt.date
    platform: str
    currency: str
    attribution_window: str
    source: str
    time_zone: str
    cost: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal
    rows: int


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | int, denominator: Decimal | int, scale: int = 1) -> Decimal | None:
    """A ratio of sums; None (null) when the denominator is 0 rather than a misleading 0 or infinity."""
    if not denominator:
        return None
    return _q(Decimal(numerator) * scale / Decimal(denominator), RATIO_Q)


def ratios(t: Totals) -> dict[str, Decimal | None]:
    return {
        "ctr": ratio(t.clicks, t.impressions, 100),
        "cpc": ratio(t.spend, t.clicks),
        "cpm": ratio(t.spend, t.impressions, 1000),
        "cpa": ratio(t.spend, t.conversions),
        "roas": ratio(t.revenue, t.spend),
    }


def _metric(value: Any, previous: Any, has_previous: bool) -> dict[str, Any]:
    """value/previous are already rounded as shown, so change = value - previous holds on the page."""
    if not has_previous:
        return {"value": value, "previous": None, "change": None, "change_pct": None}
    change = None if value is None or previous is None else value - previous
    pct = None if change is None or not previous else _q(Decimal(change) * 100 / Decimal(previous), PCT_Q)
    return {"value": value, "previous": previous, "change": change, "change_pct": pct}


# -- conversion ---------------------------------------------------------------------------------------------------
@dataclass
class Converter:
    """Caches (currency, day) -> factor into the target, records every rate used and what could not be converted."""

    table: fx.RateTable
    target: str
    factors: dict[tuple[str, dt.date], Decimal] = field(default_factory=dict)
    used: set[fx.RateUsed] = field(default_factory=set)
    stale: bool = False
    missing: dict[str, list[Any]] = field(default_factory=dict)

    def factor(self, currency: str, day: dt.date) -> Decimal | None:
        key = (currency, day)
        if key in self.factors:
            return self.factors[key]
        try:
            f = self.table.factor(currency, self.target, day)
        except fx.FxUnavailable:
            return None
        for r in (f.source, f.target):
            if r is not None:
                self.used.add(r)
        self.stale = self.stale or f.stale
        self.factors[key] = f.value
        return f.value

    def note_missing(self, row: AggRow) -> None:
        entry = self.missing.setdefault(row.currency, [0, ZERO, ZERO])
        entry[0] += row.rows
        entry[1] += row.cost
        entry[2] += row.revenue


# -- the dashboard ------------------------------------------------------------------------------------------------
def _clients(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID | None) -> list[Client]:
    stmt = select(Client).where(Client.deleted_at.is_(None))
    if client_id is not None:
        principal.require_client(client_id)
        stmt = stmt.where(Client.id == client_id)
    elif principal.client_ids is not None:
        stmt = stmt.where(Client.id.in_(principal.client_ids or [uuid.UUID(int=0)]))
    rows = list(uow.session.scalars(stmt.order_by(Client.name, Client.id)))
    if client_id is not None and not rows:
        raise NotFound("client not found")  # another tenant's client is invisible under RLS: same answer
    return rows


def _most_common(values: Iterable[str], default: str) -> str:
    counts = Counter(values)
    if not counts:
        return default
    top = max(counts.values())
    return min(v for v, n in counts.items() if n == top)


def _aggregate(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    client_ids: list[uuid.UUID],
    period: Window,
    previous: Window | None,
) -> tuple[list[AggRow], list[AggRow]]:
    """Both periods' (day, platform, currency, window, source, zone) sums in one statement, split by date."""
    other = previous or period
    current: list[AggRow] = []
    before: list[AggRow] = []
    rows = uow.session.execute(
        _METRICS_SQL,
        {
            "tenant": tenant_id,
            "clients": client_ids,
            "start": period.start,
            "end": period.end,
            "prev_start": other.start,
            "prev_end": other.end,
        },
    )
    for r in rows:
        day = dt.date.fromisoformat(r[0])
        row = AggRow(day, r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), int(r[8]), r[9], r[10], int(r[11]))
        (current if period.start <= day <= period.end else before).append(row)
    return current, before


def dashboard(
    uow: UnitOfWork, principal: Principal, query: DashboardQuery, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    clients = _clients(uow, principal, query.client_id)
    client_ids = [c.id for c in clients]
    methodology: list[str] = []

    # reporting zone and target currency
    if len(clients) == 1:
        zone_name = clients[0].reporting_timezone
        zone_basis = f"the reporting time zone of client '{clients[0].name}'"
    else:
        zone_name = _most_common((c.reporting_timezone for c in clients), "UTC")
        zone_basis = (
            f"the most common reporting time zone of the {len(clients)} clients in scope"
            if clients
            else "UTC (no clients in scope)"
        )
    today = now.astimezone(ZoneInfo(zone_name)).date()
    if query.currency:
        target, currency_basis = query.currency, "requested"
    elif len(clients) == 1:
        target, currency_basis = clients[0].currency, f"the currency of client '{clients[0].name}'"
    else:
        target = _most_common((c.currency for c in clients), DEFAULT_CURRENCY)
        currency_basis = (
            f"the most common currency of the {len(clients)} clients in scope" if clients else "the default"
        )

    period = resolve_period(query, today)
    previous = comparison_window(period, query.compare)
    current_rows: list[AggRow] = []
    previous_rows: list[AggRow] = []
    if client_ids:
        uow.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        current_rows, previous_rows = _aggregate(uow, principal.tenant_id, client_ids, period, previous)

    # pacing inputs: month-to-date (complete days) per budgeted client, in that client's own zone
    budgeted = [c for c in clients if c.monthly_budget is not None]
    pace_windows: dict[uuid.UUID, tuple[dt.date, dt.date, dt.datetime]] = {}
    for c in budgeted:
        local_now = now.astimezone(ZoneInfo(c.reporting_timezone))
        local_today = local_now.date()
        pace_windows[c.id] = (local_today.replace(day=1), local_today - dt.timedelta(days=1), local_now)
    pace_rows: list[tuple[uuid.UUID, dt.date, str, Decimal]] = []
    if budgeted:
        lo = min(w[0] for w in pace_windows.values())
        hi = max(w[1] for w in pace_windows.values())
        pace_rows = [
            (r[0], dt.date.fromisoformat(r[1]), r[2], r[3])
            for r in uow.session.execute(
                _PACING_SQL,
                {"tenant": principal.tenant_id, "clients": [c.id for c in budgeted], "start": lo, "end": hi},
            )
        ]

    # one ECB table covering every (currency, day) that needs converting
    needs = [(r.currency, r.date) for r in (*current_rows, *previous_rows) if r.currency != target]
    client_currency = {c.id: c.currency for c in budgeted}
    needs += [(cur, d) for cid, d, cur, _ in pace_rows if cur != client_currency[cid]]
    currencies = {cur for cur, _ in needs}
    table = fx.RateTable.from_rows([])
    if needs:
        currencies |= {target, *client_currency.values()}
        days = [d for _, d in needs]
        table = fx.load_table(uow.session, sorted(currencies), min(days), max(days))
        if target not in table.currencies() and target != "EUR":
            if query.currency:
                raise ValidationFailed.one(
                    "query.currency",
                    f"the ECB publishes no reference rate for {target}, so figures in other currencies cannot be "
                    f"converted into it; choose one of {', '.join(sorted(fx.known_currencies(uow.session)))}",
                )
            methodology.append(
                f"The default currency {target} has no ECB reference rate, so figures are shown in EUR instead."
            )
            target, currency_basis = "EUR", f"EUR (the ECB publishes no rate for {target})"
    conv = Converter(table, target)
    exp = minor_unit_exponent(target)
    money_q = Decimal(1).scaleb(-exp)

    def convert_rows(rows: Sequence[AggRow]) -> list[tuple[AggRow, Decimal, Decimal]]:
        out = []
        for r in rows:
            f = Decimal(1) if r.currency == target else conv.factor(r.currency, r.date)
            if f is None:
                conv.note_missing(r)
                continue
            out.append((r, r.cost * f, r.revenue * f))
        return out

    current = convert_rows(current_rows)
    before = convert_rows(previous_rows)

    overview = _overview(current, before, previous is not None, money_q)
    trends = _trends(current, period, money_q)
    connections = list(
        uow.session.scalars(
            select(PlatformConnection)
            .where(PlatformConnection.client_id.in_(client_ids or [uuid.UUID(int=0)]))
            .where(PlatformConnection.deleted_at.is_(None))
            .order_by(PlatformConnection.platform, PlatformConnection.account_id)
        )
    )
    breakdown = _platform_breakdown(current, connections, money_q)
    top = (
        _top_campaigns(uow, principal.tenant_id, client_ids, period, conv, current, money_q)
        if current
        else []
    )
    pacing = _pacing(budgeted, pace_windows, pace_rows, table)
    freshness = _freshness(connections, period, today)

    rates_used = sorted(conv.used, key=lambda r: (r.currency, r.rate_date))
    fx_notes: list[str] = []
    if conv.stale:
        latest = max((r.rate_date for r in rates_used), default=None)
        fx_notes.append(
            f"Some amounts are dated more than {fx.STALE_AFTER_DAYS} days after the latest ECB rate loaded "
            f"({latest}); they were converted at that rate. Run job_fx_rates to load newer rates."
        )
    if conv.missing:
        fx_notes.append(
            "Rows in currencies the ECB does not publish are excluded from every converted total: "
            + ", ".join(sorted(conv.missing))
        )
    if not needs:
        fx_notes.append(f"Every figure is already in {target}: no conversion was needed.")

    methodology.extend(
        _methodology(
            period, zone_name, zone_basis, target, currency_basis, overview["conversions"]["mixed_windows"]
        )
    )
    return {
        "clients": [
            {"id": c.id, "name": c.name, "currency": c.currency, "reporting_timezone": c.reporting_timezone}
            for c in clients
        ],
        "overview": overview,
        "performance_trends": trends,
        "platform_breakdown": breakdown,
        "top_campaigns": top,
        "pacing": pacing,
        "data_freshness": freshness,
        "period": {
            "start": period.start,
            "end": period.end,
            "days": period.days,
            "label": period.label,
            "time_zone": zone_name,
            "time_zone_basis": zone_basis,
            "today": today,
        },
        "comparison_period": None
        if previous is None
        else {"start": previous.start, "end": previous.end, "days": previous.days, "compare": query.compare},
        "currency": target,
        "fx": {
            "source": _fx_source(uow, rates_used) if rates_used else None,
            "rule": "amount / per_eur(native) x per_eur(target), each at the latest ECB date on or before the "
            "amount's date",
            "rates_used": [
                {"currency": r.currency, "rate_date": r.rate_date, "per_eur": r.per_eur} for r in rates_used
            ],
            "stale": conv.stale,
            "unconverted": [
                {
                    "currency": cur,
                    "rows": n,
                    "spend": _q(spend, Decimal(1).scaleb(-minor_unit_exponent(cur))),
                    "revenue": _q(revenue, Decimal(1).scaleb(-minor_unit_exponent(cur))),
                    "reason": f"no ECB reference rate for {cur}",
                }
                for cur, (n, spend, revenue) in sorted(conv.missing.items())
            ],
            "notes": fx_notes,
        },
        "methodology": methodology,
    }


def _fx_source(uow: UnitOfWork, used: list[fx.RateUsed]) -> str:
    """The source label(s) of the exact rows used (the packaged and downloaded copies say which they are)."""
    pairs = sorted({(r.currency, r.rate_date) for r in used if r.currency != "EUR"})
    if not pairs:
        return "ECB euro foreign exchange reference rates (EUR = 1)"
    labels = uow.session.execute(
        text(
            "SELECT DISTINCT source FROM fx_rates WHERE (currency, date) IN "
            "(SELECT * FROM unnest(CAST(:c AS varchar[]), CAST(:d AS date[])))"
        ),
        {"c": [p[0] for p in pairs], "d": [p[1] for p in pairs]},
    ).scalars()
    return "; ".join(sorted(labels))


def _attribution(rows: Sequence[tuple[AggRow, Decimal, Decimal]], money_q: Decimal) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Any]] = {}
    for r, _, revenue in rows:
        g = groups.setdefault((r.attribution_window, r.source), [set(), ZERO, ZERO])
        g[0].add(r.platform)
        g[1] += r.conversions
        g[2] += revenue
    return [
        {
            "attribution_window": w,
            "source": s,
            "platforms": sorted(g[0]),
            "conversions": _q(g[1], CONV_Q),
            "revenue": _q(g[2], money_q),
        }
        for (w, s), g in sorted(groups.items())
    ]


def _sum(rows: Sequence[tuple[AggRow, Decimal, Decimal]]) -> Totals:
    t = Totals()
    for r, spend, revenue in rows:
        t.add(spend, r.impressions, r.clicks, r.conversions, revenue)
    return t


def _overview(
    current: Sequence[tuple[AggRow, Decimal, Decimal]],
    before: Sequence[tuple[AggRow, Decimal, Decimal]],
    has_previous: bool,
    money_q: Decimal,
) -> dict[str, Any]:
    cur, prev = _sum(current), _sum(before)
    rc, rp = ratios(cur), ratios(prev)
    windows = sorted({r.attribution_window for r, _, _ in current})
    sources = sorted({r.source for r, _, _ in current})
    mixed = len(windows) > 1
    note = (
        "Conversions counted under different attribution windows ("
        + ", ".join(windows)
        + ") are added here; see by_attribution for each window's own figures."
        if mixed
        else None
    )
    attributed = {"attribution_windows": windows, "sources": sources, "mixed_windows": mixed, "note": note}
    out: dict[str, Any] = {
        "spend": _metric(_q(cur.spend, money_q), _q(prev.spend, money_q), has_previous),
        "impressions": _metric(cur.impressions, prev.impressions, has_previous),
        "clicks": _metric(cur.clicks, prev.clicks, has_previous),
        "conversions": {
            **_metric(_q(cur.conversions, CONV_Q), _q(prev.conversions, CONV_Q), has_previous),
            **attributed,
        },
        "revenue": {
            **_metric(_q(cur.revenue, money_q), _q(prev.revenue, money_q), has_previous),
            **attributed,
        },
        "by_attribution": _attribution(current, money_q),
    }
    for name in ("ctr", "cpc", "cpm", "cpa", "roas"):
        out[name] = _metric(rc[name], rp[name], has_previous)
    return out


def _point(day: dt.date, t: Totals, money_q: Decimal) -> dict[str, Any]:
    return {
        "date": day,
        "spend": _q(t.spend, money_q),
        "impressions": t.impressions,
        "clicks": t.clicks,
        "conversions": _q(t.conversions, CONV_Q),
        "revenue": _q(t.revenue, money_q),
    }


def _trends(
    current: Sequence[tuple[AggRow, Decimal, Decimal]], period: Window, money_q: Decimal
) -> dict[str, Any]:
    by_platform: dict[str, dict[dt.date, Totals]] = defaultdict(lambda: defaultdict(Totals))
    zones: dict[str, set[str]] = defaultdict(set)
    totals: dict[dt.date, Totals] = defaultdict(Totals)
    for r, spend, revenue in current:
        by_platform[r.platform][r.date].add(spend, r.impressions, r.clicks, r.conversions, revenue)
        totals[r.date].add(spend, r.impressions, r.clicks, r.conversions, revenue)
        zones[r.platform].add(r.time_zone)
    dates = period.dates()
    empty = Totals()
    series = [
        {
            "platform": p,
            "time_zones": sorted(zones[p]),
            "points": [_point(d, days.get(d, empty), money_q) for d in dates],
        }
        for p, days in sorted(by_platform.items())
    ]
    boundaries = "; ".join(f"{p}: {DAY_BOUNDARY.get(p, 'the platform zone')}" for p in sorted(by_platform))
    return {
        "granularity": "day",
        "day_boundary": "Each point is a platform-local calendar day"
        + (f" ({boundaries})" if boundaries else "")
        + "; totals add those days by date.",
        "series": series,
        "totals": [_point(d, totals.get(d, empty), money_q) for d in dates],
    }


def _platform_breakdown(
    current: Sequence[tuple[AggRow, Decimal, Decimal]],
    connections: Sequence[PlatformConnection],
    money_q: Decimal,
) -> list[dict[str, Any]]:
    sums: dict[str, Totals] = defaultdict(Totals)
    meta: dict[str, tuple[set[str], set[str], set[str]]] = defaultdict(lambda: (set(), set(), set()))
    for r, spend, revenue in current:
        sums[r.platform].add(spend, r.impressions, r.clicks, r.conversions, revenue)
        windows, sources, zones = meta[r.platform]
        windows.add(r.attribution_window)
        sources.add(r.source)
        zones.add(r.time_zone)
    total_spend = sum((t.spend for t in sums.values()), ZERO)
    out = []
    for platform, t in sorted(sums.items(), key=lambda kv: (-kv[1].spend, kv[0])):
        conns = [c for c in connections if c.platform == platform]
        as_of = [c.data_as_of for c in conns if c.data_as_of is not None]
        through = [c.data_through for c in conns if c.data_through is not None]
        windows, sources, zones = meta[platform]
        out.append(
            {
                "platform": platform,
                "spend": _q(t.spend, money_q),
                "impressions": t.impressions,
                "clicks": t.clicks,
                "conversions": _q(t.conversions, CONV_Q),
                "revenue": _q(t.revenue, money_q),
                "share_of_spend_pct": None if not total_spend else _q(t.spend * 100 / total_spend, PCT_Q),
                **ratios(t),
                "attribution_windows": sorted(windows),
                "sources": sorted(sources),
                "time_zones": sorted(zones),
                # the oldest account of the platform bounds how fresh the platform's total can be
                "data_as_of": min(as_of) if as_of else None,
                "data_through": min(through) if through else None,
            }
        )
    return out


def _top_campaigns(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    client_ids: list[uuid.UUID],
    period: Window,
    conv: Converter,
    current: Sequence[tuple[AggRow, Decimal, Decimal]],
    money_q: Decimal,
) -> list[dict[str, Any]]:
    series = sorted(
        {
            (r.currency, r.date): conv.factors[(r.currency, r.date)]
            for r, _, _ in current
            if r.currency != conv.target
        }.items()
    )
    rows = uow.session.execute(
        _TOP_SQL,
        {
            "fx_cur": [k[0] for k, _ in series],
            "fx_day": [k[1] for k, _ in series],
            "fx_factor": [v for _, v in series],
            "tenant": tenant_id,
            "clients": client_ids,
            "start": period.start,
            "end": period.end,
            "target": conv.target,
            "limit": TOP_N,
        },
    )
    rows = list(rows)
    windows = {
        r[0]: sorted(r[1])
        for r in uow.session.execute(
            _TOP_WINDOWS_SQL, {"ids": [r[0] for r in rows], "start": period.start, "end": period.end}
        )
    }
    out = []
    for cid, name, platform, client_id, spend, impressions, clicks, conversions, revenue in rows:
        out.append(
            {
                "id": cid,
                "name": name,
                "platform": platform,
                "client_id": client_id,
                "spend": _q(spend, money_q),
                "impressions": int(impressions),
                "clicks": int(clicks),
                "conversions": _q(conversions, CONV_Q),
                "revenue": _q(revenue, money_q),
                "roas": ratio(revenue, spend),
                "cpa": ratio(spend, conversions),
                "attribution_windows": windows.get(cid, []),
            }
        )
    return out


def pacing_band(elapsed: Decimal, days_in_month: int) -> Decimal:
    """Tolerance in percent (strategist.domain.pacing.tolerance_pct, the alerts' band), to 0.1 point."""
    return _q(Decimal(str(pacing_rule.tolerance_pct(float(elapsed), days_in_month))), Decimal("0.1"))


def _pacing(
    budgeted: Sequence[Client],
    windows: dict[uuid.UUID, tuple[dt.date, dt.date, dt.datetime]],
    rows: Sequence[tuple[uuid.UUID, dt.date, str, Decimal]],
    table: fx.RateTable,
) -> dict[str, Any]:
    spend: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    currency = {c.id: c.currency for c in budgeted}
    missing: set[str] = set()
    for cid, day, cur, cost in rows:
        start, end, _ = windows[cid]
        if not start <= day <= end:
            continue
        if cur == currency[cid]:
            spend[cid] += cost
            continue
        try:
            spend[cid] += table.convert(cost, cur, currency[cid], day)[0]
        except fx.FxUnavailable:
            missing.add(cur)
    out = []
    for c in budgeted:
        start, end, local_now = windows[c.id]
        q = Decimal(1).scaleb(-minor_unit_exponent(c.currency))
        days_in_month = calendar.monthrange(start.year, start.month)[1]
        elapsed = Decimal((end - start).days + 1)  # complete days: the 1st through yesterday
        budget = Decimal(c.monthly_budget or 0)
        mtd = spend[c.id]
        expected = budget * elapsed / days_in_month
        tol = pacing_band(elapsed, days_in_month)
        if elapsed <= 0:
            status, pace, projected = "too_early", None, None
        else:
            pace = mtd / expected * 100 if expected else None
            projected = mtd / elapsed * days_in_month
            if pace is None:
                status = "on_track"
            elif pace > 100 + tol:
                status = "over"
            elif pace < 100 - tol:
                status = "under"
            else:
                status = "on_track"
        out.append(
            {
                "client_id": c.id,
                "client_name": c.name,
                "currency": c.currency,
                "time_zone": c.reporting_timezone,
                "month": start.strftime("%Y-%m"),
                "today": local_now.date(),
                "monthly_budget": _q(budget, q),
                "days_in_month": days_in_month,
                "elapsed_days": elapsed,
                "month_to_date_spend": _q(mtd, q),
                "expected_to_date": _q(expected, q),
                "pace_pct": None if pace is None else _q(pace, PCT_Q),
                "projected_month_end": None if projected is None else _q(projected, q),
                "projected_pct_of_budget": None
                if projected is None or not budget
                else _q(projected * 100 / budget, PCT_Q),
                "band": {"tolerance_pct": tol, "low_pct": 100 - tol, "high_pct": 100 + tol},
                "status": status,
            }
        )
    return {
        "method": (
            "Per client with a monthly budget, in the client's currency and reporting time zone: spend over the "
            "complete days of the month so far (the 1st through yesterday) against budget x elapsed days / days "
            "in month; projected month-end = spend / elapsed days x days in month (simple run rate). Status is "
            f"on_track within a tolerance band of +-{BAND_START_PCT} % at the start of the month narrowing "
            f"linearly to +-{BAND_END_PCT} % at its end, else under or over; too_early on the 1st."
            + (f" Spend in {', '.join(sorted(missing))} has no ECB rate and is left out." if missing else "")
        ),
        "clients": out,
    }


def _freshness(connections: Sequence[PlatformConnection], period: Window, today: dt.date) -> dict[str, Any]:
    notes: list[str] = []
    items = []
    for c in connections:
        covers = c.status == "active" and c.data_through is not None and c.data_through >= period.end
        items.append(
            {
                "connection_id": c.id,
                "client_id": c.client_id,
                "platform": c.platform,
                "account_id": c.account_id,
                "name": c.name,
                "status": c.status,
                "broken_reason": c.broken_reason,
                "data_as_of": c.data_as_of,
                "data_through": c.data_through,
                "last_sync_at": c.last_sync_at,
                "covers_period": covers,
            }
        )
        label = f"{c.platform} account {c.account_id} ({c.name})"
        if c.status != "active":
            why = f": {c.broken_reason}" if c.broken_reason else ""
            missing = (
                f"data after {c.data_through} is missing"
                if c.data_through is not None
                else "no data has been synced"
            )
            notes.append(f"{label} is {c.status}{why}; {missing} until it is reconnected.")
        elif c.data_through is None:
            notes.append(f"{label} has not synced any data yet.")
        elif c.data_through < period.end:
            notes.append(
                f"{label} has data through {c.data_through} only; later days of the period are missing."
            )
    if period.end >= today - dt.timedelta(days=EARLY_ESTIMATE_DAYS):
        notes.append(
            f"The last {EARLY_ESTIMATE_DAYS} days are early estimates: platforms restate recent days (late "
            "conversions, open attribution windows) and the sync re-pulls them."
        )
    return {"connections": items, "complete": all(i["covers_period"] for i in items), "notes": notes}


def _methodology(
    period: Window, zone: str, zone_basis: str, target: str, currency_basis: str, mixed: bool
) -> list[str]:
    notes = [
        "Totals add only campaign-total rows (breakdown ''); breakdown rows (device, placement, ...) are never "
        "added to them, so nothing is counted twice.",
        "Ratios are computed from the period's sums, never averaged: CTR = clicks / impressions x 100 (percent), "
        "CPC = spend / clicks, CPM = spend / impressions x 1000, CPA = spend / conversions, ROAS = revenue / "
        "spend (revenue is the platforms' attributed conversion value). A ratio whose denominator is 0 is null.",
        f"Money is in {target} ({currency_basis}). Cost and conversion value are converted from each row's "
        "native currency with the ECB euro reference rates of the latest ECB date on or before the row's date "
        "(weekends and holidays use the previous business day), before any ratio; fx.rates_used lists each rate.",
        f"Period {period.start}..{period.end} ({period.label}) in {zone}, {zone_basis}. 7d/30d/90d are the "
        "complete days ending yesterday; mtd/qtd/ytd run through today, whose figures are partial.",
        "Metric rows are platform-local days (Google Ads and YouTube: the account's time zone; Meta and TikTok: "
        "the ad account's zone; LinkedIn: UTC). They are matched to the period's calendar dates as reported, "
        "not shifted, so a platform's day may start some hours apart from the reporting zone's day.",
        "previous_period is the same number of days immediately before; previous_year the same dates a year "
        "earlier. change = value - previous; change_pct = change / previous x 100 (null when previous is 0).",
        "Top campaigns are the 10 with the highest converted spend in the period.",
    ]
    if mixed:
        notes.append(
            "Conversions come from different attribution windows; the overview adds them but "
            "overview.by_attribution shows each window separately. They are not one consistent count."
        )
    return notes
