"""Ad-platform connections of a client: connect, list with health, test, reconnect, sync now, delete."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist import bootstrap
from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.connections import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionReconnect,
    ConnectionTestResult,
    SyncQueued,
)
from strategist.services import clients, connections

app = Chalice(app_name="api_connections")
api = Api(app)
CLIENT = {"client_id": uuid.UUID}
ONE = {"client_id": uuid.UUID, "connection_id": uuid.UUID}
BASE = "/api/v1/clients/{client_id}/connections"
TAGS = ("connections",)


def _client_visible(ctx: RequestCtx) -> None:
    clients.get_client(ctx.uow, ctx.me, ctx.path["client_id"])


def _out(conn: object) -> ConnectionOut:
    out = ConnectionOut.model_validate(conn)
    out.missing_data = connections.missing_data_note(conn)  # type: ignore[arg-type]
    return out


@api.route(
    BASE,
    "GET",
    summary="Connections of a client, with health and backfill progress",
    path_params=CLIENT,
    response=list[ConnectionOut],
    envelope_key="connections",
    tags=TAGS,
    guard=_client_visible,
)
def list_connections(ctx: RequestCtx) -> list[ConnectionOut]:
    return [_out(c) for c in connections.list_connections(ctx.uow, ctx.me, ctx.path["client_id"])]


@api.route(
    BASE,
    "POST",
    summary="Connect an ad account (credentials are checked, then stored encrypted)",
    body=ConnectionCreate,
    path_params=CLIENT,
    response=ConnectionOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="connection",
    tags=TAGS,
    guard=_client_visible,
)
def create_connection(ctx: RequestCtx) -> Result:
    conn = connections.create_connection(
        ctx.uow,
        ctx.me,
        ctx.path["client_id"],
        ctx.body,
        cipher=bootstrap.credential_cipher(),
        connectors=bootstrap.connect,
        queue=bootstrap.sync_queue(),
    )
    return Result(_out(conn), status=201, message="Connected; the history backfill has been queued")


@api.route(
    BASE + "/{connection_id}",
    "GET",
    summary="One connection with its health",
    path_params=ONE,
    response=ConnectionOut,
    envelope_key="connection",
    tags=TAGS,
    guard=_client_visible,
)
def get_connection(ctx: RequestCtx) -> ConnectionOut:
    return _out(connections.get_connection(ctx.uow, ctx.me, ctx.path["client_id"], ctx.path["connection_id"]))


@api.route(
    BASE + "/{connection_id}",
    "DELETE",
    summary="Disconnect (credentials destroyed, history kept)",
    path_params=ONE,
    status=204,
    min_role=Role.ADMIN,
    tags=TAGS,
    guard=_client_visible,
)
def delete_connection(ctx: RequestCtx) -> Result:
    connections.delete_connection(ctx.uow, ctx.me, ctx.path["client_id"], ctx.path["connection_id"])
    return Result(None, status=204)


@api.route(
    BASE + "/{connection_id}/test",
    "POST",
    summary="Check the credentials against the platform now",
    path_params=ONE,
    response=ConnectionTestResult,
    min_role=Role.ANALYST,
    envelope_key="test",
    tags=TAGS,
    guard=_client_visible,
)
def test_connection(ctx: RequestCtx) -> ConnectionTestResult:
    conn, result = connections.test_connection(
        ctx.uow,
        ctx.me,
        ctx.path["client_id"],
        ctx.path["connection_id"],
        cipher=bootstrap.credential_cipher(),
        connectors=bootstrap.connect,
    )
    return ConnectionTestResult(**result, connection=_out(conn))


@api.route(
    BASE + "/{connection_id}/reconnect",
    "POST",
    summary="New credentials for the same account",
    body=ConnectionReconnect,
    path_params=ONE,
    response=ConnectionOut,
    min_role=Role.ANALYST,
    envelope_key="connection",
    tags=TAGS,
    guard=_client_visible,
)
def reconnect(ctx: RequestCtx) -> ConnectionOut:
    conn = connections.reconnect(
        ctx.uow,
        ctx.me,
        ctx.path["client_id"],
        ctx.path["connection_id"],
        ctx.body,
        cipher=bootstrap.credential_cipher(),
        connectors=bootstrap.connect,
        queue=bootstrap.sync_queue(),
    )
    return _out(conn)


@api.route(
    BASE + "/{connection_id}/sync",
    "POST",
    summary="Queue a sync of the restatement window now",
    path_params=ONE,
    response=SyncQueued,
    status=202,
    min_role=Role.ANALYST,
    envelope_key="sync",
    tags=TAGS,
    guard=_client_visible,
)
def sync_now(ctx: RequestCtx) -> Result:
    conn, window = connections.request_sync(
        ctx.uow, ctx.me, ctx.path["client_id"], ctx.path["connection_id"], queue=bootstrap.sync_queue()
    )
    data = SyncQueued(connection_id=conn.id, queued=True, window_start=window.start, window_end=window.end)
    return Result(data, status=202, message="Sync queued")
