"""The tenant, its users, invitations and API keys."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist import bootstrap
from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.identity import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    MeOut,
    TenantOut,
    TenantUpdate,
    TenantView,
    UserOut,
    UserUpdate,
)
from strategist.services import auth, tenants

app = Chalice(app_name="api_tenant")
api = Api(app)
ID = {"user_id": uuid.UUID}


def _view(ctx: RequestCtx, tenant: object) -> TenantView:
    return TenantView(tenant=TenantOut.model_validate(tenant), me=MeOut(**tenants.principal_view(ctx.me)))


@api.route(
    "/api/v1/tenant",
    "GET",
    summary="Your tenant and who you are in it",
    response=TenantView,
    envelope_key="tenant",
    tags=("tenant",),
)
def get_tenant(ctx: RequestCtx) -> TenantView:
    return _view(ctx, tenants.get_tenant(ctx.uow, ctx.me))


@api.route(
    "/api/v1/tenant",
    "PATCH",
    summary="Rename the tenant, change its settings and branding",
    body=TenantUpdate,
    response=TenantView,
    min_role=Role.OWNER,
    envelope_key="tenant",
    tags=("tenant",),
)
def update_tenant(ctx: RequestCtx) -> TenantView:
    return _view(ctx, tenants.update_tenant(ctx.uow, ctx.me, ctx.body))


@api.route(
    "/api/v1/users",
    "GET",
    summary="Users of the tenant",
    response=list[UserOut],
    min_role=Role.ADMIN,
    envelope_key="users",
    tags=("users",),
)
def list_users(ctx: RequestCtx) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in tenants.list_users(ctx.uow, ctx.me)]


@api.route(
    "/api/v1/users/{user_id}",
    "PATCH",
    summary="Change a user's role, clients or status",
    body=UserUpdate,
    response=UserOut,
    path_params=ID,
    min_role=Role.ADMIN,
    envelope_key="user",
    tags=("users",),
)
def update_user(ctx: RequestCtx) -> UserOut:
    return UserOut.model_validate(tenants.update_user(ctx.uow, ctx.me, ctx.path["user_id"], ctx.body))


@api.route(
    "/api/v1/invitations",
    "GET",
    summary="Open and past invitations",
    response=list[InvitationOut],
    min_role=Role.ADMIN,
    envelope_key="invitations",
    tags=("users",),
)
def list_invitations(ctx: RequestCtx) -> list[InvitationOut]:
    return [InvitationOut.model_validate(i) for i in tenants.list_invitations(ctx.uow, ctx.me)]


@api.route(
    "/api/v1/invitations",
    "POST",
    summary="Invite a user (the accept token is shown once)",
    body=InvitationCreate,
    response=InvitationCreated,
    status=201,
    min_role=Role.ADMIN,
    envelope_key="invitation",
    tags=("users",),
)
def create_invitation(ctx: RequestCtx) -> Result:
    invitation, token, url = tenants.create_invitation(
        ctx.uow, ctx.me, ctx.body, base_url=bootstrap.settings().public_base_url
    )
    data = InvitationCreated(
        **InvitationOut.model_validate(invitation).model_dump(), accept_token=token, accept_url=url
    )
    return Result(data, status=201, message="Invitation created")


@api.route(
    "/api/v1/invitations/{invitation_id}",
    "DELETE",
    summary="Revoke an invitation",
    response=InvitationOut,
    path_params={"invitation_id": uuid.UUID},
    min_role=Role.ADMIN,
    envelope_key="invitation",
    tags=("users",),
)
def revoke_invitation(ctx: RequestCtx) -> InvitationOut:
    return InvitationOut.model_validate(tenants.revoke_invitation(ctx.uow, ctx.me, ctx.path["invitation_id"]))


@api.route(
    "/api/v1/api-keys",
    "GET",
    summary="API keys of the tenant (never their secrets)",
    response=list[ApiKeyOut],
    min_role=Role.ADMIN,
    envelope_key="api_keys",
    tags=("api keys",),
)
def list_api_keys(ctx: RequestCtx) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in auth.list_api_keys(ctx.uow, ctx.me)]


@api.route(
    "/api/v1/api-keys",
    "POST",
    summary="Create an API key (the secret is shown once)",
    body=ApiKeyCreate,
    response=ApiKeyCreated,
    status=201,
    min_role=Role.ADMIN,
    envelope_key="api_key",
    tags=("api keys",),
)
def create_api_key(ctx: RequestCtx) -> Result:
    b = ctx.body
    created = auth.create_api_key(
        ctx.uow,
        ctx.me,
        name=b.name,
        role=b.role,
        scopes=b.scopes,
        client_ids=b.client_ids,
        expires_in_days=b.expires_in_days,
    )
    data = ApiKeyCreated(**ApiKeyOut.model_validate(created.record).model_dump(), key=created.plaintext)
    return Result(data, status=201, message="API key created; store it now, it is not shown again")


@api.route(
    "/api/v1/api-keys/{key_id}",
    "DELETE",
    summary="Revoke an API key",
    response=ApiKeyOut,
    path_params={"key_id": uuid.UUID},
    min_role=Role.ADMIN,
    envelope_key="api_key",
    tags=("api keys",),
)
def revoke_api_key(ctx: RequestCtx) -> ApiKeyOut:
    return ApiKeyOut.model_validate(auth.revoke_api_key(ctx.uow, ctx.me, ctx.path["key_id"]))
