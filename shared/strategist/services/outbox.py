"""The outbox relay: publishes committed domain events to the EventBridge bus, at least once, in order per tenant.

Events are written in the same transaction as the change they describe (UnitOfWork.emit). The relay claims a
batch with FOR UPDATE SKIP LOCKED, so overlapping runs never publish the same row concurrently, and marks rows
published only after PutEvents accepted them; a failed entry stays pending with its error and is retried.
Consumers dedupe on the event id (`detail.event_id`)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, text

from strategist.adapters.db.models import OutboxEvent
from strategist.adapters.db.uow import UnitOfWork

SOURCE = "marketing-strategist"
PUT_EVENTS_MAX = 10  # EventBridge accepts at most 10 entries per PutEvents call


class EventPublisher(Protocol):
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...


@dataclass
class RelayReport:
    published: int = 0
    failed: int = 0
    tenants: int = 0


def _entry(event: OutboxEvent, bus: str) -> dict[str, Any]:
    detail = {**event.detail, "event_id": event.id, "occurred_at": event.created_at.isoformat()}
    return {
        "Source": SOURCE,
        "DetailType": event.event_type,
        "Detail": json.dumps(detail, default=str),
        "EventBusName": bus,
        "Time": event.created_at,
    }


def relay(
    uow_factory: Callable[[], UnitOfWork], publisher: EventPublisher, bus: str, *, batch: int = 100
) -> RelayReport:
    report = RelayReport()
    with uow_factory() as uow:
        tenants: list[uuid.UUID] = list(uow.session.scalars(text("SELECT outbox_pending_tenants()")))
    for tenant_id in tenants:
        report.tenants += 1
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            events = list(
                uow.session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for start in range(0, len(events), PUT_EVENTS_MAX):
                chunk = events[start : start + PUT_EVENTS_MAX]
                try:
                    result = publisher.put_events(Entries=[_entry(e, bus) for e in chunk])
                    outcomes = result.get("Entries", [])
                except Exception as exc:  # the bus is down: keep every row pending, record why
                    outcomes = [{"ErrorCode": type(exc).__name__, "ErrorMessage": str(exc)[:500]}] * len(
                        chunk
                    )
                now = dt.datetime.now(dt.UTC)
                for event, outcome in zip(chunk, outcomes, strict=False):
                    event.attempts += 1
                    if outcome.get("EventId") and not outcome.get("ErrorCode"):
                        event.published_at = now
                        event.last_error = None
                        report.published += 1
                    else:
                        event.last_error = f"{outcome.get('ErrorCode')}: {outcome.get('ErrorMessage')}"
                        report.failed += 1
    return report
