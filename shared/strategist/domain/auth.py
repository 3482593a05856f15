"""Who is calling and what they may do: roles, scopes and the principal handed over by the authorizer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from strategist.domain.errors import Forbidden, NotFound


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ANALYST = "analyst"
    CLIENT_VIEWER = "client_viewer"


#: Higher ranks include what lower ranks may do.
ROLE_RANK: dict[Role, int] = {Role.CLIENT_VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ALL_CLIENTS = "*"


@dataclass(frozen=True)
class Principal:
    """The caller, as the authorizer proved it. `client_ids` is None when the caller may see every client."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    role: Role
    client_ids: frozenset[uuid.UUID] | None
    scopes: frozenset[Scope] = field(default_factory=lambda: frozenset(Scope))
    auth_type: str = "jwt"
    api_key_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        if self.api_key_id is not None:
            return f"api_key:{self.api_key_id}"
        return f"user:{self.user_id}"

    def require_role(self, minimum: Role) -> None:
        if ROLE_RANK[self.role] < ROLE_RANK[minimum]:
            raise Forbidden(
                f"this action needs the {minimum.value} role or higher; you are {self.role.value}"
            )

    def require_scope(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the '{scope.value}' scope")

    def can_see_client(self, client_id: uuid.UUID) -> bool:
        return self.client_ids is None or client_id in self.client_ids

    def require_client(self, client_id: uuid.UUID) -> None:
        """404, not 403: a viewer must not learn that another client exists."""
        if not self.can_see_client(client_id):
            raise NotFound("client not found")

    def require_tenant(self, tenant_id: uuid.UUID | str | None) -> None:
        """A tenant_id in a body or query is accepted for compatibility but must be the caller's own."""
        if tenant_id is None or tenant_id == "":
            return
        if str(tenant_id) != str(self.tenant_id):
            raise Forbidden("tenant_id does not match the authenticated tenant")

    def to_context(self) -> dict[str, str]:
        """API Gateway authorizer context values must be strings, numbers or booleans: flatten."""
        return {
            "tenant_id": str(self.tenant_id),
            "user_id": str(self.user_id) if self.user_id else "",
            "role": self.role.value,
            "client_ids": ALL_CLIENTS
            if self.client_ids is None
            else ",".join(sorted(str(c) for c in self.client_ids)),
            "scopes": ",".join(sorted(s.value for s in self.scopes)),
            "auth_type": self.auth_type,
            "api_key_id": str(self.api_key_id) if self.api_key_id else "",
        }

    @classmethod
    def from_context(cls, ctx: dict[str, object]) -> Principal:
        raw_clients = str(ctx.get("client_ids", ""))
        client_ids = (
            None
            if raw_clients == ALL_CLIENTS
            else frozenset(uuid.UUID(c) for c in raw_clients.split(",") if c)
        )
        user_id = str(ctx.get("user_id") or "")
        api_key_id = str(ctx.get("api_key_id") or "")
        return cls(
            tenant_id=uuid.UUID(str(ctx["tenant_id"])),
            user_id=uuid.UUID(user_id) if user_id else None,
            role=Role(str(ctx["role"])),
            client_ids=client_ids,
            scopes=frozenset(Scope(s) for s in str(ctx.get("scopes", "")).split(",") if s),
            auth_type=str(ctx.get("auth_type", "jwt")),
            api_key_id=uuid.UUID(api_key_id) if api_key_id else None,
        )
