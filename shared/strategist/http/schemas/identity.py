"""Auth, tenant, users, invitations and API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field, field_validator

from strategist.domain.auth import Role, Scope
from strategist.http.schemas.common import Email, Name, Out, Strict

Password = Field(min_length=12, max_length=256, description="At least 12 characters.")


class TokenRequest(Strict):
    email: Email
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=10, max_length=200)


class TokenOut(Out):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    expires_at: dt.datetime
    refresh_token: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role


class TenantSettings(Strict):
    approval_threshold: float | None = Field(
        None,
        ge=0,
        description="Budget raises above this amount (tenant currency) need an owner/admin approval.",
    )
    default_currency: str | None = Field(None, min_length=3, max_length=3)
    default_timezone: str | None = Field(None, max_length=64)
    # -- issue 6, optimize slice: guardrails of applied changes -----------------------------------------------
    approval_threshold_pct: float | None = Field(
        None,
        ge=0,
        le=1000,
        description="Budget raises above this percentage of the current budget need an owner/admin approval "
        "(default 20).",
    )
    max_change_pct: float | None = Field(
        None,
        gt=0,
        le=100,
        description="Largest budget change one recommendation or rule may make (default 30 %).",
    )
    cooldown_hours: int | None = Field(
        None,
        ge=0,
        le=24 * 30,
        description="No second change to a campaign within this many hours (default 72).",
    )
    auto_apply: list[Literal["budget_shift", "scale_budget", "pacing_fix", "pause"]] | None = Field(
        None,
        description="Recommendation kinds the daily optimize job applies by itself, through the same guards "
        "(cap, cooldown, approval → pending approval). Default none: everything waits for a person.",
    )


class Branding(Strict):
    logo_url: str | None = Field(None, max_length=500, pattern=r"^https://")
    primary_color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    sender_name: str | None = Field(None, max_length=100)
    footer_text: str | None = Field(None, max_length=500)

    @field_validator("sender_name", "footer_text")
    @classmethod
    def _no_header_breaks(cls, value: str | None) -> str | None:
        if value is not None and any(c in value for c in "\r\n"):
            raise ValueError("must be a single line")
        return value


class TenantOut(Out):
    id: uuid.UUID
    name: str
    is_demo: bool
    settings: dict[str, Any]
    branding: dict[str, Any]
    created_at: dt.datetime


class MeOut(Out):
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    role: Role
    client_ids: list[uuid.UUID] | None = Field(description="null: every client of the tenant.")
    scopes: list[Scope]
    auth_type: str


class TenantView(Out):
    tenant: TenantOut
    me: MeOut


class TenantUpdate(Strict):
    name: Name | None = None
    settings: TenantSettings | None = None
    branding: Branding | None = None


class UserOut(Out):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    client_ids: list[uuid.UUID]
    is_active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserUpdate(Strict):
    name: Name | None = None
    role: Role | None = None
    client_ids: list[uuid.UUID] | None = Field(None, max_length=500)
    is_active: bool | None = None


class InvitationCreate(Strict):
    email: Email
    role: Role
    client_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    expires_in_days: int = Field(7, ge=1, le=30)


class InvitationOut(Out):
    id: uuid.UUID
    email: str
    role: Role
    client_ids: list[uuid.UUID]
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime


class InvitationCreated(InvitationOut):
    accept_token: str = Field(description="Shown once; the invitee posts it to /api/v1/invitations/accept.")
    accept_url: str


class InvitationAccept(Strict):
    token: str = Field(min_length=10, max_length=200)
    name: Name
    password: str = Password


class ApiKeyCreate(Strict):
    name: Name
    role: Role = Role.ANALYST
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ], min_length=1)
    client_ids: list[uuid.UUID] | None = Field(None, max_length=500)
    expires_in_days: int | None = Field(None, ge=1, le=730)


class ApiKeyOut(Out):
    id: uuid.UUID
    name: str
    prefix: str
    role: Role
    scopes: list[Scope]
    client_ids: list[uuid.UUID] | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret, shown once. Send it as 'Authorization: Bearer msk_...'.")
