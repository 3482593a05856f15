"""Which days a sync pulls: pure date arithmetic, kept apart so it can be tested exhaustively.

A first connection backfills its history in chunks (newest first, so the recent weeks users look at arrive
first); every later sync re-pulls a rolling restatement window, because platforms restate recent days (late
conversions, invalid-click credits), and closes any gap left by an outage."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

CHUNK_DAYS = 90  # one request window: Google's searchStream and Meta's async reports stay small
MAX_GAP_DAYS = 90  # a scheduled sync closes at most this much of a gap; the next run continues


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def yesterday_in(zone: str | None, now: dt.datetime | None = None) -> dt.date:
    """Platforms report finished days in the account's zone; 'yesterday' there is the last complete one."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return now.astimezone(tz).date() - dt.timedelta(days=1)


def backfill_chunks(end: dt.date, days: int, size: int = CHUNK_DAYS) -> list[Window]:
    start = end - dt.timedelta(days=days - 1)
    chunks = []
    cursor = end
    while cursor >= start:
        chunk_start = max(start, cursor - dt.timedelta(days=size - 1))
        chunks.append(Window(chunk_start, cursor))
        cursor = chunk_start - dt.timedelta(days=1)
    return chunks


def scheduled_window(*, yesterday: dt.date, restatement_days: int, data_through: dt.date | None) -> Window:
    start = yesterday - dt.timedelta(days=restatement_days - 1)
    if data_through is not None and data_through < start:
        start = max(
            data_through - dt.timedelta(days=restatement_days - 1),
            yesterday - dt.timedelta(days=MAX_GAP_DAYS),
        )
    return Window(start, yesterday)


def message(
    tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: str, window: Window | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"tenant_id": str(tenant_id), "connection_id": str(connection_id), "kind": kind}
    if window is not None:
        body["window_start"] = window.start.isoformat()
        body["window_end"] = window.end.isoformat()
    return body
