"""The one place dependencies are wired: handlers ask here for a unit of work, the key ring, settings."""

from __future__ import annotations

from strategist.adapters.crypto import KeyRing, load_key_ring
from strategist.adapters.db.engine import get_sessionmaker
from strategist.adapters.db.uow import UnitOfWork
from strategist.config import Settings, get_settings
from strategist.domain.auth import Principal


def unit_of_work(*, principal: Principal | None = None, request_id: str | None = None) -> UnitOfWork:
    return UnitOfWork(
        get_sessionmaker(),
        tenant_id=principal.tenant_id if principal else None,
        actor=principal.actor if principal else "anonymous",
        request_id=request_id,
    )


def system_unit_of_work(job: str) -> UnitOfWork:
    """For scheduled jobs and workers, which set the tenant themselves as they go."""
    return UnitOfWork(get_sessionmaker(), actor=f"system:{job}")


def key_ring() -> KeyRing:
    settings = get_settings()
    if not settings.jwt_secret_arn:
        raise RuntimeError("JWT_SECRET_ARN is not set: the signing keys live in Secrets Manager")
    return load_key_ring(settings.jwt_secret_arn)


def settings() -> Settings:
    return get_settings()
