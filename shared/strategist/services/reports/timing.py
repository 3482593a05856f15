"""When a report is due, which period it covers, and when that period's data is final. Pure functions (no I/O),
so the rules are tested directly, with hypothesis over time zones and DST.

Due time. A weekly schedule is due on an ISO weekday, a monthly one on a day of the month (1-28, which every
month has), at ``send_hour``:00 in the client's reporting time zone. A local time that a DST change skips (the
spring-forward gap) is due at the first instant after the gap; a local time that happens twice (fall back) is due
at its first occurrence only (``fold=0``), so a schedule never runs twice in one day.

Period. A weekly report covers the last complete Monday-Sunday week before the local due date; a monthly report
the last complete calendar month. Days are the client's reporting time zone's.

Finality (the hold rule). Platforms restate recent days: Google Ads adds conversions for up to ~15 h after the
day ends (conversion imports and delayed tags); Meta's default attribution (7-day click, 1-day view) keeps
crediting a day for 7 days; LinkedIn's and TikTok's 7-day click windows do the same. A period is final when every
live ad-platform connection of the client
  1. has synced data through the period's last day (``data_through >= period_end``), and
  2. was synced (``data_as_of``) at least the platform's finality lag after the period ended, the end being
     midnight after ``period_end`` in the connection's own time zone (its day boundary), else the client's.
A broken connection is not final (its data cannot arrive). An e-mail/import source has no lag. A held report is
released when it becomes final, or, past ``max_hold_hours`` after its due time, sent marked provisional with the
connections that were not final and why.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC

#: Hours after a platform-local day ends before that day stops changing.
FINALITY_LAG_HOURS: dict[str, int] = {
    "google_ads": 15,
    "youtube_ads": 15,
    "meta_ads": 7 * 24,
    "linkedin_ads": 7 * 24,
    "tiktok_ads": 7 * 24,
    "email": 0,
}
#: A platform not listed above waits this long.
DEFAULT_LAG_HOURS = 7 * 24


# -- due times ----------------------------------------------------------------------------------------------------
def _local_instant(day: dt.date, hour: int, zone: ZoneInfo) -> dt.datetime:
    """``day`` at ``hour``:00 local, as UTC. fold=0: a skipped hour lands just after the gap (zoneinfo applies the
    offset in force before the change), a repeated hour is its first occurrence."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone, fold=0).astimezone(UTC)


def _is_run_day(day: dt.date, frequency: str, day_of_week: int | None, day_of_month: int | None) -> bool:
    if frequency == "weekly":
        return day.isoweekday() == day_of_week
    return day.day == day_of_month


def next_run(
    frequency: str,
    day_of_week: int | None,
    day_of_month: int | None,
    send_hour: int,
    time_zone: str,
    after: dt.datetime,
) -> dt.datetime:
    """The first due instant strictly after ``after`` (UTC)."""
    zone = ZoneInfo(time_zone)
    day = after.astimezone(zone).date() - dt.timedelta(days=1)  # a gap may move the instant across midnight
    for _ in range(70):  # a monthly day 1-28 recurs within 31 days; 70 covers any start point
        if _is_run_day(day, frequency, day_of_week, day_of_month):
            at = _local_instant(day, send_hour, zone)
            if at > after:
                return at
        day += dt.timedelta(days=1)
    raise AssertionError("no run day within 70 days")  # unreachable for valid schedules


def local_run_date(run_at: dt.datetime, time_zone: str) -> dt.date:
    return run_at.astimezone(ZoneInfo(time_zone)).date()


def period_for_run(frequency: str, run_date: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete Monday-Sunday week, or calendar month, before the local run date."""
    if frequency == "weekly":
        end = run_date - dt.timedelta(days=run_date.isoweekday())
        return end - dt.timedelta(days=6), end
    end = run_date.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def named_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Named periods for on-demand reports, ``today`` being the client's local date; all end by yesterday."""
    yesterday = today - dt.timedelta(days=1)
    if name == "last_week":
        return period_for_run("weekly", today)
    if name == "last_month":
        return period_for_run("monthly", today)
    if name == "last_7_days":
        return yesterday - dt.timedelta(days=6), yesterday
    if name == "last_30_days":
        return yesterday - dt.timedelta(days=29), yesterday
    if name == "month_to_date":
        if today.day == 1:  # nothing complete yet this month: the whole of last month
            return period_for_run("monthly", today)
        return today.replace(day=1), yesterday
    raise ValueError(f"unknown period {name!r}")


def period_label(start: dt.date, end: dt.date) -> str:
    if (
        start.day == 1
        and end.day == calendar.monthrange(end.year, end.month)[1]
        and (start.year, start.month)
        == (
            end.year,
            end.month,
        )
    ):
        return "month"
    if (end - start).days == 6 and start.isoweekday() == 1:
        return "week"
    return "custom"


def describe_period(start: dt.date, end: dt.date) -> str:
    """'March 2026', 'Week 10, 2 Mar - 8 Mar 2026', '1 Mar - 15 Mar 2026'."""
    label = period_label(start, end)
    if label == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    span = (
        f"{start.day} {calendar.month_abbr[start.month]}"
        + (f" {start.year}" if start.year != end.year else "")
        + f" - {end.day} {calendar.month_abbr[end.month]} {end.year}"
    )
    if label == "week":
        return f"Week {start.isocalendar().week}, {span}"
    return span


# -- finality -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectionFacts:
    id: str
    platform: str
    name: str
    status: str  # active / broken / ...
    time_zone: str | None
    data_through: dt.date | None
    data_as_of: dt.datetime | None


@dataclass(frozen=True)
class Finality:
    final: bool
    final_at: dt.datetime | None  # when every connection's lag has passed (None: not computable, e.g. broken)
    connections: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO strings for dates and instants)."""
        return _iso(
            {"final": self.final, "final_at": self.final_at, "connections": self.connections, "rule": RULE}
        )


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    return value


RULE = (
    "Final when every live ad-platform connection has synced data through the period's last day, at least its "
    "platform's restatement lag after that day ended in the account's time zone (Google Ads 15 h; Meta, LinkedIn "
    "and TikTok 7 days for their 7-day click attribution windows)."
)


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def lag_hours(platform: str) -> int:
    return FINALITY_LAG_HOURS.get(platform, DEFAULT_LAG_HOURS)


def finality(
    period_end: dt.date, client_time_zone: str, connections: Sequence[ConnectionFacts], now: dt.datetime
) -> Finality:
    rows: list[dict[str, Any]] = []
    final = True
    final_at: dt.datetime | None = None
    computable = True
    for c in connections:
        zone = ZoneInfo(c.time_zone or client_time_zone)
        day_end = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(), zone).astimezone(UTC)
        lag = lag_hours(c.platform)
        needed = day_end + dt.timedelta(hours=lag)
        reasons: list[str] = []
        if c.status != "active":
            reasons.append(f"the connection is {c.status}: no new data can arrive until it is reconnected")
            computable = False
        if c.data_through is None or c.data_through < period_end:
            reasons.append(
                f"data synced through {c.data_through or 'no day yet'}, the period ends {period_end.isoformat()}"
            )
        if c.data_as_of is None or c.data_as_of < needed:
            reasons.append(
                f"last synced {_stamp(c.data_as_of) if c.data_as_of else 'never'}; {c.platform} days are final "
                f"{lag} h after they end, i.e. from {_stamp(needed)}"
            )
        ok = not reasons
        final = final and ok
        # once the lag has passed, the next hourly sync makes it final: that is the expected release time
        expected = max(needed, now) if not ok else needed
        final_at = expected if final_at is None else max(final_at, expected)
        rows.append(
            {
                "connection_id": c.id,
                "platform": c.platform,
                "name": c.name,
                "final": ok,
                "lag_hours": lag,
                "final_from": needed,
                "data_through": c.data_through,
                "data_as_of": c.data_as_of,
                "reasons": reasons,
            }
        )
    return Finality(final, final_at if computable else None, rows)
