"""Regressions for faults the long schemathesis run (bench/schemathesis_long.py) found."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.stack]


@pytest.mark.parametrize("name", ["Straße Weekly", "ÉTÉ report", "İstanbul", "Ωmega"])
def test_a_template_name_taken_in_another_case_is_409_not_500(api: Any, make_tenant: Any, name: str) -> None:
    """Python's str.lower() and PostgreSQL's lower() disagree outside ASCII (the database's locale decides), so
    the duplicate check let the unique index answer: a 500. Both sides now lower in the database."""
    world = make_tenant()
    body = {"name": name, "subject": "s", "body_text": "b"}
    first = api.post("/api/v1/communication-templates", json=body, headers=world.analyst.headers)
    assert first.status_code == 201, first.text
    for variant in (name, name.upper(), name.lower()):
        r = api.post(
            "/api/v1/communication-templates", json={**body, "name": variant}, headers=world.analyst.headers
        )
        assert r.status_code in (201, 409), (variant, r.status_code, r.text[:200])
        if r.status_code == 409:
            assert "already exists" in r.json()["error"]["message"]


def test_a_rule_change_that_does_not_fit_the_rule_is_422_not_500(
    api: Any, make_tenant: Any, owner_engine: Any
) -> None:
    """PATCH /rules/{id} with action_value on a pause rule: valid alone, invalid merged; was a 500."""
    from tests.security.conftest import written_rows

    world = make_tenant()
    body = {
        "name": "pause expensive",
        "client_id": str(world.clients[0]),
        "metric": "cpa",
        "operator": ">",
        "threshold": 50,
        "window_days": 7,
        "min_conversions": 5,
        "action": "pause",
    }
    created = api.post("/api/v1/rules", json=body, headers=world.analyst.headers)
    assert created.status_code == 201, created.text
    rule_id = created.json()["rule"]["id"]
    before = written_rows(owner_engine, world.tenant_id)
    r = api.patch(f"/api/v1/rules/{rule_id}", json={"action_value": 10}, headers=world.analyst.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"] and "action_value" in r.text
    assert written_rows(owner_engine, world.tenant_id) == before
    assert (
        api.get(f"/api/v1/rules/{rule_id}", headers=world.analyst.headers).json()["rule"]["action"] == "pause"
    )
