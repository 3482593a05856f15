"""The safety rules of automated changes (issue 6, optimize slice), pure so they can be property-tested:
caps on change size, cooldowns, who needs to approve what, contradicting directions, minimum-data gates, and the
metric conditions of automation rules. No I/O here: services read settings and history and call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: Defaults a tenant can override in its settings (PATCH /api/v1/tenant, settings.*).
DEFAULT_MAX_CHANGE_PCT = Decimal(30)
DEFAULT_COOLDOWN_HOURS = 72
DEFAULT_APPROVAL_PCT = Decimal(20)
#: Minimum data before any recommendation acts on a campaign.
MIN_DAYS = 7
MIN_CONVERSIONS = 15
#: A pause for "no conversions" needs this many complete days and spend of this many target CPAs.
PAUSE_MIN_DAYS = 14
PAUSE_SPEND_MULTIPLE = 3

METRICS = ("cpa", "roas", "ctr", "cvr", "cpc", "cpm", "spend", "conversions", "revenue")
OPERATORS = (">", ">=", "<", "<=")
#: Action → direction of spend it causes (+1 more, -1 less, 0 none / depends on the value).
ACTION_DIRECTION = {"pause": -1, "enable": 1, "notify": 0}


@dataclass(frozen=True, slots=True)
class Guardrails:
    max_change_pct: Decimal = DEFAULT_MAX_CHANGE_PCT
    cooldown_hours: int = DEFAULT_COOLDOWN_HOURS
    #: a budget raise above this absolute daily amount (campaign currency) needs approval; None: no amount test
    approval_threshold: Decimal | None = None
    #: ... or above this percentage of the current budget; None: no percentage test
    approval_threshold_pct: Decimal | None = DEFAULT_APPROVAL_PCT

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Guardrails:
        s = settings or {}

        def dec(key: str, default: Decimal | None) -> Decimal | None:
            value = s.get(key)
            return default if value is None else Decimal(str(value))

        return cls(
            max_change_pct=dec("max_change_pct", DEFAULT_MAX_CHANGE_PCT) or DEFAULT_MAX_CHANGE_PCT,
            cooldown_hours=int(s.get("cooldown_hours", DEFAULT_COOLDOWN_HOURS)),
            approval_threshold=dec("approval_threshold", None),
            approval_threshold_pct=dec("approval_threshold_pct", DEFAULT_APPROVAL_PCT),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_change_pct": str(self.max_change_pct),
            "cooldown_hours": self.cooldown_hours,
            "approval_threshold": None if self.approval_threshold is None else str(self.approval_threshold),
            "approval_threshold_pct": (
                None if self.approval_threshold_pct is None else str(self.approval_threshold_pct)
            ),
        }


def quantize_money(value: Decimal, exponent: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def cap_budget(before: Decimal, proposed: Decimal, max_change_pct: Decimal, exponent: int = 2) -> Decimal:
    """``proposed`` clamped to before x (1 +- max_change_pct %), rounded to the currency's minor unit inward
    (never past the cap), and never below one minor unit."""
    unit = Decimal(1).scaleb(-exponent)
    hi = before * (1 + max_change_pct / 100)
    lo = before * (1 - max_change_pct / 100)
    value = min(max(proposed, lo), hi)
    q = quantize_money(value, exponent)
    if q > hi:
        q -= unit
    if q < lo:
        q += unit
    return max(q, unit)


def change_pct(before: Decimal, after: Decimal) -> Decimal | None:
    if before == 0:
        return None
    return (after - before) / before * 100


def within_cap(before: Decimal, after: Decimal, max_change_pct: Decimal) -> bool:
    pct = change_pct(before, after)
    return pct is not None and abs(pct) <= max_change_pct


def direction(change: Mapping[str, Any]) -> int:
    """+1 when a change lets the campaign spend more, -1 less, 0 neither."""
    if change.get("action") == "set_status":
        return 1 if change.get("after") == "active" else -1
    if change.get("action") == "set_budget":
        before, after = Decimal(str(change["before"])), Decimal(str(change["after"]))
        return (after > before) - (after < before)
    if (
        change.get("action") == "set_target"
        and change.get("before") not in (None, "")
        and change.get("after")
    ):
        before, after = Decimal(str(change["before"])), Decimal(str(change["after"]))
        moved = (after > before) - (after < before)
        # a higher target CPA lets the bidder spend more; a higher target ROAS makes it spend less
        return moved if change.get("field") == "target_cpa" else -moved
    return 0


def approval_reason(change: Mapping[str, Any], guard: Guardrails) -> str | None:
    """Why a change needs an owner/admin approval, or None. Budget raises above the tenant's thresholds do, and
    so does enabling a paused campaign (its whole budget starts spending again)."""
    if change.get("action") == "set_status" and change.get("after") == "active":
        return "enabling a paused campaign restarts its spend"
    if change.get("action") == "set_target":
        if direction(change) <= 0:
            return None
        before, after = Decimal(str(change["before"])), Decimal(str(change["after"]))
        pct = abs(after / before - 1) * 100
        if guard.approval_threshold_pct is not None and pct > guard.approval_threshold_pct:
            return (
                f"moves the {change.get('field')} toward more spend by {pct.quantize(Decimal('0.1'))} % > the "
                f"approval threshold {guard.approval_threshold_pct} %"
            )
        return None
    if change.get("action") != "set_budget":
        return None
    before, after = Decimal(str(change["before"])), Decimal(str(change["after"]))
    if after <= before:
        return None
    raise_by = after - before
    if guard.approval_threshold is not None and raise_by > guard.approval_threshold:
        return f"raises the daily budget by {raise_by} > the approval threshold {guard.approval_threshold}"
    pct = change_pct(before, after)
    if guard.approval_threshold_pct is not None and (pct is None or pct > guard.approval_threshold_pct):
        shown = "from zero" if pct is None else f"by {pct.quantize(Decimal('0.1'))} %"
        return f"raises the daily budget {shown} > the approval threshold {guard.approval_threshold_pct} %"
    return None


def may_approve(
    approver: str, requested_by: str | None, approver_role_rank: int, admin_rank: int
) -> str | None:
    """None when ``approver`` may approve, else why not: owners/admins only, never the requester."""
    if approver_role_rank < admin_rank:
        return "only an owner or admin may approve"
    if requested_by is not None and approver == requested_by:
        return "the requester cannot approve their own change"
    return None


def cooldown_until(last_change_at: dt.datetime | None, hours: int) -> dt.datetime | None:
    return None if last_change_at is None else last_change_at + dt.timedelta(hours=hours)


def in_cooldown(last_change_at: dt.datetime | None, hours: int, now: dt.datetime) -> bool:
    until = cooldown_until(last_change_at, hours)
    return until is not None and now < until


def contradicts(a: int, b: int) -> bool:
    return a * b < 0


# -- metrics over a window, and the rule condition ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WindowSums:
    days: int
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal

    def metric(self, name: str) -> Decimal | None:
        def ratio(num: Decimal | int, den: Decimal | int, scale: int = 1) -> Decimal | None:
            return None if not den else Decimal(num) * scale / Decimal(den)

        values: dict[str, Decimal | None] = {
            "cpa": ratio(self.spend, self.conversions),
            "roas": ratio(self.revenue, self.spend),
            "ctr": ratio(self.clicks, self.impressions, 100),
            "cvr": ratio(self.conversions, self.clicks, 100),
            "cpc": ratio(self.spend, self.clicks),
            "cpm": ratio(self.spend, self.impressions, 1000),
            "spend": self.spend,
            "conversions": self.conversions,
            "revenue": self.revenue,
        }
        return values[name]


def compare(value: Decimal, operator: str, threshold: Decimal) -> bool:
    return {
        ">": value > threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        "<=": value <= threshold,
    }[operator]


def fmt(value: Decimal | int) -> str:
    """7.000000 -> '7', 12.50 -> '12.5': numbers in messages as a person writes them."""
    d = Decimal(value)
    return format(d.normalize(), "f") if d == d.to_integral_value() or d.as_tuple().exponent < 0 else str(d)


def data_gate(
    sums: WindowSums,
    *,
    window_days: int,
    min_conversions: Decimal,
    min_spend: Decimal = Decimal(0),
    needs_conversions: bool = True,
) -> list[str]:
    """What is missing before a condition over this window may trigger anything (empty: enough data)."""
    missing = []
    if sums.days < window_days:
        missing.append(f"{window_days} days with data in the window (have {sums.days})")
    if needs_conversions and sums.conversions < min_conversions:
        missing.append(
            f"at least {fmt(min_conversions)} conversions in the window (have {fmt(sums.conversions)})"
        )
    if sums.spend < min_spend:
        missing.append(f"at least {fmt(min_spend)} spend in the window (have {fmt(sums.spend)})")
    return missing


def rule_direction(action: str, action_value: Decimal | None, current_budget: Decimal | None = None) -> int:
    if action in ACTION_DIRECTION:
        return ACTION_DIRECTION[action]
    if action == "scale_budget":
        return 0 if action_value is None else (action_value > 0) - (action_value < 0)
    if action == "set_budget" and action_value is not None and current_budget is not None:
        return (action_value > current_budget) - (action_value < current_budget)
    return 0


def rules_may_contradict(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two rules contradict when they may act on the same campaign in the same window in opposite directions.
    ``set_budget`` moves either way depending on the budget at the time, so it contradicts any moving rule."""

    def dirs(rule: Mapping[str, Any]) -> set[int]:
        if rule["action"] == "set_budget":
            return {1, -1}
        d = rule_direction(rule["action"], rule.get("action_value"))
        return {d} if d else set()

    if not any(x * y < 0 for x in dirs(a) for y in dirs(b)):
        return False
    return scopes_overlap(a, b)


def scopes_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.get("client_id") and b.get("client_id") and a["client_id"] != b["client_id"]:
        return False
    if a.get("platform") and b.get("platform") and a["platform"] != b["platform"]:
        return False
    ca, cb = set(a.get("campaign_ids") or []), set(b.get("campaign_ids") or [])
    return not (ca and cb and not ca & cb)
