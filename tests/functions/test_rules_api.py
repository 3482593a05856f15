"""Automation rules (/api/v1/rules) through the gateway: create (dry run by default), the minimum-data gate on
ratio metrics, validation naming the field, contradicting rules refused at create and update naming the other
rule, live rules only by owners/admins, scope checks, viewer read-only on its own client, other tenants see
nothing, and rule evaluation on exact synthetic history (gated below min conversions, fires above the threshold)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.functions.test_optimization_api import make_campaign

URL = "/api/v1/rules"


def rule(world, **extra):
    body = {
        "name": f"rule {uuid.uuid4().hex[:6]}",
        "client_id": str(world.clients[0]),
        "metric": "cpa",
        "operator": ">",
        "threshold": 50,
        "window_days": 7,
        "min_conversions": 5,
        "action": "pause",
    }
    body.update(extra)
    return body


@pytest.fixture
def world(make_tenant):
    return make_tenant()


def test_create_defaults_to_dry_run_and_reads_back(api, world):
    r = api.post(URL, json=rule(world), headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    got = r.json()["rule"]
    assert got["mode"] == "dry_run" and got["enabled"] and got["schedule"] == "daily"
    assert got["created_by"] == f"user:{world.analyst.user_id}"
    one = api.get(f"{URL}/{got['id']}", headers=world.viewer.headers)
    assert one.status_code == 200 and one.json()["rule"]["metric"] == "cpa"
    listed = api.get(URL, headers=world.viewer.headers).json()["data"]["items"]
    assert [x["id"] for x in listed] == [got["id"]]


def test_validation_names_the_field(api, world):
    cases = [
        ({"metric": "ctr_pct"}, "body.metric"),
        ({"operator": "=="}, "body.operator"),
        ({"window_days": 0}, "body.window_days"),
        ({"action": "scale_budget"}, "body"),  # action_value required
        ({"action": "scale_budget", "action_value": 150}, "body"),
        ({"min_conversions": 0}, "body"),  # a cpa rule that acts needs a minimum-data gate
        ({"platform": "myspace"}, "body.platform"),
        ({"campaign_ids": [str(uuid.uuid4())]}, "body.campaign_ids.0"),
        ({"surprise": 1}, "body.surprise"),
    ]
    for extra, field in cases:
        r = api.post(URL, json=rule(world, **extra), headers=world.analyst.headers)
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["error"]["fields"][0]["field"] == field, (extra, r.text)


def test_contradicting_rules_are_refused_naming_the_other(api, world):
    first = api.post(URL, json=rule(world, name="pause expensive"), headers=world.analyst.headers).json()[
        "rule"
    ]
    r = api.post(
        URL,
        json=rule(
            world,
            name="scale cheap",
            metric="roas",
            operator=">",
            threshold=2,
            action="scale_budget",
            action_value=20,
        ),
        headers=world.analyst.headers,
    )
    assert r.status_code == 422 and first["id"] in r.text and "pause expensive" in r.text
    # the same action in the same direction is fine, and another client's scope does not overlap
    assert api.post(URL, json=rule(world, threshold=80), headers=world.analyst.headers).status_code == 201
    other_client = rule(
        world,
        client_id=str(world.clients[1]),
        metric="roas",
        threshold=2,
        action="scale_budget",
        action_value=20,
    )
    created = api.post(URL, json=other_client, headers=world.analyst.headers)
    assert created.status_code == 201, created.text
    # a disabled contradicting rule may exist; enabling it is refused
    off = api.post(
        URL,
        json=rule(world, metric="roas", threshold=2, action="scale_budget", action_value=10, enabled=False),
        headers=world.analyst.headers,
    ).json()["rule"]
    r = api.patch(f"{URL}/{off['id']}", json={"enabled": True}, headers=world.analyst.headers)
    assert r.status_code == 422 and first["id"] in r.text


def test_live_rules_need_an_owner_or_admin(api, world):
    assert api.post(URL, json=rule(world, mode="live"), headers=world.analyst.headers).status_code == 403
    created = api.post(URL, json=rule(world), headers=world.analyst.headers).json()["rule"]
    assert (
        api.patch(f"{URL}/{created['id']}", json={"mode": "live"}, headers=world.analyst.headers).status_code
        == 403
    )
    r = api.patch(
        f"{URL}/{created['id']}", json={"mode": "live", "threshold": 60}, headers=world.admin.headers
    )
    assert (
        r.status_code == 200 and r.json()["rule"]["mode"] == "live" and r.json()["rule"]["threshold"] == "60"
    )


def test_viewer_reads_only_and_only_its_client(api, world):
    mine = api.post(URL, json=rule(world), headers=world.analyst.headers).json()["rule"]
    theirs = api.post(
        URL, json=rule(world, client_id=str(world.clients[1])), headers=world.analyst.headers
    ).json()["rule"]
    tenant_wide = api.post(
        URL, json=rule(world, client_id=None, threshold=90), headers=world.analyst.headers
    ).json()["rule"]
    for viewer in (world.viewer, world.viewer_key):
        assert api.post(URL, json=rule(world), headers=viewer.headers).status_code == 403
        assert (
            api.patch(f"{URL}/{mine['id']}", json={"threshold": 1}, headers=viewer.headers).status_code == 403
        )
        assert api.delete(f"{URL}/{mine['id']}", headers=viewer.headers).status_code == 403
        assert api.get(f"{URL}/{theirs['id']}", headers=viewer.headers).status_code == 404
        assert api.get(f"{URL}/{tenant_wide['id']}", headers=viewer.headers).status_code == 404
        ids = {x["id"] for x in api.get(URL, headers=viewer.headers).json()["data"]["items"]}
        assert ids == {mine["id"]}


def test_other_tenant_sees_nothing(api, world, make_tenant):
    other = make_tenant()
    created = api.post(URL, json=rule(world), headers=world.analyst.headers).json()["rule"]
    for method in ("GET", "PATCH", "DELETE"):
        r = api.request(
            method,
            f"{URL}/{created['id']}",
            json={"threshold": 1} if method == "PATCH" else None,
            headers=other.owner.headers,
        )
        assert r.status_code == 404, (method, r.text)
    assert api.get(URL, headers=other.owner.headers).json()["data"]["items"] == []
    r = api.post(URL, json=rule(world), headers=other.owner.headers)  # world's client is not theirs ...
    assert r.status_code == 422 and r.json()["error"]["fields"][0] == {
        "field": "body.client_id",
        "reason": "no such client",
    }
    unknown = api.post(URL, json={**rule(world), "client_id": str(uuid.uuid4())}, headers=other.owner.headers)
    assert (
        unknown.json()["error"] == r.json()["error"]
    )  # ... and is answered exactly like a client that does not exist


def test_delete_is_audited(api, world, stack):
    from sqlalchemy import create_engine, text

    created = api.post(URL, json=rule(world), headers=world.analyst.headers).json()["rule"]
    assert api.delete(f"{URL}/{created['id']}", headers=world.analyst.headers).status_code == 204
    assert api.get(f"{URL}/{created['id']}", headers=world.owner.headers).status_code == 404
    engine = create_engine(stack.owner_url())
    with engine.connect() as c:
        actions = [
            r[0]
            for r in c.execute(
                text("SELECT action FROM audit_log WHERE entity_id = :i ORDER BY id"), {"i": created["id"]}
            )
        ]
    engine.dispose()
    assert actions == ["rule.create", "rule.delete"]


def test_evaluation_gates_then_fires(world):
    from strategist.adapters.db.models import AutomationRule, Campaign
    from strategist.bootstrap import system_unit_of_work
    from strategist.domain.optimization import Guardrails
    from strategist.services.optimization.rules import evaluate_campaign

    today = dt.date.today()
    thin = make_campaign(world, days=10, spend=100, conversions=0.5)  # 3.5 conversions in 7 days, CPA 200
    rich = make_campaign(world, days=10, spend=100, conversions=1)  # 7 conversions in 7 days, CPA 100
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        r = AutomationRule(
            tenant_id=world.tenant_id,
            name="t",
            metric="cpa",
            operator=">",
            threshold=80,
            window_days=7,
            min_conversions=5,
            min_spend=0,
            action="scale_budget",
            action_value=-20,
            schedule="daily",
            mode="dry_run",
            campaign_ids=[],
            enabled=True,
        )
        cand, missing = evaluate_campaign(uow, r, uow.session.get(Campaign, thin), today, Guardrails())
        assert cand is None and missing == ["at least 5 conversions in the window (have 3.5)"]
        cand, missing = evaluate_campaign(uow, r, uow.session.get(Campaign, rich), today, Guardrails())
        assert missing == [] and cand is not None and cand.dry_run
        assert cand.changes[0]["before"] == "100.00" and cand.changes[0]["after"] == "80.00"
        assert "cpa over the last 7 days is 100.0000 > 80" in cand.rationale
        r.threshold = 120
        cand, missing = evaluate_campaign(uow, r, uow.session.get(Campaign, rich), today, Guardrails())
        assert cand is None and missing == []
        r.threshold, r.action_value = 80, -50  # beyond the 30 % cap: capped and said so
        cand, _ = evaluate_campaign(uow, r, uow.session.get(Campaign, rich), today, Guardrails())
        assert cand.changes[0]["after"] == "70.00" and "capped at ±30 %" in cand.rationale
        uow.rollback()
