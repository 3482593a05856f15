"""What the Lambda authorizer runs on every request: verify a JWT (then one look-up: is its user still active, in
the same role?) or an API key (one look-up).

Kept apart from the sign-in service so a JWT-authorized request never imports SQLAlchemy or argon2."""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from typing import TYPE_CHECKING

from strategist.adapters import crypto
from strategist.config import Settings
from strategist.domain.auth import Principal, Role, Scope
from strategist.domain.errors import NotAuthenticated

if TYPE_CHECKING:
    from strategist.adapters.db.uow import UnitOfWork

#: last_used_at is for people ("is this key still in use?"), so minute resolution is plenty.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise NotAuthenticated("missing Authorization header")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated("Authorization must be 'Bearer <token>'")
    return value.strip()


def principal_from_jwt(ring: crypto.KeyRing, settings: Settings, token: str) -> Principal:
    try:
        claims = crypto.decode_access_token(
            ring, token, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        cids = claims.get("cids", "*")
        return Principal(
            tenant_id=uuid.UUID(claims["tid"]),
            user_id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            client_ids=None if cids == "*" else frozenset(uuid.UUID(c) for c in cids),
            scopes=frozenset(Scope),
            auth_type="jwt",
        )
    except crypto.InvalidToken as exc:
        raise NotAuthenticated(str(exc)) from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise NotAuthenticated("invalid token claims") from exc


def require_current_user(uow: UnitOfWork, principal: Principal) -> None:
    """A signed token is not enough: its user must still exist, be active and hold the role the token names. A
    user deactivated, deleted or demoted since sign-in is refused at once, not when the token expires."""
    from sqlalchemy import select

    from strategist.adapters.db.models import User

    uow.set_tenant(principal.tenant_id)
    row = uow.session.execute(
        select(User.is_active, User.role).where(
            User.id == principal.user_id, User.tenant_id == principal.tenant_id
        )
    ).first()
    if row is None or not row.is_active:
        raise NotAuthenticated("user is no longer active")
    if row.role != principal.role.value:
        raise NotAuthenticated("the user's role has changed; sign in again")


def principal_from_api_key(uow: UnitOfWork, key: str) -> Principal:
    from sqlalchemy import text, update

    from strategist.adapters.db.models import ApiKey

    prefix = crypto.parse_api_key(key)
    if prefix is None:
        raise NotAuthenticated("malformed API key")
    row = (
        uow.session.execute(text("SELECT * FROM auth_api_key_by_prefix(:p)"), {"p": prefix})
        .mappings()
        .first()
    )
    if row is None or not hmac.compare_digest(row["key_hash"].encode(), crypto.sha256_hex(key).encode()):
        raise NotAuthenticated("API key is not valid")
    if row["revoked_at"] is not None:
        raise NotAuthenticated("API key has been revoked")
    now = dt.datetime.now(dt.UTC)
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise NotAuthenticated("API key has expired")
    uow.set_tenant(row["tenant_id"])
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
        uow.session.execute(update(ApiKey).where(ApiKey.id == row["id"]).values(last_used_at=now))
    return Principal(
        tenant_id=row["tenant_id"],
        user_id=None,
        role=Role(row["role"]),
        client_ids=None if row["client_ids"] is None else frozenset(row["client_ids"]),
        scopes=frozenset(Scope(s) for s in row["scopes"]),
        auth_type="api_key",
        api_key_id=row["id"],
    )
