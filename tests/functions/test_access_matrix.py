"""Every authorized route in template.yaml, called by someone who must not reach the target: no credentials,
the other tenant's owner, and a client viewer. Each answers 401/403/404 and writes nothing."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine, text

from infra.template import load_template

ROUTES = [r for r in load_template().routes if r.authorized]
#: What a client viewer may read: the tenant's name (and its own identity), its own client, and that client's
#: campaigns and dashboard. Collection routes answer 200 with the viewer's own data only.
VIEWER_ALLOWED = {
    ("/api/v1/tenant", "GET"),
    ("/api/v1/clients", "GET"),
    ("/api/v1/clients/{client_id}", "GET"),
    ("/api/v1/campaigns", "GET"),
    ("/api/v1/analytics/dashboard", "GET"),
    ("/api/v1/strategies", "GET"),
    ("/api/v1/experiments", "GET"),
}
# -- issue 6, alerts slice: a viewer lists its own client's alert rules and alerts (read only)
VIEWER_ALLOWED |= {("/api/v1/alerts", "GET"), ("/api/v1/alerts/rules", "GET")}
# -- issue 7, assistant slice: a viewer lists its own assistant conversations and competitor analyses, and may ask
#    the assistant about its own client; the matrix's body is not a valid chat request, so that answers 422 (and
#    writes nothing) instead of 200.
VIEWER_ALLOWED |= {
    ("/api/v1/assistant/conversations", "GET"),
    ("/api/v1/competitor-analysis", "GET"),
}
VIEWER_MAY_POST = {("/api/v1/assistant/chat", "POST")}
# -- issue 6, optimize slice: a viewer reads its own client's optimizations, recommendations and rules (never
#    optimizes, applies, approves, undoes or edits rules)
VIEWER_ALLOWED |= {
    ("/api/v1/optimizations", "GET"),
    ("/api/v1/recommendations", "GET"),
    ("/api/v1/rules", "GET"),
}

# -- issue 7, reports slice: a viewer lists and reads its own client's reports and report schedules (read only)
VIEWER_ALLOWED |= {("/api/v1/reports", "GET"), ("/api/v1/report-schedules", "GET")}
# -- issue 7, communications slice: a viewer lists its own client's communications and its in-app notifications
VIEWER_ALLOWED |= {("/api/v1/communications", "GET"), ("/api/v1/communications/in-app", "GET")}


def _fill(path: str, world) -> str:
    """Path parameters point at the victim tenant's real objects, so a leak would be visible."""
    values = {
        "client_id": str(world.clients[1]),  # not the viewer's client
        "user_id": str(world.analyst.user_id),
        "invitation_id": str(uuid.uuid4()),
        "key_id": str(uuid.uuid4()),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


def _body(method: str) -> dict | None:
    return {"name": "intruder"} if method in {"POST", "PATCH", "PUT"} else None


def _writes(engine, tenant_id) -> tuple[int, int]:
    with engine.connect() as conn:
        audit = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar()
        outbox = conn.execute(
            text("SELECT count(*) FROM outbox WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar()
    return audit, outbox


@pytest.fixture(scope="module")
def worlds(make_tenant_module):
    return make_tenant_module(), make_tenant_module()


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_outsiders_are_refused_and_write_nothing(route, api, worlds, stack):
    victim, intruder = worlds
    engine = create_engine(stack.owner_url())
    before = _writes(engine, victim.tenant_id)
    path = _fill(route.path, victim)
    body = _body(route.method)

    anonymous = api.request(route.method, path, json=body)
    assert anonymous.status_code == 401

    other_owner = api.request(route.method, path, json=body, headers=intruder.owner.headers)
    if "{" not in route.path:
        # collection routes answer for the caller's own tenant; they must never show the victim's objects
        assert str(victim.tenant_id) not in other_owner.text
        assert all(str(c) not in other_owner.text for c in victim.clients)
    else:
        assert other_owner.status_code in {403, 404}, other_owner.text

    for viewer in (victim.viewer, victim.viewer_key):
        r = api.request(route.method, path, json=body, headers=viewer.headers)
        if (route.path, route.method) in VIEWER_ALLOWED and "{" not in route.path:
            assert r.status_code == 200
            assert str(victim.clients[1]) not in r.text
        else:
            refused = {403, 404, 422} if (route.path, route.method) in VIEWER_MAY_POST else {403, 404}
            assert r.status_code in refused, (viewer.role, r.status_code, r.text)

    assert _writes(engine, victim.tenant_id) == before
    engine.dispose()
