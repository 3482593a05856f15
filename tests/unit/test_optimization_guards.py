"""The guardrails of automated changes as properties (issue 6): caps never exceeded, cooldowns hold, approvals are
never self-granted nor granted below admin, raises above the thresholds always need approval, contradicting rule
pairs are symmetric, and data gates refuse thin windows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from strategist.domain import optimization as dom

money = st.decimals(min_value=Decimal("1"), max_value=Decimal("100000"), places=2)
pct = st.decimals(min_value=Decimal("1"), max_value=Decimal("100"), places=1)


@given(
    before=money,
    proposed=st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2),
    cap=pct,
)
def test_cap_is_never_exceeded(before, proposed, cap):
    after = dom.cap_budget(before, proposed, cap)
    assert after > 0
    if cap < 100:
        assert dom.within_cap(before, after, cap)
    if dom.within_cap(before, proposed, cap) and proposed >= Decimal("0.01"):
        assert after == proposed.quantize(Decimal("0.01"))  # inside the cap nothing is changed


@given(
    last=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 1)),
    hours=st.integers(0, 720),
    later=st.integers(0, 2000),
)
def test_cooldown_holds_exactly_for_its_hours(last, hours, later):
    now = last + dt.timedelta(minutes=later * 30)
    assert dom.in_cooldown(last, hours, now) == (now < last + dt.timedelta(hours=hours))
    assert not dom.in_cooldown(None, hours, now)


@given(
    actor=st.sampled_from(["user:a", "user:b", "api_key:k"]),
    requester=st.sampled_from(["user:a", "user:b", "api_key:k", None]),
    rank=st.integers(0, 3),
)
def test_approval_is_never_self_granted_nor_below_admin(actor, requester, rank):
    why = dom.may_approve(actor, requester, rank, 2)
    if rank < 2 or actor == requester:
        assert why is not None
    else:
        assert why is None


@given(
    before=money,
    raise_pct=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("100"), places=1),
    threshold=pct,
)
def test_raises_above_the_threshold_need_approval_and_cuts_never_do(before, raise_pct, threshold):
    guard = dom.Guardrails(approval_threshold=None, approval_threshold_pct=threshold)
    after = before * (1 + raise_pct / 100)
    change = {"action": "set_budget", "before": str(before), "after": str(after)}
    assert (dom.approval_reason(change, guard) is not None) == (raise_pct > threshold)
    cut = {"action": "set_budget", "before": str(after), "after": str(before)}
    assert dom.approval_reason(cut, guard) is None
    absolute = dom.Guardrails(approval_threshold=Decimal("0"), approval_threshold_pct=None)
    assert dom.approval_reason(change, absolute) is not None
    assert dom.approval_reason({"action": "set_status", "after": "active"}, guard) is not None
    assert dom.approval_reason({"action": "set_status", "after": "paused"}, guard) is None


rule = st.fixed_dictionaries(
    {
        "client_id": st.sampled_from([None, "c1", "c2"]),
        "platform": st.sampled_from([None, "google_ads", "meta_ads"]),
        "campaign_ids": st.lists(st.sampled_from(["x", "y", "z"]), max_size=2),
        "action": st.sampled_from(["pause", "enable", "scale_budget", "set_budget", "notify"]),
        "action_value": st.sampled_from([Decimal(-20), Decimal(15), None]),
    }
)


@given(a=rule, b=rule)
def test_contradiction_is_symmetric_and_needs_overlap_and_opposite_moves(a, b):
    assert dom.rules_may_contradict(a, b) == dom.rules_may_contradict(b, a)
    if a["action"] == "notify" or b["action"] == "notify":
        assert not dom.rules_may_contradict(a, b)
    if a["client_id"] and b["client_id"] and a["client_id"] != b["client_id"]:
        assert not dom.rules_may_contradict(a, b)
    same = {**a}
    assert not (dom.rules_may_contradict(a, same) and a["action"] != "set_budget")


@given(
    days=st.integers(0, 30),
    conversions=st.integers(0, 100),
    window=st.integers(1, 30),
    need=st.integers(0, 50),
)
def test_data_gate_refuses_thin_windows(days, conversions, window, need):
    sums = dom.WindowSums(days, Decimal(100), 1000, 10, Decimal(conversions), Decimal(0))
    missing = dom.data_gate(sums, window_days=window, min_conversions=Decimal(need))
    assert (missing == []) == (days >= window and conversions >= need)
