"""Ad-platform connections of a client: create (credentials checked against the platform, stored encrypted),
list with health, test, reconnect, delete, and ask for a sync now."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from strategist.adapters.db.models import PlatformConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.adapters.platforms.credentials import parse_credentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    PermanentPlatformError,
    PlatformError,
    TransientPlatformError,
)
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from strategist.domain.platforms import API_PLATFORMS, Platform
from strategist.http.schemas.connections import ConnectionCreate, ConnectionReconnect
from strategist.services import sync_plan
from strategist.services.clients import get_client
from strategist.services.ports import ConnectorFactory, CredentialCipher, MessageQueue


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cipher_context(conn: PlatformConnection) -> dict[str, str]:
    return {"tenant_id": str(conn.tenant_id), "connection_id": str(conn.id)}


def _parse(platform: Platform, raw: dict[str, Any]) -> Any:
    try:
        return parse_credentials(platform, raw)
    except ValidationError as exc:
        problems = [
            FieldProblem("body.credentials." + ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed("credentials are incomplete or malformed", fields=problems) from exc


def get_connection(
    uow: UnitOfWork, principal: Principal, client_id: uuid.UUID, connection_id: uuid.UUID
) -> PlatformConnection:
    get_client(uow, principal, client_id)
    conn = uow.session.scalar(
        select(PlatformConnection).where(
            PlatformConnection.id == connection_id,
            PlatformConnection.client_id == client_id,
            PlatformConnection.deleted_at.is_(None),
        )
    )
    if conn is None:
        raise NotFound("connection not found")
    return conn


def list_connections(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> list[PlatformConnection]:
    get_client(uow, principal, client_id)
    return list(
        uow.session.scalars(
            select(PlatformConnection)
            .where(PlatformConnection.client_id == client_id, PlatformConnection.deleted_at.is_(None))
            .order_by(PlatformConnection.created_at, PlatformConnection.id)
        )
    )


def _verify(
    connectors: ConnectorFactory, conn: PlatformConnection, credentials: dict[str, Any]
) -> tuple[bool, str | None]:
    """Ask the platform who these credentials are. A refusal is the user's input problem (422); a platform
    that is down is not, so the connection is kept and the first sync verifies it."""
    try:
        with connectors(conn.platform, credentials, base_url=conn.base_url, on_refresh=None) as connector:
            account = connector.test_connection()
    except (ConnectionBrokenError, PermanentPlatformError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise ValidationFailed(
            f"the platform refused these credentials: {reason}",
            fields=[FieldProblem("body.credentials", f"refused by {conn.platform}: {reason}")],
        ) from exc
    except (TransientPlatformError, PlatformError) as exc:
        return False, f"could not verify yet ({exc}); the first sync will retry"
    conn.currency = account.currency
    conn.time_zone = account.time_zone
    if account.name and conn.name == conn.account_id:
        conn.name = account.name
    return True, None


def create_connection(
    uow: UnitOfWork,
    principal: Principal,
    client_id: uuid.UUID,
    data: ConnectionCreate,
    *,
    cipher: CredentialCipher,
    connectors: ConnectorFactory,
    queue: MessageQueue,
    base_url: str | None = None,
) -> PlatformConnection:
    principal.require_role(Role.ANALYST)
    get_client(uow, principal, client_id)
    if data.platform not in API_PLATFORMS:
        raise ValidationFailed.one(
            "body.platform",
            f"{data.platform.value} has no reporting API: create its campaigns and import daily metrics instead",
        )
    parsed = _parse(data.platform, data.credentials)
    exists = uow.session.scalar(
        select(PlatformConnection.id).where(
            PlatformConnection.platform == data.platform.value,
            PlatformConnection.account_id == parsed.account_id,
            PlatformConnection.deleted_at.is_(None),
        )
    )
    if exists is not None:
        raise Conflict(f"account {parsed.account_id} on {data.platform.value} is already connected")
    conn = PlatformConnection(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client_id,
        platform=data.platform.value,
        account_id=parsed.account_id,
        name=data.name or parsed.account_id,
        base_url=base_url,
        restatement_days=data.restatement_days,
        backfill_days=data.backfill_days,
        created_by=principal.user_id,
        status="active",
    )
    plaintext = parsed.to_storage()
    verified, note = _verify(connectors, conn, plaintext)
    conn.credentials = cipher.encrypt(plaintext, context=cipher_context(conn))
    conn.last_error = note
    chunks = sync_plan.backfill_chunks(sync_plan.yesterday_in(conn.time_zone), data.backfill_days)
    conn.backfill = {
        "start": chunks[-1].start.isoformat(),
        "end": chunks[0].end.isoformat(),
        "chunks_total": len(chunks),
        "chunks_done": 0,
        "done": [],
        "complete": False,
        "loaded_from": None,
        "queued_at": _now().isoformat(),
    }
    uow.session.add(conn)
    uow.session.flush()
    uow.audit(
        "connection.create",
        "platform_connection",
        conn.id,
        after={"platform": conn.platform, "account_id": conn.account_id, "verified": verified},
    )
    uow.emit(
        "connection.created", {"connection_id": conn.id, "client_id": client_id, "platform": conn.platform}
    )
    messages = [sync_plan.message(conn.tenant_id, conn.id, "backfill", w) for w in chunks]
    uow.after_commit(lambda: queue.send(messages))
    return conn


def reconnect(
    uow: UnitOfWork,
    principal: Principal,
    client_id: uuid.UUID,
    connection_id: uuid.UUID,
    data: ConnectionReconnect,
    *,
    cipher: CredentialCipher,
    connectors: ConnectorFactory,
    queue: MessageQueue,
) -> PlatformConnection:
    """One step back to health: new credentials for the same account, then a sync that closes the gap."""
    principal.require_role(Role.ANALYST)
    conn = get_connection(uow, principal, client_id, connection_id)
    parsed = _parse(Platform(conn.platform), data.credentials)
    if parsed.account_id != conn.account_id:
        raise ValidationFailed.one(
            "body.credentials",
            f"these credentials are for account {parsed.account_id}, not {conn.account_id}",
        )
    plaintext = parsed.to_storage()
    verified, note = _verify(connectors, conn, plaintext)
    before = {"status": conn.status, "broken_reason": conn.broken_reason}
    conn.credentials = cipher.encrypt(plaintext, context=cipher_context(conn))
    conn.status, conn.broken_reason, conn.broken_at, conn.last_error = "active", None, None, note
    conn.updated_at = _now()
    uow.audit(
        "connection.reconnect", "platform_connection", conn.id, before=before, after={"status": "active"}
    )
    uow.emit("connection.reconnected", {"connection_id": conn.id, "verified": verified})
    msg = sync_plan.message(conn.tenant_id, conn.id, "scheduled")
    uow.after_commit(lambda: queue.send([msg]))
    return conn


def test_connection(
    uow: UnitOfWork,
    principal: Principal,
    client_id: uuid.UUID,
    connection_id: uuid.UUID,
    *,
    cipher: CredentialCipher,
    connectors: ConnectorFactory,
) -> tuple[PlatformConnection, dict[str, Any]]:
    principal.require_role(Role.ANALYST)
    conn = get_connection(uow, principal, client_id, connection_id)
    credentials = cipher.decrypt(conn.credentials, context=cipher_context(conn))

    def persist(new_credentials: Any) -> None:
        conn.credentials = cipher.encrypt(new_credentials.to_storage(), context=cipher_context(conn))

    result: dict[str, Any] = {"ok": False}
    try:
        with connectors(conn.platform, credentials, base_url=conn.base_url, on_refresh=persist) as connector:
            account = connector.test_connection()
        result = {
            "ok": True,
            "account_id": account.account_id,
            "account_name": account.name,
            "currency": account.currency,
            "time_zone": account.time_zone,
        }
        if conn.status == "broken":
            conn.status, conn.broken_reason, conn.broken_at = "active", None, None
            uow.emit("connection.recovered", {"connection_id": conn.id})
        conn.currency, conn.time_zone = account.currency, account.time_zone
    except ConnectionBrokenError as exc:
        mark_broken(uow, conn, exc.reason)
        result["error"] = exc.reason
    except PlatformError as exc:
        result["error"] = str(exc)
    uow.audit("connection.test", "platform_connection", conn.id, after={"ok": result["ok"]})
    return conn, result


def mark_broken(uow: UnitOfWork, conn: PlatformConnection, reason: str) -> None:
    if conn.status != "broken":
        conn.status, conn.broken_reason, conn.broken_at = "broken", reason[:2000], _now()
        uow.audit("connection.broken", "platform_connection", conn.id, after={"reason": reason[:500]})
        uow.emit(
            "connection.broken",
            {
                "connection_id": conn.id,
                "client_id": conn.client_id,
                "platform": conn.platform,
                "reason": reason,
            },
        )


def delete_connection(
    uow: UnitOfWork, principal: Principal, client_id: uuid.UUID, connection_id: uuid.UUID
) -> None:
    """Credentials are destroyed; campaigns and their history stay (reports of past periods must still add up)."""
    principal.require_role(Role.ADMIN)
    conn = get_connection(uow, principal, client_id, connection_id)
    conn.deleted_at, conn.status, conn.credentials = _now(), "disconnected", {}
    uow.audit("connection.delete", "platform_connection", conn.id)
    uow.emit("connection.deleted", {"connection_id": conn.id, "client_id": client_id})


def request_sync(
    uow: UnitOfWork,
    principal: Principal,
    client_id: uuid.UUID,
    connection_id: uuid.UUID,
    *,
    queue: MessageQueue,
) -> tuple[PlatformConnection, sync_plan.Window]:
    principal.require_role(Role.ANALYST)
    conn = get_connection(uow, principal, client_id, connection_id)
    if conn.status == "broken":
        raise Conflict(f"the connection is broken ({conn.broken_reason}); reconnect it first")
    window = sync_plan.scheduled_window(
        yesterday=sync_plan.yesterday_in(conn.time_zone),
        restatement_days=conn.restatement_days,
        data_through=conn.data_through,
    )
    msg = sync_plan.message(conn.tenant_id, conn.id, "manual", window)
    uow.after_commit(lambda: queue.send([msg]))
    return conn, window


def missing_data_note(conn: PlatformConnection) -> str | None:
    if conn.status != "broken":
        return None
    since = conn.data_through.isoformat() if conn.data_through else "the start"
    return (
        f"No data after {since}: the connection broke on {conn.broken_at:%Y-%m-%d} ({conn.broken_reason}). "
        "Reconnect to load the missing days."
    )
