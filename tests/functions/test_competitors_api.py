"""Competitor analysis: real-shape Google Ads auction insights exports (preamble rows, '< 10%' and '--', a weekly
segment, UTF-16/tab), Ad Library rows, manual observations; competitors, share of voice and moves with their
evidence; CSV export neutralised against formula injection; duplicates, bad input, roles, viewers and tenants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategist.services.competitors.parsing import (
    ParseError,
    neutralise,
    parse_ad_library,
    parse_auction_insights,
    share,
)

FIX = Path(__file__).parents[1] / "fixtures" / "competitors"
UPLOADS = "/api/v1/competitor-analysis/uploads"
URL = "/api/v1/competitor-analysis"


# -- parsing (no stack) ----------------------------------------------------------------------------------------
def test_monthly_export_with_preamble():
    parsed = parse_auction_insights((FIX / "auction_insights_oct.csv").read_bytes())
    assert (str(parsed.period_start), str(parsed.period_end)) == ("2026-10-01", "2026-10-31")
    assert parsed.segment is None and len(parsed.rows) == 4
    you, trail, peak, calc = parsed.rows
    assert you["is_you"] and you["impression_share"] == {"value": 0.412}
    assert you["overlap_rate"] == {"value": None} and you["outranking_share"] == {"value": None}
    assert trail["domain"] == "trailgear.example" and trail["line"] == 5
    assert trail["abs_top_of_page_rate"] == {"value": 0.3005}
    assert calc["impression_share"] == {"value": None, "below": 0.1}
    assert calc["domain"] == "'=cmd|calc.example"  # a formula-looking domain is neutralised on the way in
    assert peak["period"] == "2026-10-01"


def test_weekly_export_utf16_tab():
    text = (FIX / "auction_insights_weekly.csv").read_text().replace(",", "\t")
    parsed = parse_auction_insights(b"\xff\xfe" + text.encode("utf-16-le"))
    assert parsed.segment == "week"
    assert sorted({r["period"] for r in parsed.rows}) == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert [r["domain"] for r in parsed.rows if r["period"] == "2026-11-16"] == [
        "You",
        "trailgear.example",
        "newcomer.example",
    ]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"Campaign,Clicks\nA,1\n", "Display URL domain"),
        (b"Display URL domain,Overlap rate\nx.example,10%\n", "Impression share"),
        (b"Display URL domain,Impression share\nx.example,lots\n", "line 2"),
        (b"Display URL domain,Impression share\n", "no rows"),
        (b"Display URL domain,Impression share\nx.example\n", "line 2"),
    ],
)
def test_bad_exports_name_the_problem(raw, needle):
    with pytest.raises(ParseError, match=needle):
        parse_auction_insights(raw)


@given(st.text(max_size=30))
def test_neutralise_never_leaves_a_formula(value):
    out = neutralise(value)
    assert not out or out[0] not in "=+-@\t\r"
    assert out.endswith(value)


@given(st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2)))
def test_share_reads_percentages(pct):
    assert share(f"{pct:.2f}%")["value"] == pytest.approx(pct / 100)


def test_ad_library_spend_only_where_published():
    rows = parse_ad_library(json.loads((FIX / "ads_archive.json").read_text())["data"])
    assert [r["spend"] for r in rows] == [None, None, {"lower": 100, "upper": 199}]
    assert rows[0]["start"] == "2026-11-03" and rows[0]["stop"] == "2026-11-20"
    with pytest.raises(ParseError, match=r"records\.0"):
        parse_ad_library([{"id": "1"}])


# -- through the gateway ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(make_tenant_module):
    return make_tenant_module()


def _csv(api, world, actor, name, client=0, raw=None):
    return api.post(
        UPLOADS,
        params={"client_id": str(world.clients[client]), "filename": name},
        content=raw if raw is not None else (FIX / name).read_bytes(),
        headers={**actor.headers, "Content-Type": "text/csv"},
    )


def test_upload_analyse_and_export(api, world):
    a = _csv(api, world, world.analyst, "auction_insights_oct.csv")
    assert a.status_code == 201, a.text
    assert a.json()["upload"]["row_count"] == 4 and a.json()["upload"]["period_start"] == "2026-10-01"
    b = _csv(api, world, world.analyst, "auction_insights_weekly.csv")
    assert b.status_code == 201, b.text
    dup = _csv(api, world, world.analyst, "auction_insights_weekly.csv")
    assert dup.status_code == 409
    ads = json.loads((FIX / "ads_archive.json").read_text())["data"]
    c = api.post(
        UPLOADS,
        json={"client_id": str(world.clients[0]), "kind": "ad_library", "records": ads},
        headers=world.analyst.headers,
    )
    assert c.status_code == 201, c.text
    m = api.post(
        UPLOADS,
        json={
            "client_id": str(world.clients[0]),
            "kind": "manual",
            "observations": [
                {"competitor": "trailgear.example", "date": "2026-11-15", "note": "Free shipping banner"}
            ],
        },
        headers=world.analyst.headers,
    )
    assert m.status_code == 201, m.text

    r = api.post(URL, json={"client_id": str(world.clients[0])}, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    res = r.json()["analysis"]
    assert res["periods"] == ["2026-10-01", "2026-11-02", "2026-11-09", "2026-11-16"]
    assert any("not available through the Google Ads API" in x for x in res["platform_limits"])
    trail = next(c for c in res["competitors"] if c["domain"] == "trailgear.example")
    assert [p["impression_share"]["value"] for p in trail["series"]] == [0.354, 0.34, 0.36, 0.455]
    assert trail["latest"]["outranking_share"] == {"value": 0.275}
    moves = {(m["type"], m["domain"]): m for m in res["moves"]}
    jump = moves[("impression_share_jump", "trailgear.example")]
    assert jump["change_pts"] == 9.5 and jump["period"] == "2026-11-16" and len(jump["evidence"]) == 2
    assert moves[("impression_share_drop", "You")]["change_pts"] == -5.4
    assert ("new_entrant", "newcomer.example") in moves
    assert ("exit", "peakoutfitters.example") in moves
    assert ("impression_share_jump", "trailgear.example") in moves
    # share of voice normalises the known shares of a period; '< 10%' is listed, not guessed
    oct_sov = res["share_of_voice"][0]
    assert oct_sov["below_threshold"] == ["'=cmd|calc.example"]
    assert sum(s["share_of_voice"] for s in oct_sov["shares"]) == pytest.approx(1.0)
    assert oct_sov["shares"][0]["evidence"]["line"] == 4
    pages = {p["page"]: p for p in res["ad_library"]}
    assert pages["Trail Gear"]["ads"] == 2 and pages["Trail Gear"]["spend_published"] == 0
    assert pages["Vote Parks Measure"]["spend_lower"] == 100
    assert res["observations"][0]["note"] == "Free shipping banner"

    listed = api.get(URL, headers=world.viewer.headers).json()["analyses"]["items"]
    assert [x["id"] for x in listed] == [res["id"]]
    exported = api.get(f"{URL}/{res['id']}", params={"format": "csv"}, headers=world.viewer.headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("domain,campaign,period,impression_share")
    assert all(not line.startswith(("=", "+", "-", "@")) for line in lines)
    assert any(line.startswith("'=cmd|calc.example") for line in lines)


def test_bad_input_is_a_422_naming_the_field(api, world):
    r = _csv(api, world, world.analyst, "x.csv", raw=b"Campaign,Clicks\nA,1\n")
    assert r.status_code == 422 and "Display URL domain" in r.text
    r = api.post(
        UPLOADS,
        content=(FIX / "auction_insights_oct.csv").read_bytes(),
        headers={**world.analyst.headers, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and "query.client_id" in r.text
    r = api.post(
        UPLOADS, json={"client_id": str(world.clients[0]), "kind": "manual"}, headers=world.analyst.headers
    )
    assert r.status_code == 422 and "body.observations" in r.text
    r = api.post(
        URL, json={"client_id": str(world.clients[1])}, headers=world.analyst.headers
    )  # no data for this client
    assert r.status_code == 422 and "upload" in r.text
    r = api.post(
        URL, json={"client_id": str(world.clients[0]), "jump_threshold_pts": 0}, headers=world.analyst.headers
    )
    assert r.status_code == 422 and "jump_threshold_pts" in r.text


def test_viewers_read_their_client_only(api, world):
    assert _csv(api, world, world.viewer, "auction_insights_oct.csv").status_code == 403
    r = api.post(URL, json={"client_id": str(world.clients[0])}, headers=world.viewer.headers)
    assert r.status_code == 403
    # an analysis of the other client is invisible to the viewer of clients[0]
    other = _csv(api, world, world.analyst, "auction_insights_oct.csv", client=1)
    assert other.status_code == 201
    made = api.post(URL, json={"client_id": str(world.clients[1])}, headers=world.analyst.headers).json()[
        "analysis"
    ]
    assert api.get(f"{URL}/{made['id']}", headers=world.viewer.headers).status_code == 404
    assert api.get(f"{URL}/{made['id']}", headers=world.viewer_key.headers).status_code == 404
    listed = api.get(URL, headers=world.viewer.headers).json()["analyses"]["items"]
    assert made["id"] not in [x["id"] for x in listed]
    assert (
        api.get(URL, params={"client_id": str(world.clients[1])}, headers=world.viewer.headers).status_code
        == 404
    )


def test_cross_tenant(api, world, make_tenant_module):
    intruder = make_tenant_module()
    mine = api.get(URL, headers=world.analyst.headers).json()["analyses"]["items"]
    assert mine
    assert api.get(f"{URL}/{mine[0]['id']}", headers=intruder.owner.headers).status_code == 404
    r = _csv(api, world, intruder.owner, "auction_insights_oct.csv")  # world's client id, intruder's token
    assert r.status_code == 404
    r = api.post(URL, json={"client_id": str(world.clients[0])}, headers=intruder.owner.headers)
    assert r.status_code == 404
    assert api.get(URL, headers=intruder.owner.headers).json()["analyses"]["items"] == []


def test_multipart_form_upload(api, make_tenant_module):
    w = make_tenant_module()
    raw = (FIX / "auction_insights_oct.csv").read_bytes()
    r = api.post(
        UPLOADS,
        data={"client_id": str(w.clients[0])},
        files={"file": ("Auction insights.csv", raw, "text/csv")},
        headers=w.analyst.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["upload"]["filename"] == "Auction insights.csv" and r.json()["upload"]["row_count"] == 4
    r = api.post(UPLOADS, files={"file": ("a.csv", raw, "text/csv")}, headers=w.analyst.headers)
    assert r.status_code == 422 and "form.client_id" in r.text
    r = api.post(
        UPLOADS,
        data={"client_id": str(w.clients[0])},
        files={"other": ("a.csv", raw)},
        headers=w.analyst.headers,
    )
    assert r.status_code == 422 and "form.file" in r.text


def test_campaign_segments_are_separate_auctions():
    """An export segmented by campaign: shares of different campaigns' auctions are never mixed."""
    import datetime as dt
    import uuid
    from types import SimpleNamespace

    from strategist.services.competitors.service import analyse

    raw = (
        b"Auction insights report\n"
        b'"November 1, 2026 - November 30, 2026"\n'
        b"Campaign,Month,Display URL domain,Impression share,Overlap rate,Position above rate,Top of page rate,"
        b"Abs. Top of page rate,Outranking share\n"
        b"Brand,November 2026,You,90.00%,--,--,95.00%,80.00%,--\n"
        b"Brand,November 2026,rival.example,20.00%,18.00%,5.00%,60.00%,10.00%,88.00%\n"
        b"Generic,November 2026,You,30.00%,--,--,50.00%,20.00%,--\n"
        b"Generic,November 2026,rival.example,60.00%,70.00%,65.00%,80.00%,40.00%,25.00%\n"
    )
    parsed = parse_auction_insights(raw)
    assert parsed.segment == "month" and {r["period"] for r in parsed.rows} == {"2026-11-01"}
    up = SimpleNamespace(
        id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        kind="auction_insights",
        platform="google_ads",
        filename="ai.csv",
        period_start=parsed.period_start,
        period_end=parsed.period_end,
        row_count=len(parsed.rows),
        notes=[],
        created_at=dt.datetime.now(dt.UTC),
        rows=parsed.rows,
    )
    res = analyse([up], 5.0)
    rival = {
        c["campaign"]: c["latest"]["impression_share"]["value"] for c in res["competitors"] if not c["is_you"]
    }
    assert rival == {"Brand": 0.2, "Generic": 0.6}
    sov = {
        s["campaign"]: {x["domain"]: x["share_of_voice"] for x in s["shares"]} for s in res["share_of_voice"]
    }
    assert sov["Brand"] == {"You": pytest.approx(0.9 / 1.1), "rival.example": pytest.approx(0.2 / 1.1)}
    assert sov["Generic"]["rival.example"] == pytest.approx(0.6 / 0.9)
    assert res["moves"] == []  # one period per campaign: nothing to compare
