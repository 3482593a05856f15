"""Daily clean-up of rows that only matter for a while: expired idempotency keys and refresh tokens, and
outbox rows published long ago (the EventBridge archive keeps the history)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import delete, text

from strategist.adapters.db.models import IdempotencyKey, OutboxEvent, RefreshToken
from strategist.adapters.db.uow import UnitOfWork
from strategist.services import live

OUTBOX_KEEP_DAYS = 7
REFRESH_KEEP_DAYS = 7


def purge_expired(uow_factory: Callable[[], UnitOfWork], *, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or dt.datetime.now(dt.UTC)
    counts = {"idempotency_keys": 0, "refresh_tokens": 0, "outbox": 0, "live_connections": 0}
    with uow_factory() as uow:
        tenants: list[uuid.UUID] = list(uow.session.scalars(text("SELECT system_tenant_ids()")))
    for tenant_id in tenants:
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            s = uow.session
            counts["idempotency_keys"] += s.execute(
                delete(IdempotencyKey).where(IdempotencyKey.expires_at < now)
            ).rowcount
            counts["refresh_tokens"] += s.execute(
                delete(RefreshToken).where(
                    RefreshToken.expires_at < now - dt.timedelta(days=REFRESH_KEEP_DAYS)
                )
            ).rowcount
            counts["outbox"] += s.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.published_at < now - dt.timedelta(days=OUTBOX_KEEP_DAYS)
                )
            ).rowcount
            # issue 8, live updates: WebSocket connections past their expiry (a lost $disconnect)
            counts["live_connections"] += live.purge_expired(uow, now=now)
    return counts
