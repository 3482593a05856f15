"""Log-in, token refresh, API keys and the verification the Lambda authorizer runs on every request."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text, update

from strategist.adapters import crypto
from strategist.adapters.db.models import ApiKey, RefreshToken, User
from strategist.adapters.db.uow import UnitOfWork
from strategist.config import Settings
from strategist.domain.auth import ROLE_RANK, Principal, Role, Scope
from strategist.domain.errors import Forbidden, NotAuthenticated, NotFound, ValidationFailed
from strategist.services.clients import require_clients_exist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_at: dt.datetime
    expires_in: int
    refresh_token: str
    role: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _user_client_ids(role: str, client_ids: list[uuid.UUID] | None) -> list[str] | str:
    return [str(c) for c in client_ids or []] if role == Role.CLIENT_VIEWER else "*"


def _issue(
    uow: UnitOfWork,
    ring: crypto.KeyRing,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: str,
    client_ids: list[uuid.UUID] | None,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    access, expires = crypto.encode_access_token(
        ring,
        {
            "sub": str(user_id),
            "tid": str(tenant_id),
            "role": role,
            "cids": _user_client_ids(role, client_ids),
        },
        ttl_s=settings.access_token_ttl_s,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    refresh = crypto.new_opaque_token()
    uow.session.add(
        RefreshToken(
            tenant_id=tenant_id,
            user_id=user_id,
            token_hash=crypto.sha256_hex(refresh),
            family_id=family_id or uuid.uuid4(),
            expires_at=_now() + dt.timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    return TokenPair(access, expires, settings.access_token_ttl_s, refresh, role, tenant_id, user_id)


def login(
    uow: UnitOfWork, ring: crypto.KeyRing, settings: Settings, *, email: str, password: str
) -> TokenPair:
    row = uow.session.execute(text("SELECT * FROM auth_user_by_email(:e)"), {"e": email}).mappings().first()
    ok = crypto.verify_password(row["password_hash"] if row else None, password)
    if not row:
        # no tenant to hold an audit row: a log line with a hash of the address (never the address itself)
        log.warning(
            "sign-in refused: unknown e-mail", extra={"email_sha256": crypto.sha256_hex(email.lower())}
        )
        raise NotAuthenticated("e-mail or password is wrong")
    if not ok or not row["is_active"]:
        _audit_refusal(
            uow, row["tenant_id"], row["id"], "auth.login_failed", "wrong_password" if not ok else "inactive"
        )
        raise NotAuthenticated("e-mail or password is wrong")
    uow.set_tenant(row["tenant_id"])
    uow.actor = f"user:{row['id']}"
    uow.session.execute(update(User).where(User.id == row["id"]).values(last_login_at=_now()))
    uow.audit("auth.login", "user", row["id"])
    return _issue(
        uow,
        ring,
        settings,
        user_id=row["id"],
        tenant_id=row["tenant_id"],
        role=row["role"],
        client_ids=row["client_ids"],
    )


def refresh(uow: UnitOfWork, ring: crypto.KeyRing, settings: Settings, *, refresh_token: str) -> TokenPair:
    """Rotate: each refresh token works once. Presenting a used one again means it leaked, so the whole family
    is revoked (RFC 6819 §5.2.2.3)."""
    token_hash = crypto.sha256_hex(refresh_token)
    row = (
        uow.session.execute(text("SELECT * FROM auth_refresh_token(:h)"), {"h": token_hash})
        .mappings()
        .first()
    )
    if row is None:
        raise NotAuthenticated("refresh token is not valid")
    uow.set_tenant(row["tenant_id"])
    uow.actor = f"user:{row['user_id']}"  # the token's holder, whoever presents it
    if row["revoked_at"] is not None:
        uow.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row["family_id"], RefreshToken.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        uow.audit("auth.refresh_reuse_detected", "user", row["user_id"])
        uow.commit()
        raise NotAuthenticated("refresh token was already used; sign in again")
    if row["expires_at"] <= _now():
        _audit_refusal(uow, row["tenant_id"], row["user_id"], "auth.token_refresh_failed", "expired")
        raise NotAuthenticated("refresh token expired; sign in again")
    user = uow.session.get(User, row["user_id"])
    if user is None or not user.is_active:
        _audit_refusal(uow, row["tenant_id"], row["user_id"], "auth.token_refresh_failed", "inactive")
        raise NotAuthenticated("user is no longer active")
    uow.session.execute(update(RefreshToken).where(RefreshToken.id == row["id"]).values(revoked_at=_now()))
    uow.audit("auth.token_refresh", "user", user.id)
    return _issue(
        uow,
        ring,
        settings,
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=user.role,
        client_ids=user.client_ids,
        family_id=row["family_id"],
    )


def logout(uow: UnitOfWork, *, refresh_token: str) -> None:
    row = (
        uow.session.execute(
            text("SELECT * FROM auth_refresh_token(:h)"), {"h": crypto.sha256_hex(refresh_token)}
        )
        .mappings()
        .first()
    )
    if row is None:
        return
    uow.set_tenant(row["tenant_id"])
    uow.actor = f"user:{row['user_id']}"
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == row["family_id"], RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    uow.audit("auth.logout", "user", row["user_id"])


def _audit_refusal(
    uow: UnitOfWork, tenant_id: uuid.UUID, user_id: uuid.UUID, action: str, reason: str
) -> None:
    """A refused sign-in or refresh is audited in the user's tenant and committed before the 401 is raised (the
    request's rollback must not take the record with it)."""
    uow.set_tenant(tenant_id)
    uow.actor = f"user:{user_id}"
    uow.audit(action, "user", user_id, after={"reason": reason})
    uow.commit()


# -- API keys ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreatedApiKey:
    record: ApiKey
    plaintext: str


def create_api_key(
    uow: UnitOfWork,
    principal: Principal,
    *,
    name: str,
    role: Role,
    scopes: list[Scope],
    client_ids: list[uuid.UUID] | None,
    expires_in_days: int | None,
) -> CreatedApiKey:
    principal.require_role(Role.ADMIN)
    if ROLE_RANK[role] > ROLE_RANK[principal.role]:
        raise Forbidden(f"you cannot create a key with a higher role ({role.value}) than your own")
    if role == Role.CLIENT_VIEWER and not client_ids:
        raise ValidationFailed.one("client_ids", "a client_viewer key must name at least one client")
    require_clients_exist(uow, client_ids or [])
    if role == Role.CLIENT_VIEWER and any(s != Scope.READ for s in scopes):
        raise ValidationFailed.one("scopes", "a client_viewer key can only have the 'read' scope")
    generated = crypto.new_api_key()
    record = ApiKey(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        name=name,
        prefix=generated.prefix,
        key_hash=generated.key_hash,
        role=role.value,
        client_ids=client_ids or None,
        scopes=sorted({s.value for s in scopes}),
        created_by=principal.user_id,
        expires_at=_now() + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    uow.session.add(record)
    uow.session.flush()
    uow.audit("api_key.create", "api_key", record.id, after={"name": name, "role": role, "scopes": scopes})
    uow.emit("api_key.created", {"api_key_id": record.id, "name": name, "role": role.value})
    return CreatedApiKey(record, generated.plaintext)


def list_api_keys(uow: UnitOfWork, principal: Principal) -> list[ApiKey]:
    principal.require_role(Role.ADMIN)
    return list(uow.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_api_key(uow: UnitOfWork, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    principal.require_role(Role.ADMIN)
    record = uow.session.get(ApiKey, key_id)
    if record is None:
        raise NotFound("API key not found")
    if record.revoked_at is None:
        record.revoked_at = _now()
        uow.audit(
            "api_key.revoke",
            "api_key",
            record.id,
            before={"revoked_at": None},
            after={"revoked_at": record.revoked_at},
        )
        uow.emit("api_key.revoked", {"api_key_id": record.id})
    return record
