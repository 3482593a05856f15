"""Live updates: the dashboard's open WebSocket connections and the fan-out of domain events to them.

A connection is registered on ``$connect`` with the principal the authorizer established (tenant, user, role,
client scope), touched on every client message and dropped on ``$disconnect``, on a 410 when pushing, and past its
expiry in housekeeping. :func:`push` sends one committed domain event to the tenant's connections that may see it:
a client-scoped principal (a client viewer) only gets events about its own clients, and events that name no client
go to agency-wide principals only. Messages carry the event type, ids, client_id and occurred_at and nothing else:
the page re-fetches what it shows through the API, which applies the same access rules."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select, update

from strategist.adapters.aws.websocket import ConnectionGone, ConnectionPoster
from strategist.adapters.db.models import LiveConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal

log = logging.getLogger(__name__)

#: concurrent post_to_connection calls per pushed event
POST_CONCURRENCY = 16

#: API Gateway closes a WebSocket connection after two hours at the latest
MAX_CONNECTION_AGE = dt.timedelta(hours=2)

#: the domain events the dashboard listens for (the template's EventBridge rule for the push function lists these)
PUSHED_EVENTS: tuple[str, ...] = (
    "metrics.synced",
    "metrics.imported",
    "alert.opened",
    "alert.reopened",
    "alert.acknowledged",
    "alert.snoozed",
    "alert.resolved",
    "report.generated",
    "report.ready",
    "report.sent",
    "recommendation.approval_requested",
    "recommendation.applied",
    "recommendation.undone",
    "sync.failed",
    "connection.broken",
    "connection.created",
    "connection.deleted",
)

#: events after which a principal's open sockets are closed (deactivated, demoted, re-scoped user; revoked key): the
#: page reconnects with a fresh token and the authorizer decides again
REVOKING_EVENTS: tuple[str, ...] = ("user.updated", "api_key.revoked")

#: detail fields copied into a message: ids and a few small enums, never figures or free text
_SAFE_FIELDS = frozenset({"platform", "severity", "kind", "state", "status"})


class LiveMessage(BaseModel):
    """What a socket receives: enough to know what changed, not what it now says."""

    model_config = ConfigDict(extra="forbid")

    type: str
    event_id: str | None = None
    client_id: str | None = None
    occurred_at: str | None = None
    ids: dict[str, str] = Field(default_factory=dict)
    info: dict[str, str] = Field(default_factory=dict)


def message_for(event_type: str, detail: dict[str, Any]) -> LiveMessage:
    ids = {
        k: str(v)
        for k, v in detail.items()
        if k.endswith("_id") and k not in {"tenant_id", "client_id", "event_id"} and v is not None
    }
    info = {k: str(v) for k, v in detail.items() if k in _SAFE_FIELDS and v is not None and len(str(v)) <= 40}
    client_id = detail.get("client_id")
    event_id = detail.get("event_id")
    return LiveMessage(
        type=event_type,
        event_id=None if event_id is None else str(event_id),
        client_id=None if client_id is None else str(client_id),
        occurred_at=detail.get("occurred_at"),
        ids=ids,
        info=info,
    )


def may_receive(client_ids: list[uuid.UUID] | None, event_client: uuid.UUID | None) -> bool:
    """An agency-wide principal (no client scope) receives every event of its tenant; a client-scoped one only
    events about one of its clients."""
    if client_ids is None:
        return True
    return event_client is not None and event_client in client_ids


# -- connections -------------------------------------------------------------------------------------------------
def register(
    uow: UnitOfWork,
    principal: Principal,
    connection_id: str,
    *,
    endpoint: str,
    source_ip: str | None = None,
    user_agent: str | None = None,
    now: dt.datetime | None = None,
) -> LiveConnection:
    now = now or dt.datetime.now(dt.UTC)
    uow.set_tenant(principal.tenant_id)
    row = LiveConnection(
        connection_id=connection_id,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        role=principal.role.value,
        client_ids=None if principal.client_ids is None else sorted(principal.client_ids),
        endpoint=endpoint[:500],
        source_ip=(source_ip or None) and source_ip[:64],
        user_agent=(user_agent or None) and user_agent[:500],
        connected_at=now,
        last_seen_at=now,
        expires_at=now + MAX_CONNECTION_AGE,
    )
    uow.session.merge(row)
    return row


def touch(
    uow: UnitOfWork, tenant_id: uuid.UUID, connection_id: str, *, now: dt.datetime | None = None
) -> bool:
    uow.set_tenant(tenant_id)
    result = uow.session.execute(
        update(LiveConnection)
        .where(LiveConnection.connection_id == connection_id)
        .values(last_seen_at=now or dt.datetime.now(dt.UTC))
    )
    return bool(result.rowcount)


def unregister(uow: UnitOfWork, tenant_id: uuid.UUID, connection_id: str) -> bool:
    uow.set_tenant(tenant_id)
    result = uow.session.execute(delete(LiveConnection).where(LiveConnection.connection_id == connection_id))
    return bool(result.rowcount)


def purge_expired(uow: UnitOfWork, *, now: dt.datetime | None = None) -> int:
    """Rows past their expiry in the unit of work's tenant (a lost $disconnect leaves them behind)."""
    now = now or dt.datetime.now(dt.UTC)
    return int(uow.session.execute(delete(LiveConnection).where(LiveConnection.expires_at < now)).rowcount)


# -- push --------------------------------------------------------------------------------------------------------
@dataclass
class PushReport:
    event_type: str
    sent: int = 0
    gone: int = 0
    failed: int = 0
    skipped: int = 0
    gone_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "sent": self.sent,
            "gone": self.gone,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def push(
    uow_factory: Callable[[], UnitOfWork],
    poster: ConnectionPoster,
    event_type: str,
    detail: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> PushReport:
    """Send one domain event to every live connection of its tenant allowed to see it; forget gone ones. A failed
    send to one connection does not stop the others (and is not retried: the page refreshes on the next event or
    on focus)."""
    report = PushReport(event_type)
    tenant_id = _uuid(detail.get("tenant_id"))
    if tenant_id is not None and event_type in REVOKING_EVENTS:
        return _revoke(uow_factory, poster, tenant_id, event_type, detail, report)
    if tenant_id is None or event_type not in PUSHED_EVENTS:
        return report
    now = now or dt.datetime.now(dt.UTC)
    event_client = _uuid(detail.get("client_id"))
    data = json.dumps(message_for(event_type, detail).model_dump(exclude_none=True)).encode()
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        rows = list(
            uow.session.execute(
                select(
                    LiveConnection.connection_id, LiveConnection.endpoint, LiveConnection.client_ids
                ).where(LiveConnection.tenant_id == tenant_id, LiveConnection.expires_at >= now)
            )
        )
    targets = [(cid, endpoint) for cid, endpoint, client_ids in rows if may_receive(client_ids, event_client)]
    report.skipped = len(rows) - len(targets)

    def send(target: tuple[str, str]) -> str:
        connection_id, endpoint = target
        try:
            poster.post(endpoint, connection_id, data)
            return "sent"
        except ConnectionGone:
            return "gone"
        except Exception:
            log.exception("push to %s failed", connection_id)
            return "failed"

    # Each post is an HTTPS call on AWS: a few at once, so a tenant with many open pages is not served serially.
    with ThreadPoolExecutor(max_workers=max(1, min(POST_CONCURRENCY, len(targets)))) as pool:
        outcomes = list(pool.map(send, targets))
    for (connection_id, _endpoint), outcome in zip(targets, outcomes, strict=True):
        if outcome == "sent":
            report.sent += 1
        elif outcome == "gone":
            report.gone += 1
            report.gone_ids.append(connection_id)
        else:
            report.failed += 1
    if report.gone_ids:
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            uow.session.execute(
                delete(LiveConnection).where(LiveConnection.connection_id.in_(report.gone_ids))
            )
    return report


def _revoke(
    uow_factory: Callable[[], UnitOfWork],
    poster: ConnectionPoster,
    tenant_id: uuid.UUID,
    event_type: str,
    detail: dict[str, Any],
    report: PushReport,
) -> PushReport:
    column = LiveConnection.user_id if event_type == "user.updated" else LiveConnection.api_key_id
    subject = _uuid(detail.get("user_id") if event_type == "user.updated" else detail.get("api_key_id"))
    if subject is None:
        return report
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        rows = list(
            uow.session.execute(
                delete(LiveConnection)
                .where(column == subject)
                .returning(LiveConnection.connection_id, LiveConnection.endpoint)
            )
        )
    for connection_id, endpoint in rows:
        try:
            poster.close(endpoint, connection_id)
            report.gone += 1
        except Exception:
            report.failed += 1
            log.exception("closing %s failed", connection_id)
    return report
