"""Campaigns through the local gateway: manual create, metrics import (CSV and JSON, all-or-nothing, idempotent),
totals that are sums and ratios of sums, pagination and filters, cross-tenant and client-viewer isolation."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

TODAY = dt.datetime.now(dt.UTC).date()  # the fixture's clients report in UTC


def day(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def world(make_tenant_module):
    return make_tenant_module("Campaigns")


@pytest.fixture(scope="module")
def db(stack):
    engine = create_engine(stack.owner_url())
    yield engine
    engine.dispose()


def create(api, actor, client_id, **fields) -> dict:
    body = {"client_id": str(client_id), "platform": "email", "name": f"Newsletter {uuid.uuid4().hex[:6]}"}
    r = api.post("/api/v1/campaigns", json=body | fields, headers=actor.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def import_csv(api, actor, campaign_id, csv_text: str, **params):
    return api.post(
        f"/api/v1/campaigns/{campaign_id}/metrics:import",
        content=csv_text.encode(),
        params=params,
        headers={**actor.headers, "Content-Type": "text/csv"},
    )


def import_json(api, actor, campaign_id, payload: dict):
    return api.post(
        f"/api/v1/campaigns/{campaign_id}/metrics:import",
        content=json.dumps(payload).encode(),
        headers={**actor.headers, "Content-Type": "application/json"},
    )


def metric_rows(db, campaign_id) -> list[tuple]:
    with db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT date, breakdown, cost, impressions, clicks, conversions, conversion_value, "
                    "attribution_window, source, currency, time_zone FROM campaign_metrics "
                    "WHERE campaign_id = :c ORDER BY date, breakdown"
                ),
                {"c": campaign_id},
            )
        )


def field_map(response) -> dict[str, str]:
    return {f["field"]: f["reason"] for f in response.json()["error"]["fields"]}


def test_create_defaults_validation_and_conflicts(api, world, db):
    c = create(
        api,
        world.analyst,
        world.clients[0],
        external_id="mc-2024-spring",
        objective="newsletter",
        budget={"amount": "1500.50", "type": "lifetime"},
        start_date=day(40),
        end_date=day(1),
    )
    assert c["currency"] == "USD" and c["time_zone"] == "UTC"  # the client's
    assert c["budget"] == {"amount": "1500.50", "type": "lifetime", "currency": "USD"}
    assert c["connection_id"] is None and c["status"] == "active"
    assert c["totals"]["spend"] == "0.00" and c["totals"]["ctr"] is None
    assert c["totals"]["end"] == TODAY.isoformat() and c["totals"]["start"] == day(29)
    generated = create(api, world.analyst, world.clients[0], currency="jpy", time_zone="Asia/Tokyo")
    assert generated["external_id"].startswith("manual-") and generated["currency"] == "JPY"

    r = api.post(
        "/api/v1/campaigns",
        json={
            "client_id": str(world.clients[0]),
            "platform": "email",
            "name": "Twin",
            "external_id": "mc-2024-spring",
        },
        headers=world.analyst.headers,
    )
    assert r.status_code == 409 and "body.external_id" in field_map(r)
    # the same external id on another platform is another campaign
    create(api, world.analyst, world.clients[0], platform="tiktok_ads", external_id="mc-2024-spring")

    bad = {
        "client_id": str(world.clients[0]),
        "platform": "myspace",
        "name": '=HYPERLINK("http://evil")',
        "currency": "XYZ",
        "time_zone": "Mars/Olympus",
        "external_id": "-bad id",
        "start_date": day(1),
        "end_date": day(5),
        "surprise": 1,
    }
    r = api.post("/api/v1/campaigns", json=bad, headers=world.admin.headers)
    assert r.status_code == 422
    assert {
        "body.platform",
        "body.name",
        "body.currency",
        "body.time_zone",
        "body.external_id",
        "body.surprise",
    } <= set(field_map(r))
    assert "CSV injection" in field_map(r)["body.name"]
    r = api.post(
        "/api/v1/campaigns",
        json={
            "client_id": str(world.clients[0]),
            "platform": "email",
            "name": "x",
            "budget": {"amount": "10.001"},
        },
        headers=world.analyst.headers,
    )
    assert r.status_code == 422 and field_map(r).keys() == {"body.budget.amount"}
    r = api.post(
        "/api/v1/campaigns",
        json={"client_id": str(uuid.uuid4()), "platform": "email", "name": "x"},
        headers=world.analyst.headers,
    )
    assert r.status_code == 422 and "body.client_id" in field_map(r)

    with db.connect() as conn:
        audit = conn.execute(
            text("SELECT action, after->>'external_id' FROM audit_log WHERE entity_id = :e"), {"e": c["id"]}
        ).all()
        events = conn.execute(
            text("SELECT event_type FROM outbox WHERE detail->>'campaign_id' = :e"), {"e": c["id"]}
        ).all()
    assert audit == [("campaign.create", "mc-2024-spring")]
    assert [e[0] for e in events] == ["campaign.created"]


def test_connected_platform_is_synced_not_created_or_imported(api, world, db):
    """Where the client has a connection the connector owns the campaigns: a hand-made twin would double-count."""
    conn_id, camp_id = uuid.uuid4(), uuid.uuid4()
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO platform_connections (id, tenant_id, client_id, platform, account_id, name, credentials) "
                "VALUES (:id, :t, :c, 'meta_ads', :acct, 'Meta', '{}'::jsonb)"
            ),
            {"id": conn_id, "t": world.tenant_id, "c": world.clients[1], "acct": uuid.uuid4().hex[:12]},
        )
        conn.execute(
            text(
                "INSERT INTO campaigns (id, tenant_id, client_id, connection_id, platform, external_id, name, "
                "currency, time_zone) VALUES (:id, :t, :c, :conn, 'meta_ads', '120000111', 'Synced', 'USD', 'UTC')"
            ),
            {"id": camp_id, "t": world.tenant_id, "c": world.clients[1], "conn": conn_id},
        )
    r = api.post(
        "/api/v1/campaigns",
        json={"client_id": str(world.clients[1]), "platform": "meta_ads", "name": "Manual twin"},
        headers=world.analyst.headers,
    )
    assert r.status_code == 409 and "body.platform" in field_map(r)
    r = import_csv(
        api, world.analyst, camp_id, f"date,cost,impressions,clicks,conversions\n{day(1)},1,1,1,0\n"
    )
    assert r.status_code == 409 and metric_rows(db, camp_id) == []
    got = api.get(f"/api/v1/campaigns/{camp_id}", headers=world.owner.headers).json()["data"]
    assert got["connection_id"] == str(conn_id) and got["platform"] == "meta_ads"


def test_csv_import_totals_and_detail(api, world, db):
    c = create(api, world.analyst, world.clients[0])
    csv_text = (
        "Date,Spend,Impressions,Clicks,Conversions,Revenue,Breakdown,Source\r\n"
        f"{day(3)},100.25,1000,30,3,450.00,,mailchimp export\r\n"
        f"{day(2)},50,400,10,0,0,,mailchimp export\r\n"
        f"{day(1)},0.123456,7,7,1.5,10.1,,\r\n"
        f"{day(1)},0.10,5,5,1,10,segment a,\r\n"
        "\r\n"
    )
    r = import_csv(api, world.analyst, c["id"], csv_text, attribution_window="last_click_7d")
    assert r.status_code == 200, r.text
    body = r.json()
    data = body["data"]
    assert body["import"] == data
    assert data["rows_received"] == data["rows_written"] == 4 and data["breakdown_rows"] == 1
    assert (data["start"], data["end"], data["format"]) == (day(3), day(1), "csv")
    spend = Decimal("100.25") + 50 + Decimal("0.123456")
    revenue = Decimal("450") + Decimal("10.1")
    totals = data["totals"]
    assert Decimal(totals["spend"]) == spend and totals["impressions"] == 1407 and totals["clicks"] == 47
    assert Decimal(totals["conversions"]) == Decimal("4.5") and Decimal(totals["revenue"]) == revenue
    assert Decimal(totals["ctr"]) == (Decimal(47) / 1407).quantize(Decimal("0.000001"))
    assert Decimal(totals["cpa"]) == (spend / Decimal("4.5")).quantize(Decimal("0.0001"))
    assert Decimal(totals["roas"]) == (revenue / spend).quantize(Decimal("0.0001"))
    assert totals["attribution_windows"] == ["last_click_7d"]
    assert totals["sources"] == ["import:csv", "mailchimp export"]

    stored = metric_rows(db, c["id"])
    assert len(stored) == 4
    assert {(r.currency, r.time_zone, r.attribution_window) for r in stored} == {
        ("USD", "UTC", "last_click_7d")
    }

    detail = api.get(f"/api/v1/campaigns/{c['id']}", headers=world.viewer.headers)
    assert detail.status_code == 200, detail.text
    d = detail.json()["data"]
    m = d["metrics"]
    assert (m["start"], m["end"], m["time_zone"]) == (day(29), TODAY.isoformat(), "UTC")
    assert [row["date"] for row in m["rows"]] == [day(3), day(2), day(1)]  # campaign-total rows only
    first = m["rows"][0]
    assert first["spend"] == "100.25" and first["revenue"] == "450.00" and first["conversions"] == "3"
    assert first["source"] == "mailchimp export" and first["attribution_window"] == "last_click_7d"
    assert first["currency"] == "USD" and first["time_zone"] == "UTC" and first["synced_at"]
    assert m["rows"][2]["spend"] == "0.123456"  # sub-cent precision survives
    assert m["totals"] | {"data_as_of": None} == totals | {
        "data_as_of": None,
        "start": day(29),
        "end": TODAY.isoformat(),
        "days_with_data": 3,
    }
    assert d["totals"]["spend"] == totals["spend"]

    with_breakdowns = api.get(
        f"/api/v1/campaigns/{c['id']}",
        params={"include_breakdowns": "true", "start": day(1), "end": day(1)},
        headers=world.owner.headers,
    ).json()["data"]["metrics"]
    assert [(r["date"], r["breakdown"]) for r in with_breakdowns["rows"]] == [
        (day(1), ""),
        (day(1), "segment a"),
    ]
    assert Decimal(with_breakdowns["totals"]["spend"]) == Decimal("0.123456")  # breakdowns never double-count

    listed = api.get("/api/v1/campaigns", params={"q": c["name"]}, headers=world.owner.headers).json()
    assert listed["campaigns"]["items"][0]["totals"]["spend"] == totals["spend"]

    with db.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT after->>'rows', after->>'file_sha256' FROM audit_log WHERE action = 'campaign.metrics_import' AND entity_id = :e"
            ),
            {"e": c["id"]},
        ).all()
        events = conn.execute(
            text(
                "SELECT detail->>'rows' FROM outbox WHERE event_type = 'metrics.imported' AND detail->>'campaign_id' = :e"
            ),
            {"e": c["id"]},
        ).all()
    assert len(audit) == 1 and audit[0][0] == "4" and len(audit[0][1]) == 64
    assert events == [("4",)]


def test_json_import_is_idempotent_and_restates(api, world, db):
    c = create(api, world.analyst, world.clients[0])
    payload = {
        "source": "klaviyo api export",
        "rows": [
            {
                "date": day(2),
                "cost": 0.1,
                "impressions": 1000,
                "clicks": 20,
                "conversions": 2,
                "conversion_value": 80.5,
            },
            {
                "date": day(1),
                "spend": "0.2",
                "impressions": 500,
                "clicks": 5,
                "conversions": 0,
                "currency": "usd",
                "attribution_window": "email_click_5d",
                "video_views": 3,
                "reach": 400,
            },
        ],
    }
    first = import_json(api, world.analyst, c["id"], payload)
    assert first.status_code == 200, first.text
    again = import_json(api, world.analyst, c["id"], payload)
    assert again.status_code == 200 and again.json()["data"]["rows_written"] == 2
    stored = metric_rows(db, c["id"])
    assert len(stored) == 2
    assert stored[0].cost == Decimal("0.1") and stored[1].cost == Decimal("0.2")  # no binary float drift
    assert [r.attribution_window for r in stored] == ["imported", "email_click_5d"]
    assert {r.source for r in stored} == {"klaviyo api export"}
    totals = first.json()["data"]["totals"]
    assert totals["spend"] == "0.30" and totals["video_views"] == 3
    assert totals["attribution_windows"] == ["email_click_5d", "imported"]  # shown, labelled, never hidden

    payload["rows"][0]["conversions"] = 3  # a late conversion arrives: the day is restated, not added
    assert import_json(api, world.analyst, c["id"], payload).status_code == 200
    stored = metric_rows(db, c["id"])
    assert len(stored) == 2 and stored[0].conversions == Decimal(3)


def test_bad_rows_reject_the_whole_file(api, world, db):
    c = create(api, world.analyst, world.clients[0])
    good = (
        f"date,cost,impressions,clicks,conversions,currency,source,breakdown\n{day(5)},10,100,5,1,USD,ok,\n"
    )
    assert import_csv(api, world.analyst, c["id"], good).status_code == 200
    before = metric_rows(db, c["id"])
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    csv_text = (
        "date,cost,impressions,clicks,conversions,currency,source,breakdown\n"
        f"{day(4)},10,100,5,1,USD,fine,\n"  # rows[1]
        f"{day(3)},-1,100,5,1,USD,fine,\n"  # rows[2] negative cost
        f"{tomorrow},1,100,5,1,USD,fine,\n"  # rows[3] future
        f"{day(2)},1,10,50,1,USD,fine,\n"  # rows[4] clicks > impressions
        f"{day(4)},2,100,5,1,USD,fine,\n"  # rows[5] duplicate of rows[1]
        f"{day(1)},1,100,5,1,EUR,fine,\n"  # rows[6] currency mismatch
        f'{day(1)},1,100,5,1,USD,=HYPERLINK("x"),\n'  # rows[7] CSV injection in source
        f"{day(1)},1,100,5,1,USD,fine,@SUM(A1)\n"  # rows[8] CSV injection in breakdown
        '2023-02-30,"1,234.50",1.5,x,,USD,fine,\n'  # rows[9] bad date, cost, impressions, clicks, missing conversions
        f"{day(6)},1,100,5\n"  # rows[10] too few cells
    )
    r = import_csv(api, world.analyst, c["id"], csv_text)
    assert r.status_code == 422, r.text
    fields = field_map(r)
    assert "rows[2].cost" in fields and "negative" in fields["rows[2].cost"]
    assert "rows[3].date" in fields and "future" in fields["rows[3].date"]
    assert "rows[4].clicks" in fields
    assert "rows[5]" in fields and "rows[1]" in fields["rows[5]"]
    assert "rows[6].currency" in fields and "USD" in fields["rows[6].currency"]
    assert "rows[7].source" in fields and "CSV injection" in fields["rows[7].source"]
    assert "rows[8].breakdown" in fields
    assert {
        "rows[9].date",
        "rows[9].cost",
        "rows[9].impressions",
        "rows[9].clicks",
        "rows[9].conversions",
    } <= set(fields)
    assert "line 10" in fields["rows[9].date"]
    assert "rows[10]" in fields
    assert "rows[1]" not in fields and "rows[1].cost" not in fields
    assert "nothing was written" in r.json()["error"]["message"]
    assert metric_rows(db, c["id"]) == before  # not even the good row

    r = import_json(
        api,
        world.analyst,
        c["id"],
        {
            "rows": [
                {"date": day(1), "cost": 1, "impressions": 1, "clicks": 0, "conversions": 0},
                {"date": day(1), "cost": True, "impressions": 1.5, "clicks": 0, "conversions": 0, "bogus": 1},
                "not an object",
            ],
            "extra": 1,
        },
    )
    assert r.status_code == 422
    fields = field_map(r)
    assert {"rows[1].cost", "rows[1].impressions", "rows[1].bogus", "rows[2]", "body.extra"} <= set(fields)
    assert metric_rows(db, c["id"]) == before


def test_error_list_is_capped_with_a_count(api, world, db):
    c = create(api, world.analyst, world.clients[0])
    lines = "".join(f"{day(i + 1)},-1,1,0,0\n" for i in range(150))
    r = import_csv(api, world.analyst, c["id"], "date,cost,impressions,clicks,conversions\n" + lines)
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert len(fields) == 101 and fields[-1] == {"field": "rows", "reason": "50 more problem(s) not listed"}
    assert "150 problem(s) in 150 row(s)" in r.json()["error"]["message"]
    assert metric_rows(db, c["id"]) == []


def test_import_limits_and_formats(api, world, db):
    c = create(api, world.analyst, world.clients[0])
    url = f"/api/v1/campaigns/{c['id']}/metrics:import"
    r = api.post(url, content=b"date;cost", headers={**world.analyst.headers, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert import_csv(api, world.analyst, c["id"], "").status_code == 422
    r = import_csv(api, world.analyst, c["id"], "date,cost,impressions,conversions,colour\n")
    assert r.status_code == 422 and {"header.clicks", "header.colour"} <= set(field_map(r))
    assert (
        import_csv(api, world.analyst, c["id"], "date,cost,impressions,clicks,conversions\n").status_code
        == 422
    )
    r = import_json(api, world.analyst, c["id"], {"rows": []})
    assert r.status_code == 422
    r = api.post(
        url, content=b'{"rows": [', headers={**world.analyst.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and field_map(r).keys() == {"body"}
    # semicolon-separated files (European Excel) are read as such
    r = import_csv(
        api, world.analyst, c["id"], f"date;cost;impressions;clicks;conversions\n{day(1)};1.5;10;1;0\n"
    )
    assert r.status_code == 200, r.text
    too_many = "date,cost,impressions,clicks,conversions\n" + "2024-01-01,0,0,0,0\n" * 50_001
    assert import_csv(api, world.analyst, c["id"], too_many).status_code == 413
    assert len(metric_rows(db, c["id"])) == 1


def test_list_pagination_and_filters(api, make_tenant):
    t = make_tenant()
    made = [
        create(api, t.analyst, t.clients[0], name="Spring sale email"),
        create(api, t.analyst, t.clients[0], name="Summer sale email", status="paused"),
        create(api, t.analyst, t.clients[1], name="Spring TikTok", platform="tiktok_ads"),
        create(api, t.analyst, t.clients[1], name="Autumn 100%_off", platform="email"),
        create(api, t.analyst, t.clients[1], name="Winter", platform="linkedin_ads", status="ended"),
    ]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = api.get("/api/v1/campaigns", params=params, headers=t.owner_key.headers)
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c["id"] for c in made]  # oldest first, each once

    def names(**params) -> list[str]:
        r = api.get("/api/v1/campaigns", params=params, headers=t.analyst.headers)
        assert r.status_code == 200, r.text
        return [c["name"] for c in r.json()["data"]["items"]]

    assert names(client_id=str(t.clients[0])) == ["Spring sale email", "Summer sale email"]
    assert names(platform="tiktok_ads") == ["Spring TikTok"]
    assert names(status="paused") == ["Summer sale email"]
    assert names(q="SPRING") == ["Spring sale email", "Spring TikTok"]
    assert names(q="100%_") == ["Autumn 100%_off"]  # wildcards are literal
    assert names(client_id=str(t.clients[1]), platform="email") == ["Autumn 100%_off"]
    for bad in (
        {"platform": "myspace"},
        {"status": "zombie"},
        {"cursor": "nope"},
        {"limit": 500},
        {"page": 2},
    ):
        r = api.get("/api/v1/campaigns", params=bad, headers=t.owner.headers)
        assert r.status_code == 422, bad
    r = api.get(
        f"/api/v1/campaigns/{made[0]['id']}", params={"start": day(1), "end": day(5)}, headers=t.owner.headers
    )
    assert r.status_code == 422
    r = api.get(
        f"/api/v1/campaigns/{made[0]['id']}",
        params={"start": "2019-01-01", "end": day(0)},
        headers=t.owner.headers,
    )
    assert r.status_code == 422 and "3 years" in r.text
    r = api.get(f"/api/v1/campaigns/{made[0]['id']}", params={"start": "2019-01-01"}, headers=t.owner.headers)
    assert r.status_code == 422 and field_map(r).keys() == {"query.start"}
    r = api.get(f"/api/v1/campaigns/{made[0]['id']}", params={"start": day(9)}, headers=t.owner.headers)
    assert (r.json()["data"]["metrics"]["start"], r.json()["data"]["metrics"]["end"]) == (day(9), day(0))
    r = api.get("/api/v1/campaigns/not-a-uuid", headers=t.owner.headers)
    assert r.status_code == 422 and field_map(r).keys() == {"path.campaign_id"}


def test_cross_tenant_and_client_viewer(api, make_tenant, db):
    a, b = make_tenant("A"), make_tenant("B")
    own = create(api, a.analyst, a.clients[0], name="Viewer's client campaign")
    other = create(api, a.analyst, a.clients[1], name="Other client campaign")
    line = f"date,cost,impressions,clicks,conversions\n{day(1)},5,50,5,1\n"
    assert import_csv(api, a.analyst, other["id"], line).status_code == 200

    for outsider in (b.owner, b.owner_key):
        for c in (own, other):
            assert api.get(f"/api/v1/campaigns/{c['id']}", headers=outsider.headers).status_code == 404
            assert import_csv(api, outsider, c["id"], line).status_code == 404
        listed = api.get("/api/v1/campaigns", headers=outsider.headers)
        assert listed.status_code == 200 and listed.json()["data"]["items"] == []
        r = api.get("/api/v1/campaigns", params={"client_id": str(a.clients[0])}, headers=outsider.headers)
        assert r.status_code == 200 and r.json()["data"]["items"] == []
        r = api.post(
            "/api/v1/campaigns",
            json={"client_id": str(a.clients[0]), "platform": "email", "name": "x"},
            headers=outsider.headers,
        )
        assert r.status_code == 422 and "body.client_id" in field_map(r)  # no such client in *their* tenant
    r = api.get("/api/v1/campaigns", params={"tenant_id": str(a.tenant_id)}, headers=b.owner.headers)
    assert r.status_code == 403

    for viewer in (a.viewer, a.viewer_key):
        items = api.get("/api/v1/campaigns", headers=viewer.headers).json()["data"]["items"]
        assert [c["id"] for c in items] == [own["id"]]
        assert api.get(f"/api/v1/campaigns/{own['id']}", headers=viewer.headers).status_code == 200
        assert api.get(f"/api/v1/campaigns/{other['id']}", headers=viewer.headers).status_code == 404
        r = api.get("/api/v1/campaigns", params={"client_id": str(a.clients[1])}, headers=viewer.headers)
        assert r.status_code == 404
        r = api.post(
            "/api/v1/campaigns",
            json={"client_id": str(a.clients[0]), "platform": "email", "name": "x"},
            headers=viewer.headers,
        )
        assert r.status_code == 403
        assert import_csv(api, viewer, own["id"], line).status_code == 403
    assert metric_rows(db, own["id"]) == []
    assert len(metric_rows(db, other["id"])) == 1
