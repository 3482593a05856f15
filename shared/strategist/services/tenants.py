"""The tenant itself, its users and invitations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, text, update

from strategist.adapters import crypto
from strategist.adapters.db.models import Invitation, RefreshToken, Tenant, User
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import ROLE_RANK, Principal, Role
from strategist.domain.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from strategist.http.schemas.identity import InvitationCreate, TenantUpdate, UserUpdate
from strategist.services.clients import require_clients_exist


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def get_tenant(uow: UnitOfWork, principal: Principal) -> Tenant:
    tenant = uow.session.get(Tenant, principal.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def update_tenant(uow: UnitOfWork, principal: Principal, data: TenantUpdate) -> Tenant:
    principal.require_role(Role.OWNER)
    tenant = get_tenant(uow, principal)
    before = {"name": tenant.name, "settings": tenant.settings, "branding": tenant.branding}
    if data.name is not None:
        tenant.name = data.name
    if data.settings is not None:
        tenant.settings = {**tenant.settings, **data.settings.model_dump(exclude_none=True)}
    if data.branding is not None:
        tenant.branding = {**tenant.branding, **data.branding.model_dump(exclude_none=True)}
    tenant.updated_at = _now()
    after = {"name": tenant.name, "settings": tenant.settings, "branding": tenant.branding}
    uow.audit("tenant.update", "tenant", tenant.id, before=before, after=after)
    uow.emit("tenant.updated", {"fields": sorted(data.model_dump(exclude_unset=True))})
    return tenant


# -- users --------------------------------------------------------------------------------------------------
def list_users(uow: UnitOfWork, principal: Principal) -> list[User]:
    principal.require_role(Role.ADMIN)
    return list(uow.session.scalars(select(User).order_by(User.created_at, User.id)))


def _check_grant(principal: Principal, role: Role) -> None:
    """Admins manage everyone below owner; only an owner makes or changes owners."""
    if ROLE_RANK[role] > ROLE_RANK[principal.role]:
        raise Forbidden(f"you cannot grant the {role.value} role")


def update_user(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID, data: UserUpdate) -> User:
    principal.require_role(Role.ADMIN)
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    _check_grant(principal, Role(user.role))
    before = {
        "name": user.name,
        "role": user.role,
        "client_ids": user.client_ids,
        "is_active": user.is_active,
    }
    if data.role is not None:
        _check_grant(principal, data.role)
        if user.id == principal.user_id and data.role != Role(user.role):
            raise Forbidden("you cannot change your own role")
        user.role = data.role.value
    if data.client_ids is not None:
        require_clients_exist(uow, data.client_ids)
        user.client_ids = data.client_ids
    if data.name is not None:
        user.name = data.name
    if data.is_active is not None:
        if user.id == principal.user_id and not data.is_active:
            raise Forbidden("you cannot deactivate yourself")
        user.is_active = data.is_active
    if user.role == Role.CLIENT_VIEWER and not user.client_ids:
        raise ValidationFailed.one("client_ids", "a client_viewer must be given at least one client")
    if before["role"] == Role.OWNER and (user.role != Role.OWNER or not user.is_active):
        _keep_an_owner(uow, exclude=user.id)
    if not user.is_active or data.role is not None:
        _revoke_sessions(uow, user.id)
    uow.session.flush()
    after = {"name": user.name, "role": user.role, "client_ids": user.client_ids, "is_active": user.is_active}
    uow.audit("user.update", "user", user.id, before=before, after=after)
    uow.emit("user.updated", {"user_id": user.id, "role": user.role, "is_active": user.is_active})
    return user


def _keep_an_owner(uow: UnitOfWork, exclude: uuid.UUID) -> None:
    others = uow.session.scalar(
        select(User.id)
        .where(User.role == Role.OWNER.value, User.is_active.is_(True), User.id != exclude)
        .limit(1)
    )
    if others is None:
        raise Conflict("a tenant must keep at least one active owner")


def _revoke_sessions(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


# -- invitations ------------------------------------------------------------------------------------------
def create_invitation(
    uow: UnitOfWork, principal: Principal, data: InvitationCreate, *, base_url: str
) -> tuple[Invitation, str, str]:
    principal.require_role(Role.ADMIN)
    _check_grant(principal, data.role)
    if data.role == Role.CLIENT_VIEWER and not data.client_ids:
        raise ValidationFailed.one("client_ids", "a client_viewer invitation must name at least one client")
    require_clients_exist(uow, data.client_ids)
    taken = uow.session.execute(text("SELECT 1 FROM auth_user_by_email(:e)"), {"e": data.email}).first()
    if taken:
        raise Conflict("a user with this e-mail already exists")
    token = crypto.new_opaque_token()
    invitation = Invitation(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        email=data.email,
        role=data.role.value,
        client_ids=data.client_ids,
        token_hash=crypto.sha256_hex(token),
        invited_by=principal.user_id,
        expires_at=_now() + dt.timedelta(days=data.expires_in_days),
    )
    uow.session.add(invitation)
    uow.session.flush()
    uow.session.refresh(invitation)
    uow.audit(
        "invitation.create", "invitation", invitation.id, after={"email": data.email, "role": data.role}
    )
    uow.emit(
        "invitation.created",
        {"invitation_id": invitation.id, "email": data.email, "role": data.role.value},
    )
    accept_url = f"{base_url.rstrip('/')}/#/accept-invitation?token={token}"
    # issue 7, communications slice: the invitation e-mail, in this transaction (sent only if it commits)
    from strategist.services.communications.invitations import queue_invitation_email

    queue_invitation_email(uow, invitation, accept_url)
    return invitation, token, accept_url


def list_invitations(uow: UnitOfWork, principal: Principal) -> list[Invitation]:
    principal.require_role(Role.ADMIN)
    return list(uow.session.scalars(select(Invitation).order_by(Invitation.created_at, Invitation.id)))


def revoke_invitation(uow: UnitOfWork, principal: Principal, invitation_id: uuid.UUID) -> Invitation:
    principal.require_role(Role.ADMIN)
    invitation = uow.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("invitation not found")
    if invitation.accepted_at is not None:
        raise Conflict("invitation was already accepted")
    if invitation.revoked_at is None:
        invitation.revoked_at = _now()
        uow.audit("invitation.revoke", "invitation", invitation.id)
    return invitation


def accept_invitation(uow: UnitOfWork, *, token: str, name: str, password: str) -> User:
    row = (
        uow.session.execute(
            text("SELECT * FROM auth_invitation_by_token(:h)"), {"h": crypto.sha256_hex(token)}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotAuthenticated("invitation token is not valid")
    uow.set_tenant(row["tenant_id"])
    invitation = uow.session.get(Invitation, row["id"])
    assert invitation is not None
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= _now():
        raise NotAuthenticated("invitation is no longer valid")
    if uow.session.execute(text("SELECT 1 FROM auth_user_by_email(:e)"), {"e": invitation.email}).first():
        raise Conflict("a user with this e-mail already exists")
    user = User(
        id=uuid.uuid4(),
        tenant_id=invitation.tenant_id,
        email=invitation.email,
        name=name,
        password_hash=crypto.hash_password(password),
        role=invitation.role,
        client_ids=invitation.client_ids,
    )
    uow.session.add(user)
    invitation.accepted_at = _now()
    uow.session.flush()
    uow.session.refresh(user)
    uow.actor = f"user:{user.id}"
    uow.audit("invitation.accept", "user", user.id, after=jsonable({"email": user.email, "role": user.role}))
    uow.emit("user.joined", {"user_id": user.id, "role": user.role})
    return user


def principal_view(principal: Principal) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "api_key_id": principal.api_key_id,
        "role": principal.role,
        "client_ids": None if principal.client_ids is None else sorted(principal.client_ids, key=str),
        "scopes": sorted(principal.scopes),
        "auth_type": principal.auth_type,
    }
