"""The local scheduler fires the template's schedules at their rate, compressed by the speed-up, and reads
EventBridge's six-field cron."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.local.scheduler import CronSpec, Scheduler, interval_seconds
from infra.template import Schedule, load_template


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_with_speedup_fires_on_time():
    clock, fired = Clock(), []
    s = Scheduler([Schedule("F", "E", "rate(5 minutes)")], fired.append, speedup=60, clock=clock)
    clock.now += 4.9
    assert s.tick() == 0
    clock.now += 0.1
    assert s.tick() == 1 and len(fired) == 1
    clock.now += 5
    s.tick()
    assert len(fired) == 2 and s.status()["jobs"]["F.E"]["fired"] == 2


def test_failing_job_is_reported_and_retried():
    clock = Clock()

    def boom(_):
        raise RuntimeError("db down")

    s = Scheduler([Schedule("F", "E", "rate(1 minute)")], boom, speedup=60, clock=clock)
    clock.now += 1
    assert s.tick() == 1
    assert "db down" in s.status()["jobs"]["F.E"]["last_error"]
    clock.now += 1
    assert s.tick() == 1


def test_disabled_schedules_do_not_fire():
    s = Scheduler([Schedule("F", "E", "rate(1 minute)", enabled=False)], lambda _: None, clock=Clock())
    assert s.jobs == []


@pytest.mark.parametrize(
    ("expr", "seconds"),
    [("rate(1 minute)", 60), ("rate(15 minutes)", 900), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_rate_parsing(expr, seconds):
    assert interval_seconds(expr) == seconds


def test_cron_matches_eventbridge_semantics():
    cron = CronSpec.parse("cron(17 3 * * ? *)")
    after = cron.next_after(dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC))
    assert after == dt.datetime(2026, 11, 27, 3, 17, tzinfo=dt.UTC)
    weekly = CronSpec.parse("cron(0 8 ? * MON *)")
    nxt = weekly.next_after(dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC))  # a Thursday
    assert nxt == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC) and nxt.weekday() == 0
    stepped = CronSpec.parse("cron(0/15 * * * ? *)")
    assert stepped.next_after(dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)).minute == 15


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_next_after_is_strictly_later_and_matches(t):
    t = t.replace(tzinfo=dt.UTC)
    for expr in ("cron(17 3 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 8 ? * MON-FRI *)"):
        cron = CronSpec.parse(expr)
        nxt = cron.next_after(t)
        assert nxt > t and cron.matches(nxt)
        assert nxt - t <= dt.timedelta(days=4)


def test_every_template_schedule_parses():
    for schedule in load_template().schedules:
        assert interval_seconds(schedule.expression) or CronSpec.parse(schedule.expression)
