"""The alert life cycle as a pure state machine (no database, no clock of its own).

One *live* alert exists per (rule, object) at a time: states open, acknowledged and snoozed are live; resolved is
history. The evaluator reports what it saw (``fire`` with fresh evidence or ``clear``); people ``acknowledge``,
``snooze`` (until a time) and ``resolve``. Each change of state is a numbered transition, and only these notify:

- ``opened``: a condition starts firing with no live alert (a new alert);
- ``reopened``: a snoozed alert whose snooze has ended is still firing;
- ``resolved``: the condition cleared by itself (auto-resolve) while the alert was open or acknowledged.

Re-firing while open/acknowledged, or while snoozed before the snooze ends, updates the evidence silently: one
firing notifies once. A snoozed alert whose condition clears is resolved quietly (its owner asked for quiet).
People's own transitions (acknowledge, snooze, manual resolve) are audited but not notified back to them. A
manually resolved alert whose condition still fires comes back as a new alert at the next evaluation: resolving
means "fixed", so a condition that is not fixed is news again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from strategist.domain.errors import Conflict, ValidationFailed

#: The longest snooze one may ask for.
MAX_SNOOZE = dt.timedelta(days=90)


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


LIVE = frozenset({AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED})
#: The transitions that notify the rule's channels.
NOTIFYING = frozenset({"opened", "reopened", "resolved"})


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one event: the new state, the transition's name (None when the state did not change)
    and whether it notifies."""

    state: AlertState | None  # None: there is (still) no live alert
    transition: str | None
    snoozed_until: dt.datetime | None = None

    @property
    def notify(self) -> bool:
        return self.transition in NOTIFYING


def on_fire(state: AlertState | None, snoozed_until: dt.datetime | None, now: dt.datetime) -> Step:
    """The condition holds at ``now``."""
    if state is None or state == AlertState.RESOLVED:
        return Step(AlertState.OPEN, "opened")
    if state == AlertState.SNOOZED:
        if snoozed_until is None or now >= snoozed_until:
            return Step(AlertState.OPEN, "reopened")
        return Step(AlertState.SNOOZED, None, snoozed_until)
    return Step(state, None)


def on_clear(state: AlertState | None, snoozed_until: dt.datetime | None) -> Step:
    """The condition no longer holds: a live alert auto-resolves."""
    if state is None or state == AlertState.RESOLVED:
        return Step(state, None)
    if state == AlertState.SNOOZED:
        return Step(AlertState.RESOLVED, "resolved_quietly")
    return Step(AlertState.RESOLVED, "resolved")


def acknowledge(state: AlertState) -> Step:
    if state == AlertState.ACKNOWLEDGED:
        raise Conflict("the alert is already acknowledged")
    if state == AlertState.RESOLVED:
        raise Conflict("the alert is resolved; nothing to acknowledge")
    return Step(AlertState.ACKNOWLEDGED, "acknowledged")


def snooze(state: AlertState, until: dt.datetime, now: dt.datetime) -> Step:
    if state == AlertState.RESOLVED:
        raise Conflict("the alert is resolved; nothing to snooze")
    if until.tzinfo is None:
        raise ValidationFailed.one("body.until", "must carry a time zone (e.g. 2026-12-01T09:00:00Z)")
    if until <= now:
        raise ValidationFailed.one("body.until", f"must be in the future (now is {now.isoformat()})")
    if until - now > MAX_SNOOZE:
        raise ValidationFailed.one("body.until", f"at most {MAX_SNOOZE.days} days ahead")
    return Step(AlertState.SNOOZED, "snoozed", until)


def resolve(state: AlertState) -> Step:
    if state == AlertState.RESOLVED:
        raise Conflict("the alert is already resolved")
    return Step(AlertState.RESOLVED, "resolved_manually")
