"""Alerts: reading them, people's state changes (acknowledge, snooze, resolve), and applying an evaluation.

The rules of the life cycle are strategist.domain.alert_state; this module persists them: one live alert per
(rule, object) (a partial unique index backs it; evaluations of one rule are serialized by locking the rule row),
every state change audited with the alert's before/after, and each notifying transition handed to the
communications queue once, keyed ``alert:<id>:<transition number>:<transition>``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import select

from strategist.adapters.db.models import Alert, AlertRule, Client
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain import alert_state as sm
from strategist.domain.alert_state import AlertState
from strategist.domain.auth import Principal
from strategist.domain.errors import NotFound
from strategist.http.schemas.alerts import AlertListQuery, AlertNote, AlertOut, AlertSnooze
from strategist.services.alerts.detectors import Finding
from strategist.services.clients import visible_to
from strategist.services.communications import queue_communication

log = logging.getLogger(__name__)

AUDITED = ("state", "severity", "firing", "fire_count", "transitions", "snoozed_until", "acknowledged_by",
           "resolved_by", "title")  # fmt: skip


def _snapshot(alert: Alert) -> dict[str, Any]:
    return jsonable({k: getattr(alert, k) for k in AUDITED})


def get_alert(uow: UnitOfWork, principal: Principal, alert_id: uuid.UUID, *, lock: bool = False) -> Alert:
    stmt = (
        select(Alert)
        .join(Client, Client.id == Alert.client_id)
        .where(Alert.id == alert_id, Client.deleted_at.is_(None))
    )
    alert = uow.session.scalar(stmt.with_for_update(of=Alert) if lock else stmt)
    if alert is None or not principal.can_see_client(alert.client_id):
        raise NotFound("alert not found")
    return alert


def list_alerts(
    uow: UnitOfWork, principal: Principal, query: AlertListQuery
) -> tuple[list[AlertOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = select(Alert).join(Client, Client.id == Alert.client_id).where(Client.deleted_at.is_(None))
    stmt = visible_to(stmt, Alert.client_id, principal, query.client_id)
    for column, value in (
        (Alert.state, query.state),
        (Alert.severity, query.severity),
        (Alert.kind, query.kind),
    ):
        if value is not None:
            stmt = stmt.where(column == value.value)
    if query.rule_id is not None:
        stmt = stmt.where(Alert.rule_id == query.rule_id)
    rows, nxt = keyset_page(
        uow.session, stmt, Alert, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [AlertOut.model_validate(r) for r in rows], nxt


def _record(
    uow: UnitOfWork, alert: Alert, step: sm.Step, before: dict[str, Any], note: str | None = None
) -> None:
    assert step.transition is not None and step.state is not None
    alert.state = step.state.value
    alert.transitions += 1
    alert.updated_at = dt.datetime.now(dt.UTC)
    uow.session.flush()
    after = {**_snapshot(alert), **({"note": note} if note else {})}
    uow.audit(f"alert.{step.transition}", "alert", alert.id, before=before, after=after)
    emit_transition(uow, alert, step.transition)


def emit_transition(uow: UnitOfWork, alert: Alert, transition: str) -> None:
    """The domain event of a transition (alert.opened, .reopened, .acknowledged, .snoozed, .resolved): ids and
    enums only; open dashboards refresh on it (issue 8, live updates)."""
    uow.emit(
        f"alert.{transition}",
        {
            "alert_id": alert.id,
            "client_id": alert.client_id,
            "rule_id": alert.rule_id,
            "severity": alert.severity,
            "kind": alert.kind,
            "state": alert.state,
        },
    )


def acknowledge(uow: UnitOfWork, principal: Principal, alert_id: uuid.UUID, body: AlertNote) -> AlertOut:
    alert = get_alert(uow, principal, alert_id, lock=True)
    before = _snapshot(alert)
    step = sm.acknowledge(AlertState(alert.state))
    alert.acknowledged_at, alert.acknowledged_by = dt.datetime.now(dt.UTC), principal.actor
    alert.snoozed_until = None
    _record(uow, alert, step, before, body.note)
    return AlertOut.model_validate(alert)


def snooze(uow: UnitOfWork, principal: Principal, alert_id: uuid.UUID, body: AlertSnooze) -> AlertOut:
    alert = get_alert(uow, principal, alert_id, lock=True)
    before = _snapshot(alert)
    step = sm.snooze(AlertState(alert.state), body.until, dt.datetime.now(dt.UTC))
    alert.snoozed_until = step.snoozed_until
    _record(uow, alert, step, before, body.note)
    return AlertOut.model_validate(alert)


def resolve(uow: UnitOfWork, principal: Principal, alert_id: uuid.UUID, body: AlertNote) -> AlertOut:
    alert = get_alert(uow, principal, alert_id, lock=True)
    before = _snapshot(alert)
    step = sm.resolve(AlertState(alert.state))
    alert.resolved_at, alert.resolved_by, alert.snoozed_until = dt.datetime.now(dt.UTC), principal.actor, None
    _record(uow, alert, step, before, body.note)
    return AlertOut.model_validate(alert)


# -- applying an evaluation --------------------------------------------------------------------------------------
def live_alerts(uow: UnitOfWork, rule: AlertRule) -> dict[str, Alert]:
    rows = uow.session.scalars(
        select(Alert).where(Alert.rule_id == rule.id, Alert.state != AlertState.RESOLVED.value)
    )
    return {a.object_key: a for a in rows}


def apply_findings(
    uow: UnitOfWork, rule: AlertRule, client: Client, findings: list[Finding], now: dt.datetime
) -> dict[str, int]:
    """Fire, update or resolve the rule's alerts from one evaluation. Objects the rule no longer covers (a
    deleted campaign or connection) clear; unknown findings leave their alert as it is."""
    counts = {"opened": 0, "reopened": 0, "resolved": 0, "updated": 0, "notified": 0}
    live = live_alerts(uow, rule)
    seen = {f.object_key for f in findings}
    for key in live:
        if key not in seen:
            findings.append(
                Finding(key, "clear", evidence={"reason": "the object is no longer in the rule's scope"})
            )
    for f in findings:
        alert = live.get(f.object_key)
        if f.status == "unknown":
            if alert is not None:
                alert.last_evaluated_at = now
            continue
        state = None if alert is None else AlertState(alert.state)
        snoozed_until = None if alert is None else alert.snoozed_until
        if f.status == "firing":
            step = sm.on_fire(state, snoozed_until, now)
            if alert is None:
                alert = Alert(
                    id=uuid.uuid4(), tenant_id=rule.tenant_id, client_id=rule.client_id, rule_id=rule.id,
                    object_key=f.object_key, campaign_id=f.campaign_id, connection_id=f.connection_id,
                    kind=rule.kind, severity=rule.severity, state=AlertState.OPEN.value, title=f.title[:300],
                    message=f.message, evidence=jsonable(f.evidence), firing=True, fire_count=1, transitions=1,
                    first_fired_at=now, last_fired_at=now, last_evaluated_at=now,
                )  # fmt: skip
                uow.session.add(alert)
                uow.session.flush()
                uow.audit("alert.opened", "alert", alert.id, after=_snapshot(alert))
                emit_transition(uow, alert, "opened")
                counts["opened"] += 1
                counts["notified"] += notify(uow, rule, client, alert, "opened")
                continue
            before = _snapshot(alert)
            alert.title, alert.message, alert.evidence = f.title[:300], f.message, jsonable(f.evidence)
            alert.severity = rule.severity
            alert.fire_count += 1 if not alert.firing else 0
            alert.firing, alert.last_fired_at, alert.last_evaluated_at = True, now, now
            if step.transition is None:
                counts["updated"] += 1
                continue
            alert.snoozed_until = None
            _record(uow, alert, step, before)
            counts["reopened"] += 1
            counts["notified"] += notify(uow, rule, client, alert, step.transition)
        else:
            if alert is None:
                continue
            before = _snapshot(alert)
            step = sm.on_clear(state, snoozed_until)
            alert.firing, alert.last_evaluated_at = False, now
            alert.evidence = {**(alert.evidence or {}), "cleared": jsonable(f.evidence)}
            if step.transition is None:
                continue
            alert.resolved_at, alert.resolved_by, alert.snoozed_until = now, "auto", None
            _record(uow, alert, step, before)
            counts["resolved"] += 1
            if step.notify:
                counts["notified"] += notify(uow, rule, client, alert, step.transition)
    return counts


def notify(uow: UnitOfWork, rule: AlertRule, client: Client, alert: Alert, transition: str) -> int:
    """Hand one transition to the communications queue, keyed ``alert:<id>:<n>:<transition>`` (it dedupes on the
    key, so a retried evaluation never sends twice). A channel with no recipient (none on the rule, none configured
    for the client or tenant) is skipped and named in the alert's evidence; a notification that cannot be queued
    never undoes the alert. Returns 1 when queued."""
    from strategist.domain.errors import DomainError
    from strategist.services.communications.queue import classify_recipient, default_recipients

    explicit: dict[str, list[str]] = {}
    for r in rule.recipients:
        kind = classify_recipient(r)
        if kind is not None:
            explicit.setdefault(kind[0], []).append(r)
    channels, skipped = [], []
    for channel in rule.channels:
        if explicit.get(channel) or default_recipients(uow, client.id, channel):
            channels.append(channel)
        else:
            skipped.append(channel)
    record: dict[str, Any] = {"transition": transition, "channels": channels, "skipped_no_recipient": skipped}
    queued = 0
    if channels:
        word = {"opened": "New alert", "reopened": "Alert reopened after snooze", "resolved": "Resolved"}[
            transition
        ]
        subject = f"[{alert.severity.upper()}] {word}: {alert.title}"
        body = (
            f"{client.name}: {alert.title}\n\n"
            + (
                "The condition has cleared and the alert resolved itself.\n\n"
                if transition == "resolved"
                else ""
            )
            + f"{alert.message}\n\nRule: {rule.name} ({rule.kind}, severity {alert.severity}).\n"
            f"Alert id {alert.id}; state {alert.state}."
        )
        recipients = [r for c in channels for r in explicit.get(c, [])]
        try:
            with uow.session.begin_nested():
                record["communication_id"] = queue_communication(
                    uow,
                    client_id=client.id,
                    message_type="alert",
                    subject=subject[:300],
                    body_text=body,
                    channels=channels,
                    recipients=recipients or None,
                    dedupe_key=f"alert:{alert.id}:{alert.transitions}:{transition}",
                    metadata={
                        "alert_id": str(alert.id),
                        "rule_id": str(rule.id),
                        "transition": transition,
                        "severity": alert.severity,
                        "kind": alert.kind,
                    },
                )
            queued = 1
        except DomainError as exc:
            record["error"] = exc.message
            log.warning("alert %s: notification not queued: %s", alert.id, exc.message)
    alert.evidence = {**(alert.evidence or {}), "notification": jsonable(record)}
    return queued
