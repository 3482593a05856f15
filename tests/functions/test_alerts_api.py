"""Alert rules and alerts through the local gateway, with the evaluation job run in process at fixed times:
rule validation naming the field, dedup and the state machine (acknowledge, snooze and reopen, manual and
automatic resolve), threshold / pacing / tracking-stopped / connection-broken alerts firing and resolving with
their numbers, one notification per transition, audit rows, isolation between tenants and client viewers."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

RULES = "/api/v1/alerts/rules"
ALERTS = "/api/v1/alerts"
NOW = dt.datetime.now(dt.UTC)  # snoozes are validated against the real clock; clients' zone is UTC
TODAY = NOW.date()
PACING_NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)  # today 2026-11-20: 19 complete days of November


def _campaign(world, client_index=0, *, platform="google_ads", budget=None, connection_id=None) -> uuid.UUID:
    from strategist.adapters.db.models import Campaign
    from strategist.bootstrap import system_unit_of_work

    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        camp = Campaign(
            id=uuid.uuid4(), tenant_id=world.tenant_id, client_id=world.clients[client_index], platform=platform,
            external_id=f"x-{uuid.uuid4().hex[:12]}", name=f"{platform} campaign", status="active", currency="USD",
            budget_amount=budget, budget_type=None if budget is None else "daily", connection_id=connection_id,
        )  # fmt: skip
        uow.session.add(camp)
        return camp.id


def _metrics(world, campaign_id, days: dict[dt.date, tuple[float, int, float]]) -> None:
    """days: date -> (cost, clicks, conversions)."""
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.bootstrap import system_unit_of_work

    rows = [
        MetricRow(
            campaign_id=campaign_id,
            date=d,
            currency="USD",
            cost=Decimal(str(cost)),
            impressions=clicks * 50,
            clicks=clicks,
            conversions=Decimal(str(conv)),
            conversion_value=Decimal(str(conv * 40)),
            time_zone="UTC",
            attribution_window="test",
            source="test",
        )
        for d, (cost, clicks, conv) in days.items()
    ]
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        upsert_metrics(uow.session, world.tenant_id, rows)


def _run(world, now=NOW):
    from strategist.bootstrap import system_unit_of_work
    from strategist.services.alerts import evaluate

    return evaluate.run(lambda: system_unit_of_work("test_alerts"), tenant_id=world.tenant_id, now=now)


def _db(stack, sql, **params):
    engine = create_engine(stack.owner_url())
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def _notifications(stack, alert_id) -> list[str]:
    rows = _db(stack, "SELECT dedupe_key FROM client_communications WHERE dedupe_key LIKE :k ORDER BY created_at",
               k=f"alert:{alert_id}:%")  # fmt: skip
    return [r[0] for r in rows]


def _alerts(api, world, **params):
    r = api.get(ALERTS, params=params, headers=world.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]["items"]


@pytest.fixture(scope="module")
def world(make_tenant_module):
    return make_tenant_module()


def _rule(api, world, **body):
    payload = {"client_id": str(world.clients[0]), "name": "rule", "channels": ["in_app"], **body}
    r = api.post(RULES, json=payload, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    return r.json()["rule"]


def test_rule_validation_names_the_field(api, world):
    base = {"client_id": str(world.clients[0]), "name": "Spend cap", "kind": "threshold",
            "params": {"metric": "cost", "comparator": "gt", "value": 500, "window_days": 7}}  # fmt: skip

    def fields(**change):
        r = api.post(RULES, json={**base, **change}, headers=world.analyst.headers)
        assert r.status_code == 422, r.text
        return {f["field"] for f in r.json()["error"]["fields"]}

    assert "body.kind" in fields(kind="weather")
    assert "body.params.metric" in fields(params={"comparator": "gt", "value": 1})
    assert "body.params.metric" in fields(params={**base["params"], "metric": "likes"})
    assert "body.params.comparator" in fields(params={**base["params"], "comparator": "about"})
    assert "body.params.window_days" in fields(params={**base["params"], "window_days": 0})
    assert "body.params.surprise" in fields(params={**base["params"], "surprise": 1})
    assert "body" in fields(scope="campaign")  # campaign scope without campaign_id
    assert "body.campaign_id" in fields(scope="campaign", campaign_id=str(uuid.uuid4()))
    assert "body.params.monthly_target" in fields(
        kind="pacing", params={}
    )  # the client has no monthly budget
    assert "body.params" in fields(kind="pacing", params={"monthly_target": 100, "band_start_pct": 5,
                                                          "band_end_pct": 10})  # fmt: skip
    assert "body.params.sensitivity" in fields(kind="anomaly", params={"sensitivity": "paranoid"})
    assert "body.recipients.0" in fields(channels=["email"], recipients=["+14155550100"])
    assert "body.recipients" in fields(recipients=["not a recipient"])
    assert "body.channels.0" in fields(channels=["pager"])
    assert "body.severity" in fields(severity="apocalyptic")


def test_rule_crud_roles_and_isolation(api, world, make_tenant, stack):
    rule = _rule(api, world, name="CPA ceiling", kind="threshold", recipients=[],
                 params={"metric": "cpa", "comparator": "gt", "value": "25.5", "window_days": 14})  # fmt: skip
    assert rule["params"]["min_denominator"] == "0" and rule["scope"] == "client"
    url = f"{RULES}/{rule['id']}"
    assert api.get(url, headers=world.viewer.headers).status_code == 200  # the viewer's own client
    other_client = _rule(api, world, client_id=str(world.clients[1]), kind="connection_broken", name="conn")
    listed = api.get(RULES, headers=world.viewer.headers).json()["rules"]["items"]
    assert rule["id"] in {r["id"] for r in listed} and other_client["id"] not in {r["id"] for r in listed}
    assert api.get(f"{RULES}/{other_client['id']}", headers=world.viewer.headers).status_code == 404
    assert (
        api.get(RULES, params={"client_id": str(world.clients[1])}, headers=world.viewer.headers).status_code
        == 404
    )
    # viewers cannot write
    assert api.post(RULES, json={"client_id": str(world.clients[0]), "name": "x", "kind": "connection_broken"},
                    headers=world.viewer.headers).status_code == 403  # fmt: skip
    assert api.patch(url, json={"enabled": False}, headers=world.viewer.headers).status_code == 403
    assert api.delete(url, headers=world.viewer.headers).status_code == 403
    # PATCH validates params against the rule's kind and is audited
    bad = api.patch(url, json={"params": {"metric": "cpa"}}, headers=world.analyst.headers)
    assert bad.status_code == 422 and "body.params.comparator" in bad.text
    ok = api.patch(url, json={"params": {"metric": "cpa", "comparator": "gte", "value": 30}, "severity": "critical"},
                   headers=world.analyst.headers)  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert ok.json()["rule"]["params"]["comparator"] == "gte" and ok.json()["rule"]["severity"] == "critical"
    audit = _db(stack, "SELECT action FROM audit_log WHERE entity_id = :i ORDER BY id", i=rule["id"])
    assert [a[0] for a in audit] == ["alert_rule.created", "alert_rule.updated"]
    # another tenant sees nothing and changes nothing
    other = make_tenant()
    for call in (api.get(url, headers=other.owner.headers),
                 api.patch(url, json={"enabled": False}, headers=other.owner.headers),
                 api.delete(url, headers=other.owner.headers)):  # fmt: skip
        assert call.status_code == 404
    assert rule["id"] not in api.get(RULES, headers=other.owner.headers).text
    foreign = api.post(RULES, json={"client_id": str(world.clients[0]), "name": "x", "kind": "connection_broken"},
                       headers=other.owner.headers)  # fmt: skip
    assert foreign.status_code == 422 and "body.client_id" in foreign.text
    assert api.delete(url, headers=world.analyst.headers).status_code == 204
    assert api.get(url, headers=world.analyst.headers).status_code == 404
    assert api.delete(f"{RULES}/{other_client['id']}", headers=world.analyst.headers).status_code == 204


def test_default_rules_are_installed_once(api, make_tenant, stack):
    w = make_tenant()
    engine = create_engine(stack.owner_url())
    with engine.begin() as conn:
        conn.execute(text("UPDATE clients SET monthly_budget = 3000 WHERE id = :c"), {"c": w.clients[0]})
    engine.dispose()
    body = {"client_id": str(w.clients[0])}
    assert api.post(f"{RULES}/defaults", json=body, headers=w.viewer.headers).status_code == 403
    first = api.post(f"{RULES}/defaults", json=body, headers=w.analyst.headers)
    assert first.status_code == 200, first.text
    kinds = sorted(r["kind"] for r in first.json()["rules"]["items"])
    assert kinds == ["anomaly", "connection_broken", "pacing", "tracking_stopped"]
    assert all(r["is_default"] for r in first.json()["rules"]["items"])
    again = api.post(f"{RULES}/defaults", json=body, headers=w.analyst.headers)
    assert again.json()["rules"]["items"] == []
    # client 1 has no monthly budget: no pacing default
    second = api.post(f"{RULES}/defaults", json={"client_id": str(w.clients[1])}, headers=w.owner.headers)
    assert sorted(r["kind"] for r in second.json()["rules"]["items"]) == ["anomaly", "connection_broken",
                                                                          "tracking_stopped"]  # fmt: skip


def test_threshold_alert_dedup_state_machine_and_notifications(api, world, stack, make_tenant):
    camp = _campaign(world)
    _metrics(world, camp, {TODAY - dt.timedelta(days=i): (100.0, 200, 5.0) for i in range(1, 15)})
    rule = _rule(api, world, name="Weekly spend cap", kind="threshold", scope="campaign", campaign_id=str(camp),
                 params={"metric": "cost", "comparator": "gt", "value": 500, "window_days": 7})  # fmt: skip
    report = _run(world)
    assert report.opened == 1 and report.notified == 1
    alerts = _alerts(api, world, rule_id=rule["id"])
    assert len(alerts) == 1
    a = alerts[0]
    assert a["state"] == "open" and a["kind"] == "threshold" and a["campaign_id"] == str(camp)
    assert a["evidence"]["observed"] == 700.0 and a["evidence"]["value"] == 500.0
    assert a["evidence"]["window"]["start"] == str(TODAY - dt.timedelta(days=7))
    assert a["evidence"]["window"]["end"] == str(TODAY - dt.timedelta(days=1))
    assert "700.00 USD" in a["message"] and "> the rule's 500.00 USD" in a["message"]
    assert a["evidence"]["data_as_of"] is not None
    # re-firing updates, never duplicates or re-notifies
    again = _run(world, NOW + dt.timedelta(minutes=15))
    assert again.opened == 0 and again.updated >= 1 and again.notified == 0
    assert len(_alerts(api, world, rule_id=rule["id"])) == 1
    assert _notifications(stack, a["id"]) == [f"alert:{a['id']}:1:opened"]
    # roles and isolation on the transition routes
    ack_url = f"{ALERTS}/{a['id']}/acknowledge"
    assert api.post(ack_url, json={}, headers=world.viewer.headers).status_code == 403
    other = make_tenant()
    for path in ("acknowledge", "resolve"):
        assert api.post(f"{ALERTS}/{a['id']}/{path}", json={}, headers=other.owner.headers).status_code == 404
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert (
        api.post(f"{ALERTS}/{a['id']}/snooze", json={"until": until}, headers=other.owner.headers).status_code
        == 404
    )
    assert api.get(f"{ALERTS}/{a['id']}", headers=other.owner.headers).status_code == 404
    assert a["id"] not in api.get(ALERTS, headers=other.owner.headers).text
    # acknowledge (audited, once)
    acked = api.post(ack_url, json={"note": "on it"}, headers=world.analyst.headers)
    assert acked.status_code == 200 and acked.json()["alert"]["state"] == "acknowledged"
    assert api.post(ack_url, json={}, headers=world.analyst.headers).status_code == 409
    # the condition clears: auto-resolve, notified once
    _metrics(world, camp, {TODAY - dt.timedelta(days=i): (50.0, 200, 5.0) for i in range(1, 15)})
    cleared = _run(world, NOW + dt.timedelta(minutes=30))
    assert cleared.resolved == 1 and cleared.notified == 1
    got = api.get(f"{ALERTS}/{a['id']}", headers=world.viewer.headers).json()["alert"]
    assert got["state"] == "resolved" and got["resolved_by"] == "auto" and got["firing"] is False
    assert _notifications(stack, a["id"]) == [f"alert:{a['id']}:1:opened", f"alert:{a['id']}:3:resolved"]
    # it fires again: a new alert; snooze it; a run inside the snooze stays quiet, after it reopens
    _metrics(world, camp, {TODAY - dt.timedelta(days=i): (100.0, 200, 5.0) for i in range(1, 15)})
    _run(world, NOW + dt.timedelta(minutes=45))
    live = _alerts(api, world, rule_id=rule["id"], state="open")
    assert len(live) == 1 and live[0]["id"] != a["id"]
    b = live[0]
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    bad = api.post(f"{ALERTS}/{b['id']}/snooze", json={"until": past}, headers=world.analyst.headers)
    assert bad.status_code == 422 and "body.until" in bad.text
    far = (dt.datetime.now(dt.UTC) + dt.timedelta(days=91)).isoformat()
    assert (
        api.post(f"{ALERTS}/{b['id']}/snooze", json={"until": far}, headers=world.analyst.headers).status_code
        == 422
    )
    until_dt = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    s = api.post(
        f"{ALERTS}/{b['id']}/snooze", json={"until": until_dt.isoformat()}, headers=world.analyst.headers
    )
    assert s.status_code == 200 and s.json()["alert"]["state"] == "snoozed"
    quiet = _run(world, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert quiet.notified == 0 and quiet.reopened == 0
    woke = _run(world, until_dt + dt.timedelta(minutes=1))
    assert woke.reopened == 1 and woke.notified == 1
    got = api.get(f"{ALERTS}/{b['id']}", headers=world.analyst.headers).json()["alert"]
    assert got["state"] == "open" and got["snoozed_until"] is None
    assert [k.rsplit(":", 1)[1] for k in _notifications(stack, b["id"])] == ["opened", "reopened"]
    # manual resolve while still firing: the next run opens a new alert
    r = api.post(
        f"{ALERTS}/{b['id']}/resolve", json={"note": "budget raised on purpose"}, headers=world.admin.headers
    )
    assert r.status_code == 200 and r.json()["alert"]["resolved_by"].startswith("user:")
    assert api.post(f"{ALERTS}/{b['id']}/resolve", json={}, headers=world.admin.headers).status_code == 409
    assert api.post(f"{ALERTS}/{b['id']}/snooze", json={"until": until_dt.isoformat()},
                    headers=world.admin.headers).status_code == 409  # fmt: skip
    _run(world, until_dt + dt.timedelta(minutes=20))
    assert len(_alerts(api, world, rule_id=rule["id"], state="open")) == 1
    # every state change is audited
    actions = [
        x[0] for x in _db(stack, "SELECT action FROM audit_log WHERE entity_id = :i ORDER BY id", i=b["id"])
    ]
    assert actions == ["alert.opened", "alert.snoozed", "alert.reopened", "alert.resolved_manually"]
    actions = [
        x[0] for x in _db(stack, "SELECT action FROM audit_log WHERE entity_id = :i ORDER BY id", i=a["id"])
    ]
    assert actions == ["alert.opened", "alert.acknowledged", "alert.resolved"]
    # filters
    assert {x["state"] for x in _alerts(api, world, state="resolved")} == {"resolved"}
    assert all(x["severity"] == "warning" for x in _alerts(api, world, severity="warning"))
    assert _alerts(api, world, kind="pacing") == []
    assert api.get(ALERTS, params={"state": "sleepy"}, headers=world.owner.headers).status_code == 422


def test_viewer_sees_only_its_clients_alerts(api, world):
    camp1 = _campaign(world, 1)
    _metrics(world, camp1, {TODAY - dt.timedelta(days=i): (100.0, 200, 5.0) for i in range(1, 8)})
    rule = _rule(api, world, client_id=str(world.clients[1]), name="c1 cap", kind="threshold", scope="campaign",
                 campaign_id=str(camp1), params={"metric": "clicks", "comparator": "gte", "value": 1000})  # fmt: skip
    _run(world)
    hidden = _alerts(api, world, rule_id=rule["id"])
    assert len(hidden) == 1
    aid = hidden[0]["id"]
    assert api.get(f"{ALERTS}/{aid}", headers=world.viewer.headers).status_code == 404
    assert aid not in api.get(ALERTS, headers=world.viewer.headers).text
    assert (
        api.get(ALERTS, params={"client_id": str(world.clients[1])}, headers=world.viewer.headers).status_code
        == 404
    )
    assert api.post(f"{ALERTS}/{aid}/acknowledge", json={}, headers=world.viewer.headers).status_code in {
        403,
        404,
    }


def test_pacing_alert_states_its_band_and_projection(api, make_tenant, stack):
    w = make_tenant()
    engine = create_engine(stack.owner_url())
    with engine.begin() as conn:
        conn.execute(text("UPDATE clients SET monthly_budget = 3000 WHERE id = :c"), {"c": w.clients[0]})
    engine.dispose()
    camp = _campaign(w)
    # 19 complete days of November at 200/day = 3,800 against an expected 3000 x 19/30 = 1,900: over
    _metrics(w, camp, {dt.date(2026, 11, d): (200.0, 100, 3.0) for d in range(1, 20)})
    rule = _rule(api, w, name="Pacing", kind="pacing", params={"curve": "linear"})
    _run(w, PACING_NOW)
    [a] = _alerts(api, w, rule_id=rule["id"])
    ev = a["evidence"]
    assert ev["status"] == "over" and ev["target"] == 3000.0 and ev["elapsed_days"] == 19
    assert ev["expected_to_date"] == 1900.0 and ev["spend_to_date"] == 3800.0 and ev["pace_pct"] == 200.0
    tol = round(15 - 10 * 19 / 30, 4)
    assert ev["tolerance_pct"] == tol
    assert ev["band"] == [round(1900 * (1 - tol / 100), 2), round(1900 * (1 + tol / 100), 2)]
    assert ev["projected_month_end"]["p50"] == 3800 + 11 * 200  # flat spend: no spread
    assert "narrowing toward month end" in a["message"] and "x 19 / 30" in a["message"]
    # under the band: halve the spend to 40/day = 760 (40 % of expected)
    _metrics(w, camp, {dt.date(2026, 11, d): (40.0, 100, 3.0) for d in range(1, 20)})
    _run(w, PACING_NOW + dt.timedelta(minutes=15))
    [a2] = _alerts(api, w, rule_id=rule["id"])
    assert a2["id"] == a["id"] and a2["evidence"]["status"] == "under"  # same object, same alert, updated
    # on track: 100/day = 1,900
    _metrics(w, camp, {dt.date(2026, 11, d): (100.0, 100, 3.0) for d in range(1, 20)})
    _run(w, PACING_NOW + dt.timedelta(minutes=30))
    [a3] = _alerts(api, w, rule_id=rule["id"])
    assert a3["state"] == "resolved" and a3["evidence"]["cleared"]["status"] == "on_track"


def test_tracking_stopped_and_connection_broken_fire_and_resolve(api, make_tenant, stack):
    from strategist.adapters.db.models import PlatformConnection
    from strategist.bootstrap import system_unit_of_work

    w = make_tenant()
    conn_id = uuid.uuid4()
    with system_unit_of_work("test") as uow:
        uow.set_tenant(w.tenant_id)
        uow.session.add(PlatformConnection(
            id=conn_id, tenant_id=w.tenant_id, client_id=w.clients[0], platform="meta_ads", account_id="act_1",
            name="Meta main", status="broken", broken_reason="token expired", credentials={"v": 1},
            broken_at=NOW - dt.timedelta(hours=3), last_sync_at=NOW - dt.timedelta(hours=4),
        ))  # fmt: skip
    camp = _campaign(w, platform="meta_ads", connection_id=conn_id)
    days = {TODAY - dt.timedelta(days=i): (80.0, 150, 4.0) for i in range(3, 40)}
    days |= {TODAY - dt.timedelta(days=i): (80.0, 150, 0.0) for i in (1, 2)}
    _metrics(w, camp, days)
    tracking = _rule(api, w, name="Tracking", kind="tracking_stopped", severity="critical")
    broken = _rule(api, w, name="Connections", kind="connection_broken", severity="critical",
                   params={"stale_after_hours": 48})  # fmt: skip
    report = _run(w)
    assert report.opened == 2
    [t] = _alerts(api, w, rule_id=tracking["id"])
    assert t["state"] == "open" and t["severity"] == "critical" and t["campaign_id"] == str(camp)
    assert [d["conversions"] for d in t["evidence"]["recent_days"]] == [0.0, 0.0]
    assert t["evidence"]["baseline"]["days_with_conversions"] == 28
    assert "300 clicks and no conversions over the last 2 complete days" in t["message"]
    [c] = _alerts(api, w, rule_id=broken["id"])
    assert c["connection_id"] == str(conn_id) and "token expired" in c["message"]
    assert c["evidence"]["connection"]["status"] == "broken"
    # conversions come back (late restatement) and the connection is reconnected and syncing
    _metrics(w, camp, {TODAY - dt.timedelta(days=i): (80.0, 150, 3.0) for i in (1, 2)})
    with system_unit_of_work("test") as uow:
        uow.set_tenant(w.tenant_id)
        row = uow.session.get(PlatformConnection, conn_id)
        row.status, row.broken_reason, row.last_sync_at = "active", None, dt.datetime.now(dt.UTC)
    report = _run(w, NOW + dt.timedelta(minutes=15))
    assert report.resolved == 2
    assert {x["state"] for x in _alerts(api, w)} == {"resolved"}
    # stale sync on a live connection fires too
    with system_unit_of_work("test") as uow:
        uow.set_tenant(w.tenant_id)
        uow.session.get(PlatformConnection, conn_id).last_sync_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            hours=72
        )
    _run(w, NOW + dt.timedelta(minutes=30))
    [stale] = _alerts(api, w, rule_id=broken["id"], state="open")
    assert "has not synced for over 48 hours" in stale["title"]


def test_preview_evaluates_without_writing(api, world, stack, make_tenant):
    camp = _campaign(world)
    _metrics(world, camp, {TODAY - dt.timedelta(days=i): (100.0, 200, 5.0) for i in range(1, 8)})
    rule = _rule(api, world, name="Preview me", kind="threshold", scope="campaign", campaign_id=str(camp),
                 params={"metric": "cpc", "comparator": "gte", "value": "0.5", "window_days": 7})  # fmt: skip
    url = f"{RULES}/{rule['id']}/preview"
    audit_before = _db(stack, "SELECT count(*) FROM audit_log WHERE tenant_id = :t", t=world.tenant_id)[0][0]
    r = api.post(url, json={}, headers=world.analyst.headers)
    assert r.status_code == 200, r.text
    [f] = r.json()["preview"]["findings"]
    assert f["status"] == "firing" and f["evidence"]["observed"] == 0.5 and f["live_alert_id"] is None
    assert r.json()["preview"]["client_today"] == str(dt.datetime.now(dt.UTC).date())
    assert _alerts(api, world, rule_id=rule["id"]) == []
    assert (
        _db(stack, "SELECT count(*) FROM audit_log WHERE tenant_id = :t", t=world.tenant_id)[0][0]
        == audit_before
    )
    assert api.post(url, json={}, headers=world.viewer.headers).status_code == 403
    other = make_tenant()
    assert api.post(url, json={}, headers=other.owner.headers).status_code == 404
    foreign = api.post(
        f"{RULES}/defaults", json={"client_id": str(world.clients[0])}, headers=other.owner.headers
    )
    assert foreign.status_code == 422 and "body.client_id" in foreign.text
    # a viewer may not change alert state either
    _run(world)
    [a] = _alerts(api, world, rule_id=rule["id"])
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert (
        api.post(
            f"{ALERTS}/{a['id']}/snooze", json={"until": until}, headers=world.viewer.headers
        ).status_code
        == 403
    )
    assert api.post(f"{ALERTS}/{a['id']}/resolve", json={}, headers=world.viewer.headers).status_code == 403
    again = api.post(url, json={}, headers=world.analyst.headers).json()["preview"]["findings"][0]
    assert again["live_alert_id"] == a["id"]
