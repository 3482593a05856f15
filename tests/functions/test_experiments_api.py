"""Experiments through the local gateway: sample size against a hand calculation, a clear winner → ship, no
difference → futility, a young test → keep running, validation errors naming the field, isolation, roles, and the
recorded stop decision (audit + outbox)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from statistics import NormalDist

import pytest
from sqlalchemy import create_engine, text

URL = "/api/v1/experiments"
TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=14)


def _campaigns(world, specs, wobble: float = 0.0) -> list[uuid.UUID]:
    """Campaigns with exact daily clicks and conversions: 28 baseline days before START, then 14 test days.
    spec = (platform, clicks/day, baseline conversion rate, conversion rate during the test); `wobble` swings the
    daily rate by a fixed +-share, alternating by day (noise with a known shape)."""
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import Campaign
    from strategist.bootstrap import system_unit_of_work

    ids = []
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        rows = []
        for platform, clicks, base_rate, test_rate in specs:
            camp = Campaign(
                id=uuid.uuid4(),
                tenant_id=world.tenant_id,
                client_id=world.clients[0],
                platform=platform,
                external_id=f"x-{uuid.uuid4().hex[:12]}",
                name=f"{platform} arm",
                status="active",
                currency="USD",
            )
            uow.session.add(camp)
            uow.session.flush()
            ids.append(camp.id)
            for d in range(42, 0, -1):
                day = TODAY - dt.timedelta(days=d)
                rate = (test_rate if day >= START else base_rate) * (1 + wobble * (-1) ** d)
                conv = Decimal(str(round(clicks * rate, 2)))
                rows.append(
                    MetricRow(
                        campaign_id=camp.id,
                        date=day,
                        currency="USD",
                        cost=Decimal(clicks) / 2,
                        impressions=clicks * 40,
                        clicks=clicks,
                        conversions=conv,
                        conversion_value=conv * 50,
                        time_zone="UTC",
                        attribution_window="test",
                        source="test",
                    )
                )
        upsert_metrics(uow.session, world.tenant_id, rows)
    return ids


def _body(world, ids, **extra):
    return {
        "client_id": str(world.clients[0]),
        "name": "Landing page B",
        "hypothesis": "A shorter form converts better",
        "metric": "conversion_rate",
        "variants": [
            {"key": "control", "name": "Current page", "campaign_id": str(ids[0])},
            {"key": "short-form", "name": "Short form", "campaign_id": str(ids[1])},
        ],
        "mde": 0.2,
        "start_date": START.isoformat(),
        **extra,
    }


def _hand_n(p1: float, mde: float, alpha: float, power: float) -> int:
    z = NormalDist().inv_cdf
    p2 = p1 * (1 + mde)
    pbar = (p1 + p2) / 2
    num = z(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar)) + z(power) * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(num**2 / (p2 - p1) ** 2)


@pytest.fixture(scope="module")
def world(make_tenant_module):
    return make_tenant_module()


def test_winner_ships_and_sample_size_matches_hand_calculation(api, world, stack):
    ids = _campaigns(world, [("google_ads", 2000, 0.03, 0.03), ("meta_ads", 2000, 0.03, 0.06)])
    r = api.post(URL, json=_body(world, ids), headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    e = r.json()["experiment"]
    # baseline 3 % over 28 days, mde 20 % relative, alpha 0.05, power 0.8: about 13 914 clicks per arm
    assert e["design"]["baseline"] == pytest.approx(0.03)
    assert e["required_sample_size_per_variant"] == _hand_n(0.03, 0.2, 0.05, 0.8) == 13914
    assert e["expected_duration_days"] == math.ceil(13914 / 2000) == 7
    assert e["status"] == "running" and e["platform"] == "multiple"

    got = api.get(f"{URL}/{e['id']}", headers=world.viewer.headers)  # a viewer of this client may read it
    assert got.status_code == 200, got.text
    res = got.json()["experiment"]["results"]
    comp = res["comparisons"][0]
    assert comp["control_value"] == pytest.approx(0.03) and comp["variant_value"] == pytest.approx(0.06)
    assert comp["difference"] == pytest.approx(0.03)
    assert comp["relative_difference"] == pytest.approx(1.0)
    assert comp["ci"][0] > 0 and comp["confidence_sequence"][0] > 0
    assert comp["always_valid_p"] < 0.05 and comp["recommendation"] == "ship"
    assert res["recommendation"]["action"] == "ship" and res["recommendation"]["variant"] == "short-form"
    assert "always-valid p" in res["recommendation"]["reason"]
    assert res["variants"][0]["clicks"] == 2000 * 14
    assert "not synced yet" in res["platform_statistics"]["google_ads"]["reason"]

    listed = api.get(URL, params={"client_id": str(world.clients[0])}, headers=world.viewer.headers)
    assert e["id"] in {i["id"] for i in listed.json()["data"]["items"]}

    # the decision: viewer may not, analyst may; audit + outbox; a second stop conflicts
    stop = {"outcome": "ship", "winner": "short-form", "reason": "clear winner"}
    assert api.post(f"{URL}/{e['id']}/stop", json=stop, headers=world.viewer.headers).status_code == 403
    bad = api.post(f"{URL}/{e['id']}/stop", json={**stop, "winner": "nope"}, headers=world.analyst.headers)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.winner"
    done = api.post(f"{URL}/{e['id']}/stop", json=stop, headers=world.analyst.headers)
    assert done.status_code == 200, done.text
    out = done.json()["experiment"]
    assert out["status"] == "shipped" and out["decision"]["winner"] == "short-form"
    assert out["decision"]["advice_at_decision"]["action"] == "ship"
    again = api.post(f"{URL}/{e['id']}/stop", json=stop, headers=world.analyst.headers)
    assert again.status_code == 409
    engine = create_engine(stack.owner_url())
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT count(*) FROM outbox WHERE event_type = 'experiment.stopped' AND detail->>'experiment_id' = :i"
            ),
            {"i": e["id"]},
        ).scalar()
        audits = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'experiment.stop' AND entity_id = :i"),
            {"i": e["id"]},
        ).scalar()
    engine.dispose()
    assert events == 1 and audits == 1


def test_no_difference_is_futile_when_large_and_open_when_small(api, world):
    big = _campaigns(world, [("meta_ads", 50000, 0.03, 0.03), ("meta_ads", 50000, 0.03, 0.03)])
    r = api.post(URL, json=_body(world, big), headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    res = api.get(f"{URL}/{r.json()['experiment']['id']}", headers=world.analyst.headers).json()["experiment"]
    comp = res["results"]["comparisons"][0]
    assert comp["difference"] == pytest.approx(0.0)
    assert comp["confidence_sequence"][0] > -0.006 and comp["confidence_sequence"][1] < 0.006
    assert res["results"]["recommendation"]["action"] == "stop"
    assert "futility" in res["results"]["recommendation"]["reason"]
    assert res["results"]["platform_statistics"] == {}

    small = _campaigns(world, [("meta_ads", 100, 0.03, 0.03), ("meta_ads", 100, 0.03, 0.03)])
    r = api.post(URL, json=_body(world, small), headers=world.analyst.headers)
    res = api.get(f"{URL}/{r.json()['experiment']['id']}", headers=world.analyst.headers).json()["experiment"]
    assert res["results"]["recommendation"]["action"] == "keep_running"
    assert res["results"]["comparisons"][0]["always_valid_p"] >= 0.05


def test_ratio_metric_uses_delta_method_and_states_assumptions(api, world):
    ids = _campaigns(world, [("meta_ads", 1000, 0.03, 0.03), ("meta_ads", 1000, 0.03, 0.03)], wobble=0.2)
    r = api.post(URL, json=_body(world, ids, metric="roas", mde=0.1), headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    design = r.json()["experiment"]["design"]
    assert design["method"].startswith("delta method on 28 days")
    assert r.json()["experiment"]["required_sample_size_per_variant"] >= 1
    got = api.get(f"{URL}/{r.json()['experiment']['id']}", headers=world.analyst.headers)
    assert got.status_code == 200, got.text
    assert got.json()["experiment"]["results"]["comparisons"][0]["difference"] == pytest.approx(0.0)


def test_validation_errors_name_the_field(api, world, make_tenant):
    ids = _campaigns(world, [("meta_ads", 100, 0.03, 0.03), ("meta_ads", 100, 0.03, 0.03)])
    body = _body(world, ids)

    def field(**change):
        r = api.post(URL, json={**body, **change}, headers=world.analyst.headers)
        assert r.status_code == 422, r.text
        return {f["field"] for f in r.json()["error"]["fields"]}

    assert "body.variants" in field(variants=body["variants"][:1])
    assert "body.variants" in field(variants=[body["variants"][0], {**body["variants"][1], "key": "control"}])
    assert "body.mde" in field(mde=0)
    assert "body.mde" in field(mde=1.5)
    assert "body.alpha" in field(alpha=0.5)
    assert "body.power" in field(power=1.0)
    assert "body.metric" in field(metric="likes")
    other = make_tenant()
    foreign = _campaigns(other, [("meta_ads", 10, 0.03, 0.03)])[0]
    alien = [body["variants"][0], {**body["variants"][1], "campaign_id": str(foreign)}]
    assert field(variants=alien) == {"body.variants.1.campaign_id"}
    # a viewer cannot create; another tenant cannot read or stop
    assert api.post(URL, json=body, headers=world.viewer.headers).status_code == 403
    created = api.post(URL, json=body, headers=world.analyst.headers).json()["experiment"]
    assert api.get(f"{URL}/{created['id']}", headers=other.owner.headers).status_code == 404
    stop = {"outcome": "stop", "reason": "x"}
    assert api.post(f"{URL}/{created['id']}/stop", json=stop, headers=other.owner.headers).status_code == 404
    assert created["id"] not in api.get(URL, headers=other.owner.headers).text
