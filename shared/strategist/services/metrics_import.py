"""Daily metrics imported from a file (CSV or JSON) for campaigns without an API connector (e-mail tools,
platforms the agency has not connected).

All or nothing: every row is validated first and any bad row rejects the whole file, listing each problem by row
number and field, so a user fixes the file once instead of discovering problems one upload at a time, and a
half-loaded month can never be mistaken for a complete one. Accepted rows go through the same COPY + ON CONFLICT
upsert the connectors use, inside the request's single transaction: re-importing a corrected or identical file
replaces rows (keyed by campaign, date, breakdown) instead of adding to them.

Row numbers: JSON problems are named by array index (``rows[0]`` is the first element); CSV problems by data row
counted from 1, header excluded (``rows[1]`` is the first line under the header), with the physical line number
in the reason, which differs when quoted cells span lines.

Free text (breakdown, source, attribution window) that starts with ``= + - @``, a tab or carriage return is
rejected, not neutralized: see ``unsafe_text_reason``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import (
    Conflict,
    FieldProblem,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from strategist.http.schemas.campaigns import ImportQuery, ImportResultOut, unsafe_text_reason
from strategist.services.campaigns import Sums, get_visible_campaign, local_today, make_totals

MAX_ROWS = 50_000
#: Problems listed in the error; the message still counts all of them.
MAX_LISTED = 100
DEFAULT_WINDOW = "imported"
ACCEPTED_TYPES = ("text/csv", "application/json")
EARLIEST = dt.date(2000, 1, 1)
_MAX_AMOUNT = Decimal(10) ** 12  # NUMERIC(18, 6): 12 integer digits
_MAX_BIGINT = 2**63 - 1
_SIX_PLACES = Decimal("0.000001")

ALIASES = {"spend": "cost", "revenue": "conversion_value"}
REQUIRED = ("date", "cost", "impressions", "clicks", "conversions")
OPTIONAL = (
    "conversion_value",
    "breakdown",
    "video_views",
    "reach",
    "currency",
    "attribution_window",
    "source",
)
KNOWN = frozenset((*REQUIRED, *OPTIONAL))
TEXT_LIMITS = {"breakdown": 100, "source": 200, "attribution_window": 40}
JSON_TOP = frozenset({"rows", "source", "attribution_window", "tenant_id"})

_DECIMAL_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
_INT_RE = re.compile(r"^-?\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_HINT = "use digits with '.' as the decimal separator, no thousands separators or currency signs"


@dataclass
class Problems:
    """Every problem found, in file order; only the first MAX_LISTED travel in the response."""

    items: list[FieldProblem] = field(default_factory=list)
    rows: set[str] = field(default_factory=set)

    def add(self, row: str, name: str | None, reason: str) -> None:
        self.items.append(FieldProblem(f"{row}.{name}" if name else row, reason))
        if row.startswith("rows["):
            self.rows.add(row)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        listed = self.items[:MAX_LISTED]
        hidden = len(self.items) - len(listed)
        if hidden:
            listed.append(FieldProblem("rows", f"{hidden} more problem(s) not listed"))
        raise ValidationFailed(
            f"the file was rejected and nothing was written: {len(self.items)} problem(s) in "
            f"{len(self.rows)} row(s)" + (f"; the first {MAX_LISTED} are listed" if hidden else ""),
            fields=listed,
        )


@dataclass(frozen=True)
class RawRow:
    label: str  # "rows[3]"
    line: int | None  # physical CSV line, for the reason text
    values: dict[str, Any]


@dataclass(frozen=True)
class Defaults:
    currency: str
    time_zone: str
    source: str
    attribution_window: str
    today: dt.date


# -- parsing ------------------------------------------------------------------------------------------------
def _canonical(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _csv_rows(raw: bytes, problems: Problems) -> Iterator[RawRow]:
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        raise ValidationFailed.one("body", f"the CSV is not UTF-8 (byte {exc.start})") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        if header is None:
            raise ValidationFailed.one("body", "the CSV is empty; a header row and data rows are required")
        columns = [_canonical(h) for h in header]
        header_problems = Problems()
        seen: set[str] = set()
        for original, name in zip(header, columns, strict=True):
            if name in seen:
                header_problems.add(
                    "header", name, "column appears twice (spend = cost, revenue = conversion_value)"
                )
            elif name not in KNOWN:
                header_problems.add(
                    "header",
                    original.strip() or "(blank)",
                    f"unknown column; known: {', '.join(sorted(KNOWN))}",
                )
            seen.add(name)
        for name in REQUIRED:
            if name not in seen:
                header_problems.add("header", name, "required column is missing")
        header_problems.raise_if_any()
        number = 0
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            number += 1
            if number > MAX_ROWS:
                raise PayloadTooLarge(f"the file has more than {MAX_ROWS} rows; split it")
            label = f"rows[{number}]"
            if len(cells) != len(columns):
                problems.add(
                    label, None, f"line {reader.line_num}: {len(cells)} cells, the header has {len(columns)}"
                )
                continue
            yield RawRow(label, reader.line_num, dict(zip(columns, cells, strict=True)))
    except csv.Error as exc:
        raise ValidationFailed.one("body", f"malformed CSV at line {reader.line_num}: {exc}") from exc


def _json_rows(raw: bytes, principal: Principal, problems: Problems) -> tuple[list[RawRow], dict[str, Any]]:
    """Floats are parsed as Decimal so 0.1 stays 0.1 all the way into NUMERIC."""
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = (
            f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else "body is not UTF-8"
        )
        raise ValidationFailed.one("body", reason) from exc
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ValidationFailed.one("rows", 'a JSON object {"rows": [...]} is required')
    principal.require_tenant(data.get("tenant_id"))
    for key in sorted(set(data) - JSON_TOP):
        problems.add("body", key, "unknown field")
    if len(data["rows"]) > MAX_ROWS:
        raise PayloadTooLarge(f"the file has {len(data['rows'])} rows; the limit is {MAX_ROWS}; split it")
    rows: list[RawRow] = []
    for i, item in enumerate(data["rows"]):
        label = f"rows[{i}]"
        if not isinstance(item, dict):
            problems.add(label, None, "must be an object")
            continue
        values: dict[str, Any] = {}
        for key, value in item.items():
            name = _canonical(str(key))
            if name not in KNOWN:
                problems.add(label, str(key), "unknown field")
            elif name in values:
                problems.add(label, name, "given twice (spend = cost, revenue = conversion_value)")
            else:
                values[name] = value
        rows.append(RawRow(label, None, values))
    defaults = {k: data[k] for k in ("source", "attribution_window") if data.get(k) is not None}
    return rows, defaults


# -- values -------------------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("must be a number")
    if isinstance(value, str):
        value = value.strip()
        if not _DECIMAL_RE.match(value):
            raise ValueError(f"'{value[:40]}' is not a number; {_NUMBER_HINT}")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number; {_NUMBER_HINT}") from exc
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number < 0:
        raise ValueError("must not be negative")
    if number >= _MAX_AMOUNT:
        raise ValueError(f"must be below {_MAX_AMOUNT:,}")
    if number != number.quantize(_SIX_PLACES):
        raise ValueError("at most 6 decimal places")
    return number


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError("must be a whole number")
        value = int(value)
    elif isinstance(value, str):
        value = value.strip()
        if not _INT_RE.match(value):
            raise ValueError(f"'{value[:40]}' is not a whole number")
        value = int(value)
    elif not isinstance(value, int):
        raise ValueError("must be a whole number")
    if value < 0:
        raise ValueError("must not be negative")
    if value > _MAX_BIGINT:
        raise ValueError("is too large")
    return value


def _date(value: Any, defaults: Defaults) -> dt.date:
    if not isinstance(value, str) or not _DATE_RE.match(value.strip()):
        raise ValueError("must be a date in YYYY-MM-DD form")
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"'{value.strip()}' is not a calendar date") from exc
    if day > defaults.today:
        raise ValueError(
            f"{day.isoformat()} is in the future (today is {defaults.today.isoformat()} in {defaults.time_zone})"
        )
    if day < EARLIEST:
        raise ValueError(f"is before {EARLIEST.isoformat()}")
    return day


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if len(value) > TEXT_LIMITS[name]:
        raise ValueError(f"at most {TEXT_LIMITS[name]} characters")
    reason = unsafe_text_reason(value)
    if reason:
        raise ValueError(reason)
    return value


def _row(raw: RawRow, campaign_id: uuid.UUID, defaults: Defaults, problems: Problems) -> MetricRow | None:
    """One validated row, or None with its problems recorded (all of them, not just the first)."""
    before = len(problems.items)
    where = f"line {raw.line}: " if raw.line is not None else ""
    parsed: dict[str, Any] = {}

    def take(name: str, convert: Any, default: Any = None, required: bool = False) -> None:
        value = raw.values.get(name)
        if _missing(value):
            if required:
                problems.add(raw.label, name, f"{where}is required")
            parsed[name] = default
            return
        try:
            parsed[name] = convert(value)
        except ValueError as exc:
            problems.add(raw.label, name, f"{where}{exc}")

    take("date", lambda v: _date(v, defaults), required=True)
    for name in ("cost", "conversions"):
        take(name, _decimal, required=True)
    take("conversion_value", _decimal, Decimal(0))
    for name in ("impressions", "clicks"):
        take(name, _integer, required=True)
    for name in ("video_views", "reach"):
        take(name, _integer)
    take("breakdown", lambda v: _text(v, "breakdown"), "")
    take("source", lambda v: _text(v, "source"), defaults.source)
    take("attribution_window", lambda v: _text(v, "attribution_window"), defaults.attribution_window)
    take("currency", lambda v: str(v).strip().upper(), defaults.currency)
    if "currency" in parsed and parsed["currency"] != defaults.currency:
        problems.add(
            raw.label,
            "currency",
            f"{where}{parsed['currency'][:10]} differs from the campaign's currency {defaults.currency}; "
            "convert the figures or import them into a campaign in that currency",
        )
    clicks, impressions = parsed.get("clicks"), parsed.get("impressions")
    if isinstance(clicks, int) and isinstance(impressions, int) and clicks > impressions:
        problems.add(raw.label, "clicks", f"{where}{clicks} clicks exceed {impressions} impressions")
    if len(problems.items) > before:
        return None
    return MetricRow(
        campaign_id=campaign_id,
        date=parsed["date"],
        currency=defaults.currency,
        cost=parsed["cost"],
        impressions=parsed["impressions"],
        clicks=parsed["clicks"],
        conversions=parsed["conversions"],
        conversion_value=parsed["conversion_value"],
        time_zone=defaults.time_zone,
        attribution_window=parsed["attribution_window"],
        source=parsed["source"],
        breakdown=parsed["breakdown"],
        video_views=parsed["video_views"],
        reach=parsed["reach"],
    )


def _file_default(value: Any, name: str, problems: Problems) -> str | None:
    if value is None:
        return None
    try:
        return _text(value, name)
    except ValueError as exc:
        problems.add("body", name, str(exc))
        return None


# -- the use case -------------------------------------------------------------------------------------------
def import_metrics(
    uow: UnitOfWork,
    principal: Principal,
    campaign_id: uuid.UUID,
    *,
    raw: bytes,
    content_type: str,
    query: ImportQuery,
) -> ImportResultOut:
    principal.require_role(Role.ANALYST)
    campaign, zone = get_visible_campaign(uow, principal, campaign_id)
    if campaign.connection_id is not None:
        raise Conflict(
            f"campaign {campaign.id} is synced from connection {campaign.connection_id}; imported rows would be "
            "overwritten by its next sync. Import into a campaign created by hand instead."
        )
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type '{content_type}' is not accepted here; use {' or '.join(ACCEPTED_TYPES)}"
        )
    fmt = "csv" if content_type == "text/csv" else "json"
    problems = Problems()
    if fmt == "csv":
        raw_rows, file_defaults = list(_csv_rows(raw, problems)), {}
    else:
        raw_rows, file_defaults = _json_rows(raw, principal, problems)
    source = _file_default(file_defaults.get("source"), "source", problems)
    window = _file_default(file_defaults.get("attribution_window"), "attribution_window", problems)
    defaults = Defaults(
        currency=campaign.currency,
        time_zone=zone,
        source=source or query.source or f"import:{fmt}",
        attribution_window=window or query.attribution_window or DEFAULT_WINDOW,
        today=local_today(zone),
    )
    rows: list[MetricRow] = []
    first_seen: dict[tuple[dt.date, str], str] = {}
    for raw_row in raw_rows:
        row = _row(raw_row, campaign.id, defaults, problems)
        if row is None:
            continue
        key = (row.date, row.breakdown)
        if key in first_seen:
            what = f"breakdown '{row.breakdown}'" if row.breakdown else "no breakdown"
            problems.add(
                raw_row.label,
                None,
                f"duplicate of {first_seen[key]}: same date {row.date.isoformat()} and {what}",
            )
            continue
        first_seen[key] = raw_row.label
        rows.append(row)
    if not raw_rows and not problems.items:
        problems.add("rows", None, "the file has no data rows")
    problems.raise_if_any()

    written = upsert_metrics(uow.session, principal.tenant_id, rows)
    # now() is the transaction's timestamp: the same instant upsert_metrics stamped on every row's synced_at.
    campaign.last_synced_at = uow.session.scalar(select(func.now()))
    start, end = min(r.date for r in rows), max(r.date for r in rows)
    totals_rows = [r for r in rows if r.breakdown == ""]
    views = [r.video_views for r in totals_rows if r.video_views is not None]
    sums = Sums(
        days=len(totals_rows),
        spend=sum((r.cost for r in totals_rows), Decimal(0)),
        impressions=sum(r.impressions for r in totals_rows),
        clicks=sum(r.clicks for r in totals_rows),
        conversions=sum((r.conversions for r in totals_rows), Decimal(0)),
        revenue=sum((r.conversion_value for r in totals_rows), Decimal(0)),
        video_views=sum(views) if views else None,
        windows=frozenset(r.attribution_window for r in totals_rows),
        sources=frozenset(r.source for r in totals_rows),
        data_as_of=campaign.last_synced_at,
    )
    result = ImportResultOut(
        campaign_id=campaign.id,
        format=fmt,
        rows_received=len(rows),
        rows_written=written,
        breakdown_rows=len(rows) - len(totals_rows),
        start=start,
        end=end,
        totals=make_totals(sums, currency=campaign.currency, start=start, end=end),
    )
    summary = {
        "format": fmt,
        "rows": len(rows),
        "rows_written": written,
        "start": start,
        "end": end,
        "file_sha256": hashlib.sha256(raw).hexdigest(),
        "sources": sorted({r.source for r in rows}),
        "attribution_windows": sorted({r.attribution_window for r in rows}),
    }
    uow.audit("campaign.metrics_import", "campaign", campaign.id, after=summary)
    uow.emit(
        "metrics.imported",
        {
            "campaign_id": campaign.id,
            "client_id": campaign.client_id,
            "platform": campaign.platform,
            "start": start,
            "end": end,
            "rows": len(rows),
        },
    )
    return result
