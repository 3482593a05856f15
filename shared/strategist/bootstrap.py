"""The one place dependencies are wired: handlers ask here for a unit of work, the key ring, settings.

Imports happen inside each function: a handler that never opens a transaction (a JWT check, the health
probe's settings) does not pay for SQLAlchemy's ORM at cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strategist.config import Settings, get_settings

if TYPE_CHECKING:
    from strategist.adapters.aws.envelope import KmsCipher
    from strategist.adapters.aws.queues import SqsQueue
    from strategist.adapters.crypto import KeyRing
    from strategist.adapters.db.uow import UnitOfWork
    from strategist.adapters.platforms.base import PlatformConnector
    from strategist.domain.auth import Principal


def unit_of_work(*, principal: Principal | None = None, request_id: str | None = None) -> UnitOfWork:
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork

    return UnitOfWork(
        get_sessionmaker(),
        tenant_id=principal.tenant_id if principal else None,
        actor=principal.actor if principal else "anonymous",
        request_id=request_id,
    )


def system_unit_of_work(job: str) -> UnitOfWork:
    """For scheduled jobs and workers, which set the tenant themselves as they go."""
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork

    return UnitOfWork(get_sessionmaker(), actor=f"system:{job}")


def key_ring() -> KeyRing:
    from strategist.adapters.crypto import load_key_ring

    settings = get_settings()
    if not settings.jwt_secret_arn:
        raise RuntimeError("JWT_SECRET_ARN is not set: the signing keys live in Secrets Manager")
    return load_key_ring(settings.jwt_secret_arn)


def settings() -> Settings:
    return get_settings()


def credential_cipher() -> KmsCipher:
    from strategist.adapters.aws.envelope import KmsCipher

    return KmsCipher(get_settings().kms_key_id)


def sync_queue() -> SqsQueue:
    from strategist.adapters.aws.queues import SqsQueue

    return SqsQueue(get_settings().queue_urls.get("sync", ""))


def connect(
    platform: str, credentials: dict[str, Any], *, base_url: str | None, on_refresh: Any
) -> PlatformConnector:
    """The ConnectorFactory port: a real platform client, pointed at the configured API host."""
    from strategist.adapters.platforms import get_connector

    return get_connector(
        platform,
        credentials,
        base_url=base_url or get_settings().platform_api_base_url or None,
        on_credentials_refreshed=on_refresh,
    )
