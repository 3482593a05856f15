"""The unit of work: one transaction, scoped to one tenant for row-level security, that also writes the audit
log and the outbox, so a mutation, its audit row and its domain event commit or vanish together."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, Self

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from strategist.adapters.db.models import AuditLog, OutboxEvent

log = logging.getLogger(__name__)


def jsonable(value: Any) -> Any:
    return to_jsonable_python(value)


class UnitOfWork:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        tenant_id: uuid.UUID | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self.actor = actor
        self.request_id = request_id
        self.session: Session
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Self:
        self.session = self._sessions()
        self.session.begin()
        if self.tenant_id is not None:
            self.set_tenant(self.tenant_id)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        committed = False
        try:
            if exc_type is None and self.session.in_transaction():
                self.session.commit()
                committed = True
            else:
                self.session.rollback()
        finally:
            self.session.close()
        if committed:
            for action in self._after_commit:
                try:
                    action()
                except Exception:  # committed work stands; the hourly job catches up on a missed nudge
                    log.exception("after-commit action failed")

    def after_commit(self, action: Callable[[], None]) -> None:
        """Side effects that must not happen unless the transaction commits (e.g. nudging a worker via SQS).
        They are best effort: anything that must not be lost goes through the outbox instead."""
        self._after_commit.append(action)

    def set_tenant(self, tenant_id: uuid.UUID) -> None:
        """SET LOCAL cannot take a bind parameter; set_config(..., is_local => true) is the same thing."""
        self.tenant_id = tenant_id
        self.session.execute(select(func.set_config("app.tenant_id", str(tenant_id), True)))

    def commit(self) -> None:
        self.session.commit()
        self.session.begin()
        if self.tenant_id is not None:
            self.set_tenant(self.tenant_id)

    def rollback(self) -> None:
        self.session.rollback()

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: object | None,
        *,
        before: Any = None,
        after: Any = None,
    ) -> None:
        assert self.tenant_id is not None, "audit needs a tenant"
        self.session.add(
            AuditLog(
                tenant_id=self.tenant_id,
                actor=self.actor,
                action=action,
                entity_type=entity_type,
                entity_id=None if entity_id is None else str(entity_id),
                before=jsonable(before),
                after=jsonable(after),
                request_id=self.request_id,
            )
        )

    def emit(self, event_type: str, detail: dict[str, Any]) -> None:
        """Queue a domain event; the outbox relay publishes it to EventBridge after commit."""
        assert self.tenant_id is not None, "events belong to a tenant"
        self.session.add(
            OutboxEvent(
                tenant_id=self.tenant_id,
                event_type=event_type,
                detail=jsonable({"tenant_id": self.tenant_id, **detail}),
            )
        )
