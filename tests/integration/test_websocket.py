"""The WebSocket API through the local gateway (issue 8, live updates): the template's $connect authorizer and
routes, connection rows in Postgres, and domain events travelling outbox → relay → moto bus → the push function's
EventBridge rule → the gateway's socket registry → the right sockets only (tenant and client filtered server-side).

"Receives nothing" is shown by ordering: a socket's messages arrive in order, so when the first message a socket
gets is a later event it may see, the earlier event it may not see never reached it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import boto3
import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import WebSocketDenialResponse

from infra.local import lambda_runtime
from infra.local.eventbridge import start_delivery
from infra.local.gateway import LIVE_SOCKETS
from strategist import bootstrap
from strategist.services.housekeeping import purge_expired
from strategist.services.outbox import relay


@pytest.fixture(scope="module")
def push_delivery(stack):
    calls: list[dict[str, Any]] = []

    def invoke(function: str, event: dict[str, Any]) -> Any:
        result = lambda_runtime.invoke(stack.template.functions[function], event)
        if function == "JobLivePushFunction":
            calls.append(result)
        return result

    d = start_delivery(stack.template, stack.resources, invoke, background=False)
    d.wait_s = 0
    d.bindings = [b for b in d.bindings if b.rule.function == "JobLivePushFunction"]
    return d, calls


def _relay_and_deliver(stack, d) -> None:
    events = boto3.client("events", endpoint_url=stack.resources.endpoint)
    report = relay(lambda: bootstrap.system_unit_of_work("test"), events, bootstrap.settings().event_bus_name)
    assert report.failed == 0
    for binding in d.bindings:
        while d.poll_once(binding):
            pass


def _emit(tenant_id: uuid.UUID, event_type: str, detail: dict[str, Any]) -> None:
    with bootstrap.system_unit_of_work("test") as uow:
        uow.set_tenant(tenant_id)
        uow.emit(event_type, detail)


def _rows(stack, tenant_id: uuid.UUID) -> list[Any]:
    engine = create_engine(stack.owner_url())
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT connection_id, role, client_ids, user_id, expires_at - connected_at AS age "
                        "FROM live_connections WHERE tenant_id = :t ORDER BY role"
                    ),
                    {"t": tenant_id},
                )
            )
    finally:
        engine.dispose()


def test_connect_refused_without_or_with_a_bad_token(api):
    for url in ("/ws", "/ws?token=not-a-jwt", "/ws?token=msk_nonexistentkey0000000000"):
        with pytest.raises(WebSocketDenialResponse) as exc, api.websocket_connect(url):
            pass
        assert exc.value.status_code == 401, url
    with (
        pytest.raises(WebSocketDenialResponse) as exc,
        api.websocket_connect("/ws", subprotocols=["msk.bearer", "garbage.token.here"]),
    ):
        pass
    assert exc.value.status_code == 401


def test_events_reach_the_right_tenant_and_client_only(api, stack, make_tenant, push_delivery):
    d, calls = push_delivery
    _relay_and_deliver(stack, d)  # whatever earlier tests left in the outbox
    a, b = make_tenant("Live A"), make_tenant("Live B")
    c0, c1 = a.clients
    with (
        api.websocket_connect("/ws", subprotocols=["msk.bearer", a.owner.token]) as owner,
        api.websocket_connect(f"/ws?token={a.viewer.token}") as viewer,
        api.websocket_connect(f"/ws?token={b.owner_key.token}") as other,
    ):
        assert owner.accepted_subprotocol == "msk.bearer"
        rows = _rows(stack, a.tenant_id)
        assert [(r.role, r.client_ids, r.user_id) for r in rows] == [
            ("client_viewer", [c0], a.viewer.user_id),
            ("owner", None, a.owner.user_id),
        ]
        assert all(r.age == dt.timedelta(hours=2) for r in rows)
        owner.send_json({"action": "ping"})
        assert owner.receive_json() == {"type": "pong"}
        owner.send_text("not json")
        assert "not JSON" in owner.receive_json()["message"]

        alert_1 = uuid.uuid4()
        # client 1 of tenant A: the owner only
        _emit(a.tenant_id, "alert.opened", {"alert_id": alert_1, "client_id": c1, "severity": "high",
                                            "kind": "threshold", "state": "open"})  # fmt: skip
        _relay_and_deliver(stack, d)
        first = owner.receive_json()
        assert first["type"] == "alert.opened" and first["client_id"] == str(c1)
        assert first["ids"] == {"alert_id": str(alert_1)}
        assert first["info"] == {"severity": "high", "kind": "threshold", "state": "open"}
        assert set(first) == {"type", "event_id", "client_id", "occurred_at", "ids", "info"}
        # a tenant-wide event (no client) reaches agency-wide principals only
        _emit(a.tenant_id, "connection.created", {"connection_id": uuid.uuid4(), "platform": "meta_ads"})
        # client 0: both of tenant A's sockets
        _emit(a.tenant_id, "report.ready", {"report_id": uuid.uuid4(), "client_id": c0, "version": 1})
        # tenant B's own event, with tenant A's client id in it: only B's socket (the tenant decides)
        _emit(b.tenant_id, "metrics.synced", {"connection_id": uuid.uuid4(), "client_id": c0, "rows": 12})
        # an event type the dashboard does not listen for goes nowhere
        _emit(a.tenant_id, "client.updated", {"client_id": c0, "fields": ["name"]})
        _relay_and_deliver(stack, d)
        assert owner.receive_json()["type"] == "connection.created"
        assert owner.receive_json()["type"] == "report.ready"
        got = viewer.receive_json()  # its first message: not the client-1 alert, not the tenant-wide event
        assert got["type"] == "report.ready" and got["client_id"] == str(c0)
        theirs = other.receive_json()  # nothing of tenant A's before its own event
        assert theirs["type"] == "metrics.synced" and theirs["ids"]["connection_id"]
        assert "rows" not in theirs["info"]  # figures never travel on the socket
        mine = [c for c in calls if c["event_type"] in {"alert.opened", "report.ready", "connection.created"}]
        assert sum(c["sent"] for c in mine) >= 4 and all(c["failed"] == 0 for c in mine)
    # $disconnect removed the rows
    assert _rows(stack, a.tenant_id) == [] and _rows(stack, b.tenant_id) == []


def test_gone_connections_are_dropped_when_pushing_and_expired_ones_by_housekeeping(
    api, stack, make_tenant, push_delivery
):
    d, calls = push_delivery
    t = make_tenant("Live gone")
    engine = create_engine(stack.owner_url())
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        for cid, expires in (
            ("gone-1", now + dt.timedelta(hours=1)),
            ("expired-1", now - dt.timedelta(minutes=1)),
        ):
            conn.execute(
                text(
                    "INSERT INTO live_connections (connection_id, tenant_id, role, endpoint, connected_at, "
                    "last_seen_at, expires_at) VALUES (:c, :t, 'owner', 'https://x/dev', :n, :n, :e)"
                ),
                {"c": cid, "t": t.tenant_id, "n": now - dt.timedelta(hours=2), "e": expires},
            )
    assert "gone-1" not in LIVE_SOCKETS
    with api.websocket_connect(f"/ws?token={t.owner.token}") as ws:
        _emit(t.tenant_id, "recommendation.applied", {"recommendation_id": uuid.uuid4(),
                                                      "client_id": t.clients[0], "kind": "budget"})  # fmt: skip
        _relay_and_deliver(stack, d)
        assert ws.receive_json()["type"] == "recommendation.applied"
        report = next(c for c in reversed(calls) if c["event_type"] == "recommendation.applied")
        # the live socket got it, the gone one answered 410 and was deleted, the expired one was not tried
        assert (report["sent"], report["gone"], report["failed"]) == (1, 1, 0)
        ids = {r.connection_id for r in _rows(stack, t.tenant_id)}
        assert "gone-1" not in ids and "expired-1" in ids and len(ids) == 2
        counts = purge_expired(lambda: bootstrap.system_unit_of_work("test"))
        assert counts["live_connections"] >= 1
        assert [r.connection_id for r in _rows(stack, t.tenant_id)] != ["expired-1"]
        assert "expired-1" not in {r.connection_id for r in _rows(stack, t.tenant_id)}
    engine.dispose()


def test_a_deactivated_users_socket_is_closed_and_cannot_reconnect(api, stack, make_tenant, push_delivery):
    from starlette.websockets import WebSocketDisconnect

    d, _calls = push_delivery
    t = make_tenant("Live revoke")
    with (
        api.websocket_connect(f"/ws?token={t.analyst.token}") as analyst,
        api.websocket_connect(f"/ws?token={t.owner.token}") as owner,
    ):
        r = api.patch(
            f"/api/v1/users/{t.analyst.user_id}", json={"is_active": False}, headers=t.owner.headers
        )
        assert r.status_code == 200, r.text
        _relay_and_deliver(stack, d)
        with pytest.raises(WebSocketDisconnect) as closed:
            analyst.receive_json()
        assert closed.value.code == 1008
        assert [r.role for r in _rows(stack, t.tenant_id)] == ["owner"]
        # the owner's socket is untouched and still receives the tenant's events
        _emit(t.tenant_id, "report.ready", {"report_id": uuid.uuid4(), "client_id": t.clients[0]})
        _relay_and_deliver(stack, d)
        assert owner.receive_json()["type"] == "report.ready"
    with pytest.raises(WebSocketDenialResponse) as exc, api.websocket_connect(f"/ws?token={t.analyst.token}"):
        pass
    assert exc.value.status_code == 401
