"""Sign-in, token refresh, sign-out and invitation acceptance: the routes that run without an authorizer."""

from __future__ import annotations

from chalice import Chalice

from strategist import bootstrap
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.identity import InvitationAccept, RefreshRequest, TokenOut, TokenRequest, UserOut
from strategist.services import auth, tenants

app = Chalice(app_name="api_auth")
api = Api(app)
TAGS = ("auth",)


@api.route(
    "/api/v1/auth/token",
    "POST",
    summary="Sign in with e-mail and password",
    body=TokenRequest,
    response=TokenOut,
    auth=False,
    tags=TAGS,
)
def token(ctx: RequestCtx) -> TokenOut:
    pair = auth.login(
        ctx.uow, bootstrap.key_ring(), bootstrap.settings(), email=ctx.body.email, password=ctx.body.password
    )
    return TokenOut.model_validate(pair, from_attributes=True)


@api.route(
    "/api/v1/auth/refresh",
    "POST",
    summary="Exchange a refresh token (rotated on every use)",
    body=RefreshRequest,
    response=TokenOut,
    auth=False,
    tags=TAGS,
)
def refresh(ctx: RequestCtx) -> TokenOut:
    pair = auth.refresh(
        ctx.uow, bootstrap.key_ring(), bootstrap.settings(), refresh_token=ctx.body.refresh_token
    )
    return TokenOut.model_validate(pair, from_attributes=True)


@api.route(
    "/api/v1/auth/logout",
    "POST",
    summary="Revoke a refresh token and its family",
    body=RefreshRequest,
    status=204,
    auth=False,
    tags=TAGS,
)
def logout(ctx: RequestCtx) -> Result:
    auth.logout(ctx.uow, refresh_token=ctx.body.refresh_token)
    return Result(None, status=204)


@api.route(
    "/api/v1/invitations/accept",
    "POST",
    summary="Accept an invitation and create the account",
    body=InvitationAccept,
    response=UserOut,
    status=201,
    auth=False,
    tags=TAGS,
)
def accept_invitation(ctx: RequestCtx) -> UserOut:
    user = tenants.accept_invitation(
        ctx.uow, token=ctx.body.token, name=ctx.body.name, password=ctx.body.password
    )
    return UserOut.model_validate(user)
