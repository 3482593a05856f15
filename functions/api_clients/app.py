"""Clients of the agency: name, industry, currency, reporting time zone, KPIs and goals, branding."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.clients import ClientCreate, ClientListQuery, ClientOut, ClientUpdate
from strategist.http.schemas.common import Page
from strategist.services import clients

app = Chalice(app_name="api_clients")
api = Api(app)
ID = {"client_id": uuid.UUID}
TAGS = ("clients",)


@api.route(
    "/api/v1/clients",
    "GET",
    summary="Clients you can see, oldest first, paginated",
    query=ClientListQuery,
    response=Page,
    envelope_key="clients",
    tags=TAGS,
)
def list_clients(ctx: RequestCtx) -> Page:
    rows, next_cursor = clients.list_clients(ctx.uow, ctx.me, ctx.query)
    return Page(items=[ClientOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@api.route(
    "/api/v1/clients",
    "POST",
    summary="Create a client",
    body=ClientCreate,
    response=ClientOut,
    status=201,
    min_role=Role.ADMIN,
    envelope_key="client",
    tags=TAGS,
)
def create_client(ctx: RequestCtx) -> Result:
    return Result(
        ClientOut.model_validate(clients.create_client(ctx.uow, ctx.me, ctx.body)),
        status=201,
        message="Client created",
    )


@api.route(
    "/api/v1/clients/{client_id}",
    "GET",
    summary="One client",
    response=ClientOut,
    path_params=ID,
    envelope_key="client",
    tags=TAGS,
)
def get_client(ctx: RequestCtx) -> ClientOut:
    return ClientOut.model_validate(clients.get_client(ctx.uow, ctx.me, ctx.path["client_id"]))


@api.route(
    "/api/v1/clients/{client_id}",
    "PATCH",
    summary="Change a client",
    body=ClientUpdate,
    response=ClientOut,
    path_params=ID,
    min_role=Role.ANALYST,
    envelope_key="client",
    tags=TAGS,
)
def update_client(ctx: RequestCtx) -> ClientOut:
    return ClientOut.model_validate(clients.update_client(ctx.uow, ctx.me, ctx.path["client_id"], ctx.body))


@api.route(
    "/api/v1/clients/{client_id}",
    "DELETE",
    summary="Delete a client (kept for audit, hidden everywhere)",
    status=204,
    path_params=ID,
    min_role=Role.ADMIN,
    tags=TAGS,
)
def delete_client(ctx: RequestCtx) -> Result:
    clients.delete_client(ctx.uow, ctx.me, ctx.path["client_id"])
    return Result(None, status=204)
