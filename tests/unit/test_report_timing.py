"""Report timing rules: due instants in the client's time zone (hypothesis over zones, dates and DST changes),
the period a run reports, and the finality (hold) rule per platform."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from strategist.services.reports import timing

UTC = dt.UTC
ZONES = sorted(
    z
    for z in available_timezones()
    if z.startswith(("Europe/", "America/", "Australia/", "Asia/", "Pacific/", "Africa/")) or z == "UTC"
)
# zones with DST and odd offsets on purpose
SPICY = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo",
         "Pacific/Chatham", "Europe/Dublin", "America/Santiago", "Asia/Tehran", "UTC"]  # fmt: skip

instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)
)
zones = st.one_of(st.sampled_from(SPICY), st.sampled_from(ZONES))


def _rule(draw_weekly: bool, dow: int, dom: int) -> tuple[str, int | None, int | None]:
    return ("weekly", dow, None) if draw_weekly else ("monthly", None, dom)


@settings(max_examples=400, deadline=None)
@given(instants, zones, st.booleans(), st.integers(1, 7), st.integers(1, 28), st.integers(0, 23))
def test_next_run_is_the_first_local_due_instant_after(after, zone, weekly, dow, dom, hour):
    freq, d_w, d_m = _rule(weekly, dow, dom)
    run = timing.next_run(freq, d_w, d_m, hour, zone, after)
    tz = ZoneInfo(zone)
    local = run.astimezone(tz)
    assert run > after
    # on a run day; at the send hour, or just after a DST gap that skipped it
    day = local.date()
    if local.hour != hour:
        intended = dt.datetime(day.year, day.month, day.day, hour, tzinfo=tz)
        assert intended.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != intended.replace(
            tzinfo=None
        ), "only a skipped local time may move the run off its hour"
        day = intended.date()
    if weekly:
        assert day.isoweekday() == dow
    else:
        assert day.day == dom
    # nothing due in between: the run just before it (one day earlier scan) is not after `after`
    assert timing.next_run(freq, d_w, d_m, hour, zone, run - dt.timedelta(seconds=1)) == run
    # the following run is a week / a calendar month later (never twice in one local day, never a skipped period)
    following = timing.next_run(freq, d_w, d_m, hour, zone, run)
    gap = following - run
    if weekly:
        assert (
            dt.timedelta(days=7) - dt.timedelta(hours=3)
            <= gap
            <= dt.timedelta(days=7) + dt.timedelta(hours=3)
        )
    else:
        assert (
            dt.timedelta(days=28) - dt.timedelta(hours=3)
            <= gap
            <= dt.timedelta(days=31) + dt.timedelta(hours=3)
        )


def test_spring_forward_gap_and_fall_back_repeat():
    ny = "America/New_York"
    # 2026-03-08 02:30 does not exist in New York: the run is at 03:00 EDT (07:00 UTC), the first instant after it
    run = timing.next_run("weekly", 7, None, 2, ny, dt.datetime(2026, 3, 7, tzinfo=UTC))
    assert run == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert run.astimezone(ZoneInfo(ny)).hour == 3
    # 2026-11-01 01:00 happens twice: the run is the first (EDT, 05:00 UTC), and not again an hour later
    run = timing.next_run("weekly", 7, None, 1, ny, dt.datetime(2026, 10, 31, tzinfo=UTC))
    assert run == dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    assert timing.next_run("weekly", 7, None, 1, ny, run) == dt.datetime(2026, 11, 8, 6, 0, tzinfo=UTC)


def test_due_time_is_local_not_utc():
    # Monday 08:00 in Sydney (AEDT, UTC+11) is Sunday 21:00 UTC
    run = timing.next_run("weekly", 1, None, 8, "Australia/Sydney", dt.datetime(2026, 11, 26, tzinfo=UTC))
    assert run == dt.datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    assert timing.local_run_date(run, "Australia/Sydney") == dt.date(2026, 11, 30)
    # the period is the local week before the local run date, not the UTC one
    assert timing.period_for_run("weekly", dt.date(2026, 11, 30)) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
    )


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_periods_are_the_last_complete_week_and_month(run_date):
    start, end = timing.period_for_run("weekly", run_date)
    assert start.isoweekday() == 1 and end.isoweekday() == 7 and (end - start).days == 6
    assert end < run_date and (run_date - end).days <= 7
    start, end = timing.period_for_run("monthly", run_date)
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and end < run_date
    assert (end + dt.timedelta(days=1)) == run_date.replace(day=1)
    assert timing.period_label(start, end) == "month"


def test_named_periods():
    today = dt.date(2026, 11, 26)  # a Thursday
    assert timing.named_period("last_week", today) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert timing.named_period("last_month", today) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert timing.named_period("last_7_days", today) == (dt.date(2026, 11, 19), dt.date(2026, 11, 25))
    assert timing.named_period("month_to_date", today) == (dt.date(2026, 11, 1), dt.date(2026, 11, 25))
    assert timing.named_period("month_to_date", dt.date(2026, 12, 1)) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
    )
    assert timing.describe_period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == "October 2026"
    assert (
        timing.describe_period(dt.date(2026, 11, 16), dt.date(2026, 11, 22))
        == "Week 47, 16 Nov - 22 Nov 2026"
    )


# -- finality -----------------------------------------------------------------------------------------------------
END = dt.date(2026, 11, 22)  # a Sunday; its day ends at 2026-11-23 00:00 in each account's zone


def conn(platform, *, through=END, as_of, status="active", tz="UTC"):
    return timing.ConnectionFacts(f"{platform}-1", platform, f"{platform} acct", status, tz, through, as_of)


def test_google_is_final_15_hours_after_the_day_meta_after_7_days():
    day_end = dt.datetime(2026, 11, 23, tzinfo=UTC)
    g_early = conn("google_ads", as_of=day_end + dt.timedelta(hours=14, minutes=59))
    g_final = conn("google_ads", as_of=day_end + dt.timedelta(hours=15))
    m_early = conn("meta_ads", as_of=day_end + dt.timedelta(days=6, hours=23))
    m_final = conn("meta_ads", as_of=day_end + dt.timedelta(days=7))
    now = day_end + dt.timedelta(days=8)
    assert not timing.finality(END, "UTC", [g_early], now).final
    assert timing.finality(END, "UTC", [g_final], now).final
    assert not timing.finality(END, "UTC", [g_final, m_early], now).final
    f = timing.finality(END, "UTC", [g_final, m_final], now)
    assert f.final and f.final_at == day_end + dt.timedelta(days=7)
    # the account's own zone draws the day boundary: Los Angeles' Sunday ends 8 hours after UTC's
    la = conn("google_ads", as_of=day_end + dt.timedelta(hours=20), tz="America/Los_Angeles")
    assert not timing.finality(END, "UTC", [la], now).final
    la_ok = conn("google_ads", as_of=day_end + dt.timedelta(hours=23), tz="America/Los_Angeles")
    assert timing.finality(END, "UTC", [la_ok], now).final


def test_not_final_without_the_last_day_or_when_broken():
    late = dt.datetime(2026, 12, 31, tzinfo=UTC)
    short = conn("google_ads", through=END - dt.timedelta(days=1), as_of=late)
    f = timing.finality(END, "UTC", [short], late)
    assert not f.final and "synced through 2026-11-21" in f.connections[0]["reasons"][0]
    broken = conn("tiktok_ads", as_of=late, status="broken")
    f = timing.finality(END, "UTC", [broken], late)
    assert not f.final and f.final_at is None and "broken" in f.connections[0]["reasons"][0]
    # no ad-platform connection at all (imported metrics only): nothing to wait for
    assert timing.finality(END, "UTC", [], late).final


@given(st.sampled_from(sorted(timing.FINALITY_LAG_HOURS)), st.integers(0, 400))
def test_finality_is_monotonic_in_sync_time(platform, hours):
    """Syncing later never makes a final period non-final again."""
    day_end = dt.datetime(2026, 11, 23, tzinfo=UTC)
    a = timing.finality(
        END, "UTC", [conn(platform, as_of=day_end + dt.timedelta(hours=hours))], day_end
    ).final
    b = timing.finality(
        END, "UTC", [conn(platform, as_of=day_end + dt.timedelta(hours=hours + 1))], day_end
    ).final
    assert b or not a
    assert a == (hours >= timing.lag_hours(platform))
