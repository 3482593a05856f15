"""Reports through the local gateway: a rendered PDF read back as text and pixels (client, period, KPI figures,
charts), the report's numbers equal to the dashboard API's for the same period, commentary edits re-rendering a
new version (escaped), sending through the communications flow once, queued generation and a redelivered worker
message, validation errors naming the field, S3 keys that user text cannot steer, and isolation (cross-tenant,
client viewer) on every route."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import httpx
import pytest

URL = "/api/v1/reports"
GEN = "/api/v1/reports/generate"
SCHED = "/api/v1/report-schedules"
TODAY = dt.datetime.now(dt.UTC).date()
# the last complete Monday-Sunday week (what period=last_week means for a UTC client)
WEEK_END = TODAY - dt.timedelta(days=TODAY.isoweekday())
WEEK_START = WEEK_END - dt.timedelta(days=6)
FOOTER = 'Acme & Co "Confidential" <b>not bold</b>'


def seed_metrics(world, client_index: int = 0, days: int = 21) -> dict[str, uuid.UUID]:
    """Two platforms with exact daily figures; Meta's CPA worsens in the last week (lower CVR)."""
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import Campaign
    from strategist.bootstrap import system_unit_of_work

    ids = {}
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        rows = []
        for platform, name, cost, clicks, conv in (
            ("google_ads", "Search - Brand", 100, 200, 10),
            ("meta_ads", "Prospecting - Lookalike", 80, 400, 8),
        ):
            camp = Campaign(
                id=uuid.uuid4(),
                tenant_id=world.tenant_id,
                client_id=world.clients[client_index],
                platform=platform,
                external_id=f"x-{uuid.uuid4().hex[:12]}",
                name=name,
                status="active",
                currency="USD",
            )
            uow.session.add(camp)
            uow.session.flush()
            ids[platform] = camp.id
            for d in range(days, 0, -1):
                day = TODAY - dt.timedelta(days=d)
                late = day >= WEEK_START
                c = Decimal(conv) / 2 if (late and platform == "meta_ads") else Decimal(conv)
                rows.append(
                    MetricRow(
                        campaign_id=camp.id,
                        date=day,
                        currency="USD",
                        cost=Decimal(cost) + Decimal(d % 3),
                        impressions=clicks * 50,
                        clicks=clicks,
                        conversions=c,
                        conversion_value=c * 40,
                        time_zone="UTC",
                        attribution_window="7d_click_1d_view" if platform == "meta_ads" else "data_driven",
                        source="platform",
                    )
                )
        upsert_metrics(uow.session, world.tenant_id, rows)
    return ids


def add_connection(world, platform: str, *, client_index: int = 0, data_through=None, data_as_of=None,
                   status: str = "active") -> uuid.UUID:  # fmt: skip
    from strategist.adapters.db.models import PlatformConnection
    from strategist.bootstrap import system_unit_of_work

    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        conn = PlatformConnection(
            id=uuid.uuid4(),
            tenant_id=world.tenant_id,
            client_id=world.clients[client_index],
            platform=platform,
            account_id=uuid.uuid4().hex[:10],
            name=f"{platform} account",
            status=status,
            credentials={},
            time_zone="UTC",
            data_through=data_through,
            data_as_of=data_as_of,
        )
        uow.session.add(conn)
    return conn.id


@pytest.fixture(scope="module")
def world(make_tenant_module):
    from sqlalchemy import update

    from strategist.adapters.db.models import Client
    from strategist.bootstrap import system_unit_of_work

    w = make_tenant_module()
    seed_metrics(w)
    with system_unit_of_work("test") as uow:
        uow.set_tenant(w.tenant_id)
        branding = {"sender_name": "Acme Media", "primary_color": "#7c3aed", "footer_text": FOOTER}
        uow.session.execute(update(Client).where(Client.id == w.clients[0]).values(branding=branding))
    add_connection(
        w, "google_ads", data_through=TODAY - dt.timedelta(days=1), data_as_of=dt.datetime.now(dt.UTC)
    )
    add_connection(
        w, "meta_ads", data_through=TODAY - dt.timedelta(days=1), data_as_of=dt.datetime.now(dt.UTC)
    )
    return w


@pytest.fixture(scope="module")
def report(api, world):
    body = {
        "client_id": str(world.clients[0]),
        "period": "last_week",
        "commentary": "Strong week for search.",
    }
    r = api.post(GEN, json=body, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    return r.json()["report"]


def _pdf_bytes(api, world, report_id: str, actor=None) -> tuple[bytes, dict]:
    got = api.get(f"{URL}/{report_id}", headers=(actor or world.analyst).headers)
    assert got.status_code == 200, got.text
    rep = got.json()["report"]
    pdf = httpx.get(rep["links"]["pdf_url"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    return pdf.content, rep


def test_pdf_has_client_period_kpis_and_charts(api, world, report):
    import pypdfium2

    assert report["status"] == "ready" and report["version"] == 1
    assert report["period_start"] == WEEK_START.isoformat() and report["period_end"] == WEEK_END.isoformat()
    assert report["period_label"] == "week" and report["pdf_pages"] >= 1
    content, rep = _pdf_bytes(api, world, report["id"])
    data = rep["data"]
    doc = pypdfium2.PdfDocument(content)
    assert len(doc) == rep["pdf_pages"]
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    flat = " ".join(text.split())
    assert data["client"]["name"] in flat
    assert f"Week {WEEK_START.isocalendar().week}" in flat
    assert "Strong week for search." in flat
    assert "Acme Media" in flat and FOOTER in flat  # white-label header and footer, text exactly as given
    spend = Decimal(data["dashboard"]["overview"]["spend"]["value"])
    assert f"USD {spend:,.2f}" in flat, flat  # the KPI table shows the dashboard's spend
    conversions = Decimal(data["dashboard"]["overview"]["conversions"]["value"])
    assert f"{conversions:,.2f}" in flat
    for heading in ("Key results against goals", "Trends", "Platform mix", "What moved and why", "Recommendations",
                    "Budget pacing", "Methodology"):  # fmt: skip
        assert heading in flat, heading

    # the chart: find its title on the page, render the page and look below the title for drawn pixels
    page_no, page = next(
        (i, doc[i])
        for i in range(len(doc))
        if "Daily spend by platform" in doc[i].get_textpage().get_text_range()
    )
    tp = page.get_textpage()
    searcher = tp.search("Daily spend by platform")
    first = searcher.get_next()
    assert first is not None
    left, bottom, _right, _top = tp.get_charbox(first[0])
    scale = 2
    image = page.render(scale=scale).to_pil().convert("RGB")
    w, h = image.size
    page_h = page.get_height()
    y0 = int((page_h - bottom) * scale) + 10
    region = image.crop(
        (int(left * scale), y0, min(w, int(left * scale) + 600 * scale), min(h, y0 + 180 * scale))
    )
    colored = sum(1 for r, g, b in region.getdata() if abs(r - g) > 60 or abs(g - b) > 60 or abs(r - b) > 60)
    assert colored > 200, f"chart region on page {page_no + 1} looks blank ({colored} coloured pixels)"

    # the HTML carries the SVG charts themselves
    html = httpx.get(rep["links"]["html_url"], timeout=10).text
    assert html.count("<svg") >= 3 and 'class="series"' in html and 'class="bar"' in html


def test_report_numbers_equal_the_dashboard_api(api, world, report):
    _, rep = _pdf_bytes(api, world, report["id"])
    dash = api.get(
        "/api/v1/analytics/dashboard",
        params={
            "client_id": str(world.clients[0]),
            "start": WEEK_START.isoformat(),
            "end": WEEK_END.isoformat(),
        },
        headers=world.analyst.headers,
    )
    assert dash.status_code == 200, dash.text
    d = dash.json()["dashboard"]
    r = rep["data"]["dashboard"]
    assert r["overview"] == d["overview"]
    assert r["platform_breakdown"] == d["platform_breakdown"]
    assert r["performance_trends"] == d["performance_trends"]
    assert r["currency"] == d["currency"] and r["fx"] == d["fx"]
    # the KPI rows are those same figures
    kpis = {k["kpi"]: k for k in rep["data"]["kpis"]}
    assert Decimal(str(kpis["roas"]["value"])) == Decimal(d["overview"]["roas"]["value"])
    assert kpis["roas"]["goal"] is not None and kpis["roas"]["status"] in ("met", "missed")


def test_movers_explain_the_change(api, world, report):
    _, rep = _pdf_bytes(api, world, report["id"])
    movers = {m["platform"]: m for m in rep["data"]["movers"]}
    meta = movers["meta_ads"]
    # Meta's conversions halved at the same spend: CPA roughly doubled, driven by CVR
    assert meta["conversions_change"] < 0
    assert meta["cpa_change_pct"] > 80
    assert "lower CVR" in meta["why"]
    assert any("mix across platforms" in d["summary"] for d in rep["data"]["drivers"])
    methodology = " ".join(rep["data"]["methodology"])
    for needle in ("Attribution windows by platform", "7d_click_1d_view", "Data as of", "UTC"):
        assert needle in methodology


def test_commentary_edit_rerenders_escaped(api, world):
    body = {"client_id": str(world.clients[0]), "period": "last_7_days"}
    created = api.post(GEN, json=body, headers=world.analyst.headers).json()["report"]
    evil = "Budget <script>alert(1)</script> & notes"
    r = api.patch(f"{URL}/{created['id']}", json={"commentary": evil}, headers=world.analyst.headers)
    assert r.status_code == 200, r.text
    updated = r.json()["report"]
    assert updated["version"] == 2 and updated["commentary"] == evil
    html = httpx.get(
        api.get(f"{URL}/{created['id']}", headers=world.analyst.headers).json()["report"]["links"]["html_url"]
    ).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the viewer of the client may read but not edit; the figures did not change with the commentary
    assert (
        api.patch(
            f"{URL}/{created['id']}", json={"commentary": "x"}, headers=world.viewer.headers
        ).status_code
        == 403
    )
    assert api.patch(f"{URL}/{created['id']}", json={}, headers=world.analyst.headers).status_code == 422


def test_send_goes_through_communications_once(api, world, report):
    from sqlalchemy import select

    from strategist.adapters.db.models import ClientCommunication
    from strategist.bootstrap import system_unit_of_work

    created = api.post(GEN, json={"client_id": str(world.clients[0]), "period": "last_30_days"},
                       headers=world.analyst.headers).json()["report"]  # fmt: skip
    body = {"recipients": ["cmo@client.example"], "message": "Here is this month's report."}
    assert api.post(f"{URL}/{created['id']}/send", json=body, headers=world.viewer.headers).status_code == 403
    first = api.post(f"{URL}/{created['id']}/send", json=body, headers=world.analyst.headers)
    assert first.status_code == 200, first.text
    sent = first.json()["report"]
    assert (
        sent["status"] == "sent" and sent["communication_id"] and sent["recipients"] == ["cmo@client.example"]
    )
    again = api.post(f"{URL}/{created['id']}/send", json=body, headers=world.analyst.headers)
    assert again.status_code == 200 and again.json()["report"]["communication_id"] == sent["communication_id"]
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        comms = list(uow.session.scalars(select(ClientCommunication).where(
            ClientCommunication.dedupe_key.like(f"report:{created['id']}:%"))))  # fmt: skip
    assert len(comms) == 1
    c = comms[0]
    assert c.message_type == "report" and c.metadata_["report_id"] == created["id"]
    assert c.attachments[0]["s3_key"].startswith(
        f"reports/{world.tenant_id}/{world.clients[0]}/{created['id']}/v1/"
    )
    assert c.attachments[0]["content_type"] == "application/pdf"
    # a sent report is final: no more edits
    assert (
        api.patch(
            f"{URL}/{created['id']}", json={"commentary": "late"}, headers=world.analyst.headers
        ).status_code
        == 409
    )


def test_queued_generation_and_redelivered_message(api, world):
    from strategist.bootstrap import system_unit_of_work
    from strategist.services.reports import service

    body = {"client_id": str(world.clients[0]), "start": (TODAY - dt.timedelta(days=10)).isoformat(),
            "end": (TODAY - dt.timedelta(days=1)).isoformat(), "run_async": True}  # fmt: skip
    r = api.post(GEN, json=body, headers=world.analyst.headers)
    assert r.status_code == 202, r.text
    rep = r.json()["report"]
    assert rep["status"] == "queued" and rep["links"] is None
    msg = {"tenant_id": str(world.tenant_id), "report_id": rep["id"]}
    for expected in ("rendered", "already ready"):  # the same message twice: one render
        with system_unit_of_work("test") as uow:
            assert service.process_message(uow, msg)["outcome"] == expected
    got = api.get(f"{URL}/{rep['id']}", headers=world.viewer.headers).json()["report"]
    assert got["status"] == "ready" and got["version"] == 1 and got["links"]["pdf_url"]


def test_validation_errors_name_the_field(api, world):
    c = str(world.clients[0])
    cases = [
        ({"client_id": c, "start": "2026-01-10", "end": "2026-01-01"}, "body.end"),
        ({"client_id": c, "start": "2026-01-01"}, "body.end"),
        ({"client_id": c, "period": "last_week", "start": "2026-01-01", "end": "2026-01-02"}, "body"),
        ({"client_id": c, "start": "2024-01-01", "end": "2025-06-01"}, "body.end"),
        ({"client_id": c, "period": "last_year"}, "body.period"),
        ({"client_id": c, "sections": ["kpis", "gossip"]}, "body.sections"),
        ({"client_id": c, "currency": "XXQ"}, "body.currency"),
        (
            {"client_id": c, "start": TODAY.isoformat(), "end": (TODAY + dt.timedelta(days=3)).isoformat()},
            "body.end",
        ),
        ({"client_id": str(uuid.uuid4()), "period": "last_week"}, "body.client_id"),
        ({"client_id": c, "colour": "red"}, "body.colour"),
    ]
    for body, field in cases:
        r = api.post(GEN, json=body, headers=world.analyst.headers)
        assert r.status_code == 422, (body, r.text)
        fields = [f["field"] for f in r.json()["error"]["fields"]]
        assert any(f.startswith(field) for f in fields), (body, fields)


def test_isolation_every_route(api, world, report, make_tenant):
    other = make_tenant()
    rid = report["id"]
    # another tenant: nothing is visible or changeable
    assert api.get(f"{URL}/{rid}", headers=other.owner.headers).status_code == 404
    assert api.patch(f"{URL}/{rid}", json={"commentary": "x"}, headers=other.owner.headers).status_code == 404
    assert api.post(f"{URL}/{rid}/send", json={}, headers=other.owner.headers).status_code == 404
    assert rid not in api.get(URL, headers=other.owner.headers).text
    r = api.post(GEN, json={"client_id": str(world.clients[0])}, headers=other.owner.headers)
    assert r.status_code in (404, 422)
    # a viewer of client 0: reads its reports, not client 1's; cannot generate
    assert api.get(f"{URL}/{rid}", headers=world.viewer.headers).status_code == 200
    assert api.get(f"{URL}/{rid}", headers=world.viewer_key.headers).status_code == 200
    assert (
        api.post(GEN, json={"client_id": str(world.clients[0])}, headers=world.viewer.headers).status_code
        == 403
    )
    other_client = api.post(GEN, json={"client_id": str(world.clients[1]), "period": "last_7_days"},
                            headers=world.analyst.headers).json()["report"]  # fmt: skip
    assert api.get(f"{URL}/{other_client['id']}", headers=world.viewer.headers).status_code == 404
    listed = api.get(URL, headers=world.viewer.headers).json()["reports"]["items"]
    assert rid in {x["id"] for x in listed} and other_client["id"] not in {x["id"] for x in listed}
    assert (
        api.get(URL, params={"client_id": str(world.clients[1])}, headers=world.viewer.headers).status_code
        == 404
    )


def test_keys_ignore_user_text(api, world):
    from strategist.services.reports import render

    title = "../../../etc/passwd"
    created = api.post(GEN, json={"client_id": str(world.clients[0]), "period": "last_7_days", "title": title},
                       headers=world.analyst.headers).json()["report"]  # fmt: skip
    assert created["title"] == title
    url = created["links"]["pdf_url"]
    path = httpx.URL(url).path
    assert (
        f"/reports/{world.tenant_id}/{world.clients[0]}/{created['id']}/v1/report.pdf" in path
        and ".." not in path
    )
    assert (
        render.download_name(title, "A/B", "2026-01-01", "2026-01-07", "pdf")
        == "A-B-etc-passwd-2026-01-01-2026-01-07.pdf"
    )
    with pytest.raises(ValueError):
        render.report_key(world.tenant_id, world.clients[0], "../x", 1, "pdf")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render.report_key(world.tenant_id, world.clients[0], uuid.uuid4(), 1, "pdf/../../x")


# -- schedules -----------------------------------------------------------------------------------------------------
def test_schedule_crud_and_isolation(api, world, make_tenant):
    body = {"client_id": str(world.clients[0]), "frequency": "weekly", "day_of_week": 2, "send_hour": 9,
            "recipients": ["a@client.example"], "sections": ["kpis", "trends"]}  # fmt: skip
    assert api.post(SCHED, json=body, headers=world.viewer.headers).status_code == 403
    r = api.post(SCHED, json=body, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    s = r.json()["schedule"]
    assert s["sections"] == ["kpis", "trends", "methodology"] and s["time_zone"] == "UTC"
    nxt = dt.datetime.fromisoformat(s["next_run_at"])
    assert nxt.isoweekday() == 2 and nxt.hour == 9 and nxt > dt.datetime.now(dt.UTC)
    period_end = dt.date.fromisoformat(s["next_period"]["end"])
    assert period_end.isoweekday() == 7 and (nxt.date() - period_end).days == 2

    bad = [
        ({**body, "day_of_month": 3}, "body"),
        ({**body, "frequency": "daily"}, "body.frequency"),
        ({**body, "day_of_week": 8}, "body.day_of_week"),
        ({**body, "send_hour": 24}, "body.send_hour"),
        ({**body, "recipients": ["not-an-address"]}, "body.recipients"),
        ({**body, "frequency": "monthly", "day_of_week": None, "day_of_month": 31}, "body.day_of_month"),
    ]
    for b, field in bad:
        resp = api.post(SCHED, json=b, headers=world.analyst.headers)
        assert resp.status_code == 422, (b, resp.text)
        assert any(f["field"].startswith(field) for f in resp.json()["error"]["fields"]), (b, resp.text)

    sid = s["id"]
    up = api.patch(
        f"{SCHED}/{sid}", json={"send_hour": 6, "max_hold_hours": 24}, headers=world.analyst.headers
    )
    assert up.status_code == 200 and dt.datetime.fromisoformat(up.json()["schedule"]["next_run_at"]).hour == 6
    wrong = api.patch(f"{SCHED}/{sid}", json={"day_of_month": 3}, headers=world.analyst.headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "body.day_of_month"

    other = make_tenant()
    assert api.get(f"{SCHED}/{sid}", headers=other.owner.headers).status_code == 404
    assert api.patch(f"{SCHED}/{sid}", json={"send_hour": 1}, headers=other.owner.headers).status_code == 404
    assert api.delete(f"{SCHED}/{sid}", headers=other.owner.headers).status_code == 404
    assert sid not in api.get(SCHED, headers=other.owner.headers).text
    # viewer of client 0 reads it; a schedule of client 1 is invisible to them
    assert api.get(f"{SCHED}/{sid}", headers=world.viewer.headers).status_code == 200
    s1 = api.post(
        SCHED, json={**body, "client_id": str(world.clients[1])}, headers=world.analyst.headers
    ).json()["schedule"]
    assert api.get(f"{SCHED}/{s1['id']}", headers=world.viewer.headers).status_code == 404
    assert s1["id"] not in api.get(SCHED, headers=world.viewer.headers).text
    assert api.delete(f"{SCHED}/{sid}", headers=world.viewer.headers).status_code == 403
    assert api.delete(f"{SCHED}/{sid}", headers=world.analyst.headers).status_code == 204
    assert api.get(f"{SCHED}/{sid}", headers=world.analyst.headers).status_code == 404
