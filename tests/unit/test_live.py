"""Live updates, without the stack: what a socket message may carry, who may receive an event, and the WebSocket
function's credential extraction, authorizer refusals and message validation."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategist.adapters.aws.websocket import ConnectionGone
from strategist.services import live

ROOT = Path(__file__).resolve().parents[2]


def _ws_module():
    spec = importlib.util.spec_from_file_location("ws_app_under_test", ROOT / "functions" / "ws" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ws = _ws_module()


def test_message_carries_ids_and_small_enums_only():
    tenant, client, alert, rule = (uuid.uuid4() for _ in range(4))
    msg = live.message_for(
        "alert.opened",
        {
            "tenant_id": str(tenant), "client_id": str(client), "alert_id": str(alert), "rule_id": str(rule),
            "event_id": "42", "occurred_at": "2026-11-26T16:00:00+00:00", "severity": "critical",
            "kind": "threshold", "state": "open", "title": "Spend > 500 USD", "observed": 700.0,
            "reason": "x" * 10, "status": "y" * 41,
        },
    ).model_dump(exclude_none=True)  # fmt: skip
    assert msg == {
        "type": "alert.opened",
        "event_id": "42",
        "client_id": str(client),
        "occurred_at": "2026-11-26T16:00:00+00:00",
        "ids": {"alert_id": str(alert), "rule_id": str(rule)},
        "info": {"severity": "critical", "kind": "threshold", "state": "open"},
    }
    assert str(tenant) not in json.dumps(msg)  # the tenant is the socket's own; never echoed


ids = st.lists(st.uuids(), max_size=4, unique=True)


@given(scope=st.one_of(st.none(), ids), event_client=st.one_of(st.none(), st.uuids()))
def test_client_scope_property(scope, event_client):
    allowed = live.may_receive(scope, event_client)
    if scope is None:
        assert allowed  # agency-wide principals see every event of their tenant
    else:
        # a client-scoped principal: exactly the events about one of its clients, never tenant-wide ones
        assert allowed == (event_client is not None and event_client in scope)


class _Poster:
    def __init__(self, gone: set[str], broken: set[str] = frozenset()) -> None:
        self.gone, self.broken, self.sent = gone, broken, []

    def post(self, endpoint, connection_id, data):
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.broken:
            raise OSError("network")
        self.sent.append((connection_id, json.loads(data)))


def test_push_ignores_unknown_events_and_events_without_a_tenant():
    poster = _Poster(set())

    def no_db():
        raise AssertionError("no database needed")

    assert live.push(no_db, poster, "client.updated", {"tenant_id": str(uuid.uuid4())}).sent == 0
    assert live.push(no_db, poster, "alert.opened", {"client_id": str(uuid.uuid4())}).sent == 0
    assert live.push(no_db, poster, "alert.opened", {"tenant_id": "not-a-uuid"}).sent == 0
    assert poster.sent == []


def test_token_from_subprotocol_query_or_header():
    assert ws.token_from({"headers": {"Sec-WebSocket-Protocol": "msk.bearer, abc.def.ghi"}}) == "abc.def.ghi"
    assert ws.token_from({"headers": {"sec-websocket-protocol": "msk.bearer"}}) is None
    assert ws.token_from({"queryStringParameters": {"token": "msk_x"}}) == "msk_x"
    assert ws.token_from({"headers": {"Authorization": "Bearer t0k"}}) == "t0k"
    assert ws.token_from({"headers": {"Authorization": "Basic zzz"}}) is None
    assert ws.token_from({}) is None


def test_authorizer_refuses_a_handshake_without_credentials():
    # (bad and expired tokens are refused through the gateway in tests/integration/test_websocket.py)
    for event in (
        {"methodArn": "arn"},
        {"methodArn": "arn", "headers": {"Sec-WebSocket-Protocol": "msk.bearer"}},
    ):
        with pytest.raises(Exception, match="Unauthorized"):
            ws.authorize(event, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ('{"action": "subscribe"}', "unknown action 'subscribe'"),
        ("[1, 2]", "unknown action None"),
        ("x" * 5000, "at most 4096 bytes"),
    ],
)
def test_default_route_names_what_is_wrong(body, reason):
    event = {"requestContext": {"routeKey": "$default", "connectionId": "c1"}, "body": body}
    out = ws.handler(event, None)
    assert out["statusCode"] == 400 and reason in json.loads(out["body"])["message"]


def test_connect_without_authorizer_context_is_refused():
    event = {"requestContext": {"routeKey": "$connect", "connectionId": "c1", "authorizer": {}}}
    assert ws.handler(event, None)["statusCode"] == 401
