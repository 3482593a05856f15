"""Client CRUD. Row-level security already confines every query to the caller's tenant; these functions add
what RLS cannot know: a client viewer sees only its own clients, and who may change what."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from strategist.adapters.db.models import Client
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import NotFound, ValidationFailed
from strategist.http.schemas.clients import ClientCreate, ClientListQuery, ClientUpdate

T = TypeVar("T")

AUDITED = (
    "name",
    "industry",
    "currency",
    "reporting_timezone",
    "kpis",
    "goals",
    "monthly_budget",
    "branding",
    "contact_emails",
)


def _snapshot(client: Client) -> dict[str, Any]:
    return jsonable({k: getattr(client, k) for k in AUDITED})


def visible_to(
    stmt: Select[Any], column: Any, principal: Principal, client_id: uuid.UUID | None = None
) -> Select[Any]:
    """Narrow a list query to the clients the caller may see (a viewer: its own), and to one client if asked;
    asking for a client the caller cannot see is a 404, as for a single read."""
    if principal.client_ids is not None:
        stmt = stmt.where(column.in_(principal.client_ids or [uuid.UUID(int=0)]))
    if client_id is not None:
        principal.require_client(client_id)
        stmt = stmt.where(column == client_id)
    return stmt


def get_client_owned(
    uow: UnitOfWork, principal: Principal, model: type[T], row_id: uuid.UUID, what: str, *, lock: bool = False
) -> T:
    """One row of a client-owned table (`model.client_id`): 404 for another tenant's (RLS), another client's for a
    viewer, or a deleted client's; with ``lock``, the row is locked FOR UPDATE for the transaction."""
    stmt = (
        select(model)
        .join(Client, Client.id == model.client_id)  # type: ignore[attr-defined]
        .where(model.id == row_id, Client.deleted_at.is_(None))  # type: ignore[attr-defined]
    )
    if lock:
        stmt = stmt.with_for_update(of=model)
    row = uow.session.execute(stmt).scalar_one_or_none()
    if row is None or not principal.can_see_client(row.client_id):
        raise NotFound(f"{what} not found")
    return row


def client_exists(uow: UnitOfWork, client_id: uuid.UUID) -> bool:
    return (
        uow.session.scalar(select(Client.id).where(Client.id == client_id, Client.deleted_at.is_(None)))
        is not None
    )


def require_clients_exist(uow: UnitOfWork, client_ids: list[uuid.UUID], field: str = "client_ids") -> None:
    for cid in client_ids:
        if not client_exists(uow, cid):
            raise ValidationFailed.one(field, f"client {cid} does not exist in this tenant")


def get_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> Client:
    principal.require_client(client_id)
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        raise NotFound("client not found")
    return client


def list_clients(
    uow: UnitOfWork, principal: Principal, query: ClientListQuery
) -> tuple[list[Client], str | None]:
    stmt = select(Client).where(Client.deleted_at.is_(None))
    stmt = visible_to(stmt, Client.id, principal)
    if query.q:
        stmt = stmt.where(func.lower(Client.name).contains(query.q.lower(), autoescape=True))
    if query.industry:
        stmt = stmt.where(Client.industry == query.industry.value)
    return keyset_page(uow.session, stmt, Client, limit=query.limit, cursor=query.cursor, newest_first=False)


def create_client(uow: UnitOfWork, principal: Principal, data: ClientCreate) -> Client:
    principal.require_role(Role.ADMIN)
    client = Client(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        name=data.name,
        industry=data.industry.value,
        currency=data.currency,
        reporting_timezone=data.reporting_timezone,
        kpis=[k.value for k in data.kpis],
        goals={k.value: v for k, v in data.goals.items()},
        monthly_budget=data.monthly_budget,
        branding=data.branding.model_dump(exclude_none=True),
        contact_emails=list(data.contact_emails),
    )
    uow.session.add(client)
    uow.session.flush()
    uow.session.refresh(client)
    uow.audit("client.create", "client", client.id, after=_snapshot(client))
    uow.emit("client.created", {"client_id": client.id, "name": client.name})
    return client


def update_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID, data: ClientUpdate) -> Client:
    principal.require_role(Role.ANALYST)
    client = get_client(uow, principal, client_id)
    before = _snapshot(client)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in {"monthly_budget"}:
            raise ValidationFailed.one(name, "cannot be null")
        if name == "goals":
            value = {str(k): float(v) for k, v in value.items()}
        elif name == "kpis":
            value = [str(k) for k in value]
        elif name == "industry":
            value = str(value)
        elif name == "branding":
            value = {k: v for k, v in value.items() if v is not None}
        setattr(client, name, value)
    goals, kpis = client.goals or {}, set(client.kpis or [])
    stray = sorted(k for k in goals if k not in kpis)
    if stray:
        raise ValidationFailed.one("goals", f"goals set for KPIs not in kpis: {', '.join(stray)}")
    client.updated_at = dt.datetime.now(dt.UTC)
    uow.session.flush()
    uow.audit("client.update", "client", client.id, before=before, after=_snapshot(client))
    uow.emit("client.updated", {"client_id": client.id, "fields": sorted(changes)})
    return client


def delete_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> None:
    """Soft delete: campaigns, metrics and reports that reference the client stay consistent and auditable."""
    principal.require_role(Role.ADMIN)
    client = get_client(uow, principal, client_id)
    client.deleted_at = dt.datetime.now(dt.UTC)
    uow.audit("client.delete", "client", client.id, before=_snapshot(client))
    uow.emit("client.deleted", {"client_id": client.id})
