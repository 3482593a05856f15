"""Bulk, idempotent writes of daily campaign metrics: COPY into a transaction-local staging table, then one
INSERT ... ON CONFLICT into campaign_metrics. Re-running the same rows (SQS redelivery, overlapping syncs, a
restated window) leaves exactly one row per campaign, day and breakdown, holding the latest values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

COLUMNS = (
    "tenant_id",
    "campaign_id",
    "date",
    "breakdown",
    "currency",
    "cost",
    "impressions",
    "clicks",
    "conversions",
    "conversion_value",
    "video_views",
    "reach",
    "time_zone",
    "attribution_window",
    "source",
    # issue 7: the client's own search impression share (Google Ads Search campaigns)
    "search_impression_share",
    "search_rank_lost_impression_share",
    "search_budget_lost_impression_share",
)
UPDATED = [c for c in COLUMNS if c not in {"tenant_id", "campaign_id", "date", "breakdown"}]


@dataclass(frozen=True, slots=True)
class MetricRow:
    campaign_id: uuid.UUID
    date: dt.date
    currency: str
    cost: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    conversion_value: Decimal
    time_zone: str
    attribution_window: str
    source: str
    breakdown: str = ""
    video_views: int | None = None
    reach: int | None = None
    search_impression_share: Decimal | None = None
    search_rank_lost_impression_share: Decimal | None = None
    search_budget_lost_impression_share: Decimal | None = None


def _latest_per_key(rows: Iterable[MetricRow]) -> list[MetricRow]:
    """One row per (campaign, day, breakdown), the last one given: ON CONFLICT may touch a row only once per
    statement, and deduplicating here is far cheaper than DISTINCT ON in the database."""
    latest: dict[tuple[uuid.UUID, dt.date, str], MetricRow] = {}
    for r in rows:
        latest[(r.campaign_id, r.date, r.breakdown)] = r
    return list(latest.values())


def _csv(tenant_id: uuid.UUID, rows: Iterable[MetricRow]) -> tuple[io.StringIO, int]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    n = 0
    tid = str(tenant_id)
    for r in rows:
        writer.writerow(
            (
                tid,
                r.campaign_id,
                r.date.isoformat(),
                r.breakdown,
                r.currency,
                r.cost,
                r.impressions,
                r.clicks,
                r.conversions,
                r.conversion_value,
                "" if r.video_views is None else r.video_views,
                "" if r.reach is None else r.reach,
                r.time_zone,
                r.attribution_window,
                r.source,
                "" if r.search_impression_share is None else r.search_impression_share,
                "" if r.search_rank_lost_impression_share is None else r.search_rank_lost_impression_share,
                ""
                if r.search_budget_lost_impression_share is None
                else r.search_budget_lost_impression_share,
            )
        )
        n += 1
    buf.seek(0)
    return buf, n


def upsert_metrics(session: Session, tenant_id: uuid.UUID, rows: Iterable[MetricRow]) -> int:
    """Returns how many rows were written. Runs inside the caller's transaction (and its tenant)."""
    buf, n = _csv(tenant_id, _latest_per_key(rows))
    if n == 0:
        return 0
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS metrics_staging "
            "(LIKE campaign_metrics INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    )
    session.execute(text("TRUNCATE metrics_staging"))
    raw = session.connection().connection.driver_connection
    cursor = raw.cursor()
    cursor.execute(
        f"COPY metrics_staging ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '', FORCE_NOT_NULL (breakdown))",
        stream=io.BytesIO(buf.getvalue().encode()),
    )
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATED)
    result = session.execute(
        text(
            f"INSERT INTO campaign_metrics ({', '.join(COLUMNS)}, synced_at) "
            f"SELECT {', '.join(COLUMNS)}, now() FROM metrics_staging "
            f"ON CONFLICT (campaign_id, date, breakdown) DO UPDATE SET {assignments}, synced_at = now()"
        )
    )
    return int(result.rowcount or 0)
