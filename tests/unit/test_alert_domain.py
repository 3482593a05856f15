"""The alert life cycle as a hypothesis state machine, the pacing band and curve, and the detectors on exact
series (no database)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from strategist.domain import alert_state as sm
from strategist.domain import pacing
from strategist.domain.alert_state import AlertState
from strategist.domain.errors import Conflict, ValidationFailed
from strategist.services.alerts import detectors as det

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


class AlertLifecycle(RuleBasedStateMachine):
    """Drive one (rule, object) with evaluations and people's actions; check dedup and notify-once."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.state: AlertState | None = None
        self.until: dt.datetime | None = None
        self.alerts_created = 0
        self.notifications: list[str] = []
        self.firing_streak_notified = False  # a notification was sent during the current firing streak
        self.last_fire_notified = 0

    def _apply(self, step: sm.Step) -> None:
        if step.transition == "opened":
            self.alerts_created += 1
        if step.notify:
            self.notifications.append(step.transition or "")
        self.state, self.until = step.state, step.snoozed_until

    @rule(minutes=st.integers(1, 600))
    def tick(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)

    @rule()
    def fire(self) -> None:
        before = self.state
        step = sm.on_fire(self.state, self.until, self.now)
        if before in {AlertState.OPEN, AlertState.ACKNOWLEDGED}:
            assert step.transition is None and not step.notify  # re-firing updates, never notifies again
        if before == AlertState.SNOOZED and self.until is not None and self.now < self.until:
            assert step.state == AlertState.SNOOZED and not step.notify
        self._apply(step)
        assert self.state in sm.LIVE

    @rule()
    def clear(self) -> None:
        before = self.state
        step = sm.on_clear(self.state, self.until)
        self._apply(step)
        if before in sm.LIVE:
            assert self.state == AlertState.RESOLVED
            assert step.notify == (before != AlertState.SNOOZED)
        else:
            assert step.transition is None

    @precondition(lambda self: self.state is not None)
    @rule()
    def acknowledge(self) -> None:
        if self.state in {AlertState.ACKNOWLEDGED, AlertState.RESOLVED}:
            with pytest.raises(Conflict):
                sm.acknowledge(self.state)
            return
        step = sm.acknowledge(self.state)
        assert not step.notify
        self._apply(step)

    @precondition(lambda self: self.state is not None)
    @rule(hours=st.integers(-5, 24 * 100))
    def snooze(self, hours: int) -> None:
        until = self.now + dt.timedelta(hours=hours)
        if self.state == AlertState.RESOLVED:
            with pytest.raises(Conflict):
                sm.snooze(self.state, until, self.now)
            return
        if hours <= 0 or dt.timedelta(hours=hours) > sm.MAX_SNOOZE:
            with pytest.raises(ValidationFailed):
                sm.snooze(self.state, until, self.now)
            return
        self._apply(sm.snooze(self.state, until, self.now))
        assert self.state == AlertState.SNOOZED and self.until == until

    @precondition(lambda self: self.state is not None)
    @rule()
    def resolve(self) -> None:
        if self.state == AlertState.RESOLVED:
            with pytest.raises(Conflict):
                sm.resolve(self.state)
            return
        step = sm.resolve(self.state)
        assert not step.notify
        self._apply(step)

    @invariant()
    def notifications_follow_transitions(self) -> None:
        # every opened alert notified exactly once at opening; nothing else notifies but reopen/auto-resolve
        assert self.notifications.count("opened") == self.alerts_created
        assert set(self.notifications) <= {"opened", "reopened", "resolved"}
        # never two notifications of the same kind in a row without a state change between them
        for a, b in zip(self.notifications, self.notifications[1:], strict=False):
            assert not (a == b == "reopened")


TestAlertLifecycle = AlertLifecycle.TestCase
TestAlertLifecycle.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


@given(st.integers(28, 31), st.floats(1, 50), st.floats(0.1, 1))
def test_pacing_band_narrows_toward_month_end(days, start, end_share):
    end = start * end_share
    band = [pacing.tolerance_pct(k, days, start, end) for k in range(days + 1)]
    assert band[0] == pytest.approx(start, abs=1e-4) and band[-1] == pytest.approx(end, abs=1e-4)
    assert all(b1 >= b2 for b1, b2 in itertools.pairwise(band))


@given(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 1)).map(lambda d: d.replace(day=1)),
       st.lists(st.floats(0.2, 3), min_size=7, max_size=7))  # fmt: skip
def test_expected_curve_is_monotone_from_zero_to_one(month, profile):
    n = len(pacing.month_days(month))
    for prof in (None, profile):
        shares = [pacing.expected_share(month, k, prof) for k in range(n + 1)]
        assert shares[0] == 0 and shares[-1] == pytest.approx(1)
        assert all(a <= b for a, b in itertools.pairwise(shares))


def test_weekday_profile_moves_the_expected_curve():
    month = dt.date(2026, 11, 1)  # a Sunday
    weekend_light = [1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.5]
    # after the first day (a Sunday) less is expected than linear when weekends spend less
    assert pacing.expected_share(month, 1, weekend_light) < pacing.expected_share(month, 1)
    a = pacing.assess(
        target=3000, month_start=month, elapsed_days=15, spend_to_date=1500, recent_daily=[100] * 14
    )
    assert a.status == "on_track" and a.expected_to_date == 1500 and a.tolerance_pct == 10.0
    assert a.projected_p50 == a.projected_p10 == a.projected_p90 == 3000
    over = pacing.assess(
        target=3000, month_start=month, elapsed_days=15, spend_to_date=1700, recent_daily=[100, 140]
    )
    assert over.status == "over" and over.projected_p10 < over.projected_p50 < over.projected_p90
    # the same 12 % overspend is within the band early in the month and outside it late
    early = pacing.assess(target=3000, month_start=month, elapsed_days=3, spend_to_date=336, recent_daily=[])
    late = pacing.assess(target=3000, month_start=month, elapsed_days=27, spend_to_date=3024, recent_daily=[])
    assert early.status == "on_track" and late.status == "over"
    assert pacing.assess(target=3000, month_start=month, elapsed_days=0, spend_to_date=0,
                         recent_daily=[]).status == "too_early"  # fmt: skip


def _flat(days: int, today: dt.date, **v) -> det.Daily:
    base = {"cost": 100.0, "impressions": 5000.0, "clicks": 100.0, "conversions": 5.0, "revenue": 250.0, **v}
    return {today - dt.timedelta(days=i): det.DayTotals(**base) for i in range(1, days + 1)}


def test_tracking_stopped_needs_steady_conversions_and_clicks():
    today = dt.date(2026, 11, 20)
    daily = _flat(40, today)
    for i in (1, 2):
        daily[today - dt.timedelta(days=i)] = det.DayTotals(100, 5000, 100, 0, 0)
    assert det.tracking_stopped(daily, params={}, today=today, object_key="k", label="c").status == "firing"
    assert (
        det.tracking_stopped(daily, params={"days": 3}, today=today, object_key="k", label="c").status
        == "clear"
    )
    few_clicks = det.tracking_stopped(daily, params={"min_clicks_per_day": 500}, today=today, object_key="k",
                                      label="c")  # fmt: skip
    assert few_clicks.status == "clear"
    sparse = {d: (v if d.day % 3 else det.DayTotals(100, 5000, 100, 0, 0)) for d, v in daily.items()}
    assert det.tracking_stopped(sparse, params={}, today=today, object_key="k", label="c").status == "clear"
    del daily[today - dt.timedelta(days=1)]
    assert det.tracking_stopped(daily, params={}, today=today, object_key="k", label="c").status == "unknown"


def test_threshold_ratio_of_sums_and_min_denominator():
    today = dt.date(2026, 11, 20)
    daily = _flat(7, today, cost=100.0, conversions=4.0)
    f = det.threshold(daily, params={"metric": "cpa", "comparator": "gt", "value": 20, "window_days": 7},
                      today=today, object_key="k", label="c", currency="EUR")  # fmt: skip
    assert f.status == "firing" and f.evidence["observed"] == 25.0 and "25.00 EUR" in f.message
    gated = det.threshold(daily, params={"metric": "cpa", "comparator": "gt", "value": 20, "window_days": 7,
                                         "min_denominator": 100}, today=today, object_key="k", label="c",
                          currency="EUR")  # fmt: skip
    assert gated.status == "unknown"


def test_anomaly_fires_on_a_spike_and_states_the_band():
    today = dt.date(2026, 11, 20)
    daily = {d: det.DayTotals(100 + (d.toordinal() % 7) * 3, 5000, 100, 5, 250) for d in _flat(90, today)}
    yesterday = today - dt.timedelta(days=1)
    daily[yesterday] = det.DayTotals(400, 5000, 100, 5, 250)
    f = det.anomaly(daily, metric="cost", threshold=5, direction="both", today=today, object_key="k", label="c",
                    currency="USD")  # fmt: skip
    assert f.status == "firing" and f.evidence["judged_day"] == yesterday and f.evidence["observed"] == 400
    lo, hi = f.evidence["band"]
    assert lo < f.evidence["expected"] < hi < 400
    down_only = det.anomaly(daily, metric="cost", threshold=5, direction="down", today=today, object_key="k",
                            label="c", currency="USD")  # fmt: skip
    assert down_only.status == "clear"
    # conversions are judged SETTLE_DAYS further back (recent days are early estimates)
    conv = det.anomaly(daily, metric="conversions", threshold=5, direction="both", today=today, object_key="k",
                       label="c", currency="USD")  # fmt: skip
    assert conv.evidence["judged_day"] == today - dt.timedelta(days=1 + det.SETTLE_DAYS)
