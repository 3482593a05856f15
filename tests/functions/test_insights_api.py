"""GET /api/v1/campaigns/{campaign_id}/insights through the local gateway, on hand-built data relative to today:
150 days of a campaign split into two ad sets (a good one at CVR 6 %, a worse one at 3 %). In the last 30 days CPM
rose 10 -> 11.8, CTR 2 % -> 2.04 % and spend moved from 60/40 to 40/60 toward the worse ad set; one day has 5x the
usual volume. Expected figures are computed here from the rows inserted, independently of the service."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics

D = Decimal
DAYS = 150
SPIKE = 10  # days before today


def _url(campaign) -> str:
    return f"/api/v1/campaigns/{campaign}/insights"


def _campaign(s: Session, tid, cid, name: str, start: dt.date) -> uuid.UUID:
    camp = uuid.uuid4()
    s.execute(
        text(
            "INSERT INTO campaigns (id, tenant_id, client_id, platform, external_id, name, currency, time_zone, "
            "budget_amount, budget_type, start_date, objective) VALUES (:id, :t, :c, 'google_ads', :x, :n, 'USD', "
            "'UTC', 100, 'daily', :start, 'sales')"
        ),
        {"id": camp, "t": tid, "c": cid, "x": camp.hex[:12], "n": name, "start": start},
    )
    return camp


def _adset(camp, day, name, spend: Decimal, cpm: float, ctr: float, cvr: float) -> MetricRow:
    imps = round(float(spend) * 1000 / cpm)
    clicks = round(imps * ctr)
    conv = D(str(round(clicks * cvr, 2)))
    return MetricRow(
        campaign_id=camp,
        date=day,
        currency="USD",
        cost=spend,
        impressions=imps,
        clicks=clicks,
        conversions=conv,
        conversion_value=conv * 50,
        time_zone="UTC",
        attribution_window="google_ads_default",
        source="test:google_ads",
        breakdown=f"ad_set:{name}",
    )


def _total(rows: list[MetricRow]) -> MetricRow:
    first = rows[0]
    return MetricRow(
        campaign_id=first.campaign_id,
        date=first.date,
        currency="USD",
        cost=sum((r.cost for r in rows), D(0)),
        impressions=sum(r.impressions for r in rows),
        clicks=sum(r.clicks for r in rows),
        conversions=sum((r.conversions for r in rows), D(0)),
        conversion_value=sum((r.conversion_value for r in rows), D(0)),
        time_zone="UTC",
        attribution_window="google_ads_default",
        source="test:google_ads",
    )


@pytest.fixture(scope="module")
def world(stack, make_tenant_module):
    victim, intruder = make_tenant_module(), make_tenant_module()
    tid, (a, b) = victim.tenant_id, victim.clients
    today = dt.datetime.now(dt.UTC).date()
    rng = random.Random(7)
    totals: dict[dt.date, MetricRow] = {}
    adsets: dict[tuple[dt.date, str], MetricRow] = {}
    engine = create_engine(stack.owner_url())
    with Session(engine) as s, s.begin():
        s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        camp = _campaign(s, tid, a, "Search prospecting", today - dt.timedelta(days=DAYS))
        other = _campaign(s, tid, b, "Other client's campaign", today - dt.timedelta(days=DAYS))
        rows: list[MetricRow] = []
        for k in range(1, DAYS + 1):
            day = today - dt.timedelta(days=k)
            recent = k <= 30
            spend = 100 * math.exp(rng.gauss(0, 0.08)) * (5 if k == SPIKE else 1)
            share_good = 0.4 if recent else 0.6
            cpm, ctr = (11.8, 0.0204) if recent else (10.0, 0.02)
            good_spend = D(str(round(spend * share_good, 2)))
            bad_spend = D(str(round(spend, 2))) - good_spend
            pair = [
                _adset(camp, day, "good", good_spend, cpm, ctr, 0.06),
                _adset(camp, day, "worse", bad_spend, cpm, ctr, 0.03),
            ]
            total = _total(pair)
            totals[day] = total
            adsets[(day, "good")], adsets[(day, "worse")] = pair
            rows += [*pair, total]
        rows.append(_total([_adset(other, today - dt.timedelta(days=1), "x", D(50), 10, 0.02, 0.05)]))
        upsert_metrics(s, tid, rows)
    engine.dispose()
    return {
        "victim": victim,
        "intruder": intruder,
        "campaign": camp,
        "other": other,
        "today": today,
        "totals": totals,
        "adsets": adsets,
    }


def _sums(rows):
    return (
        sum((r.cost for r in rows), D(0)),
        sum(r.impressions for r in rows),
        sum(r.clicks for r in rows),
        sum((r.conversions for r in rows), D(0)),
        sum((r.conversion_value for r in rows), D(0)),
    )


def _period(world, first_k, last_k):
    return [world["totals"][world["today"] - dt.timedelta(days=k)] for k in range(first_k, last_k + 1)]


@pytest.fixture(scope="module")
def body(api, world):
    r = api.get(_url(world["campaign"]), headers=world["victim"].owner.headers)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["insights"] == j["data"]
    return j["insights"]


def test_trends_totals_and_deltas_from_sums(body, world):
    t = body["trends"]
    today = world["today"]
    assert t["period"]["start"] == str(today - dt.timedelta(days=30))
    assert t["period"]["end"] == str(today - dt.timedelta(days=1)) and t["period"]["label"] == "30d"
    assert t["comparison_period"]["end"] == str(today - dt.timedelta(days=31))
    assert len(t["current"]) == 30 and len(t["comparison"]) == 30
    spend, imps, clicks, conv, rev = _sums(_period(world, 1, 30))
    tot = t["totals"]
    assert D(tot["spend"]) == spend and tot["impressions"] == imps and tot["clicks"] == clicks
    assert D(tot["conversions"]) == conv and D(tot["revenue"]) == rev
    assert D(tot["cpa"]) == (spend / conv).quantize(D("0.0001"))
    assert D(tot["cpm"]) == (spend * 1000 / imps).quantize(D("0.0001"))
    assert D(tot["cvr"]) == (conv * 100 / clicks).quantize(D("0.0001"))
    p_spend, *_ = _sums(_period(world, 31, 60))
    delta = {d["metric"]: d for d in t["deltas"]}
    assert D(delta["spend"]["previous"]) == p_spend
    assert D(delta["spend"]["change"]) == spend - p_spend
    day = t["current"][-1]
    row = world["totals"][today - dt.timedelta(days=1)]
    assert day["has_data"] and D(day["spend"]) == row.cost and day["clicks"] == row.clicks


def test_drivers_split_cpa_change_exactly_with_mix_toward_the_worse_ad_set(body, world):
    d = body["drivers"]
    assert d["breakdown_dimension"] == "ad_set" and d["segments"] == 2
    cpa = next(k for k in d["kpis"] if k["kpi"] == "cpa")
    spend1, _, _, conv1, _ = _sums(_period(world, 1, 30))
    spend0, _, _, conv0, _ = _sums(_period(world, 31, 60))
    expected_log = 100 * math.log(float(spend1 / conv1) / float(spend0 / conv0))
    assert math.isclose(cpa["log_points"], expected_log, rel_tol=1e-9)
    parts = {c["name"]: c for c in cpa["components"]}
    assert set(parts) == {"cpm", "ctr", "cvr", "mix"}
    assert math.isclose(sum(c["log_points"] for c in parts.values()), expected_log, rel_tol=1e-9)
    assert math.isclose(sum(c["pct_points"] for c in parts.values()), cpa["change_pct"], rel_tol=1e-9)
    # CPM 10 -> 11.8 inside each ad set: ~ln 1.18; CTR +2 %: ~ -ln 1.02; CVR unchanged inside ad sets: ~0
    assert abs(parts["cpm"]["log_points"] - 100 * math.log(1.18)) < 0.5
    assert abs(parts["ctr"]["log_points"] + 100 * math.log(1.02)) < 0.5
    assert abs(parts["cvr"]["log_points"]) < 0.5

    # mix, by hand: yield y = conversions / spend per ad set, shares w; midpoint shift-share / log mean
    def by_set(first, last, name):
        return _sums(
            [world["adsets"][(world["today"] - dt.timedelta(days=k), name)] for k in range(first, last + 1)]
        )

    mix = 0.0
    for name in ("good", "worse"):
        s1, *_, c1, _ = by_set(1, 30, name)
        s0, *_, c0, _ = by_set(31, 60, name)
        w1, w0 = float(s1 / spend1), float(s0 / spend0)
        mix += (w1 - w0) * (float(c0 / s0) + float(c1 / s1)) / 2
    y0, y1 = float(conv0 / spend0), float(conv1 / spend1)
    expected_mix = -100 * mix * (math.log(y1) - math.log(y0)) / (y1 - y0)
    assert math.isclose(parts["mix"]["log_points"], expected_mix, rel_tol=1e-9)
    # 60/40 -> 40/60 toward half the CVR: conversions per dollar 0.8 -> 0.7 of the good set's, ln(0.8/0.7) = 13.4
    assert abs(parts["mix"]["log_points"] - 100 * math.log(0.8 / 0.7)) < 0.5
    assert cpa["summary"].startswith(f"CPA rose {cpa['change_pct']:.1f} %: ")
    assert "mix across ad sets" in cpa["summary"] and "higher CPM" in cpa["summary"]


def test_injected_spike_is_an_anomaly_on_that_date(body, world):
    a = body["anomalies"]
    spike_day = str(world["today"] - dt.timedelta(days=SPIKE))
    hits = {(i["date"], i["metric"]): i for i in a["items"]}
    assert (spike_day, "cost") in hits, a["items"]
    cost = hits[(spike_day, "cost")]
    assert cost["direction"] == "up" and cost["score"] > 3.5 and cost["value"] > cost["band"][1]
    assert (spike_day, "impressions") in hits and (spike_day, "clicks") in hits
    assert a["evaluated_to"] == str(world["today"] - dt.timedelta(days=1))
    n_days = (world["today"] - dt.date.fromisoformat(a["evaluated_from"])).days
    assert n_days >= 56


def test_forecast_pacing_curve_experiments_and_data(body, world):
    today = world["today"]
    f = body["forecast"]
    assert f["available"] and f["currency"] == "USD"
    month_end = today.replace(day=28) + dt.timedelta(days=4)
    assert f["horizon_end"] == str(month_end - dt.timedelta(days=month_end.day))
    recent = [float(world["totals"][today - dt.timedelta(days=k)].cost) for k in range(1, 15)]
    assert math.isclose(f["daily_spend_rate"], sum(recent) / 14, rel_tol=1e-6)
    for m in ("spend", "conversions", "revenue"):
        q = f[m]["remaining"]
        assert 0 < q["p10"] <= q["p50"] <= q["p90"]
        assert math.isclose(f[m]["total"]["p50"], f[m]["to_date"] + q["p50"], rel_tol=1e-9)
    assert "fitted funnel response" in f["basis"]

    p = body["pacing"]
    elapsed = today.day - 1
    if elapsed == 0:
        assert p["status"] == "too_early"
    else:
        mtd = sum(world["totals"][today - dt.timedelta(days=k)].cost for k in range(1, today.day))
        assert D(p["month_to_date_spend"]) == mtd
        assert D(p["expected_to_date"]) == 100 * elapsed
        assert p["status"] in {"on_track", "under", "over"}
        pace = mtd / (100 * elapsed) * 100
        tol = D(p["band"]["tolerance_pct"])
        assert (p["status"] == "on_track") == (100 - tol <= pace <= 100 + tol)

    c = body["response_curve"]
    assert c["marginal_kind"] == "marginal_roas" and c["outcome"] == "revenue"
    p50 = [pt["p50"] for pt in c["points"]]
    assert p50 == sorted(p50) and len(p50) == 7
    assert 0 < c["marginal"]["p50"] < c["average"]  # concave: the next dollar returns less than the average
    assert c["model_basis"] == "history" and c["model_days"] >= 60

    assert body["experiments"]["items"] == [] and "experiments API" in body["experiments"]["note"]
    data = body["data"]
    assert data["currency"] == "USD" and data["time_zone"] == "UTC"
    assert data["attribution_windows"] == ["google_ads_default"] and data["data_through"] == str(
        today - dt.timedelta(days=1)
    )


def test_previous_year_and_validation(api, world):
    owner = world["victim"].owner
    r = api.get(
        _url(world["campaign"]),
        params={"date_range": "7d", "compare": "previous_year"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    t = r.json()["insights"]["trends"]
    assert t["comparison_totals"]["days_with_data"] == 0
    cpa = next(k for k in r.json()["insights"]["drivers"]["kpis"] if k["kpi"] == "cpa")
    assert cpa["reason"] and "no decomposition" in cpa["summary"]
    bad = api.get(_url(world["campaign"]), params={"date_range": "12d"}, headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "query.date_range"


def test_isolation(api, world):
    victim, intruder = world["victim"], world["intruder"]
    assert api.get(_url(world["campaign"]), headers=intruder.owner.headers).status_code == 404
    assert api.get(_url(world["other"]), headers=victim.viewer.headers).status_code == 404
    assert api.get(_url(world["other"]), headers=victim.viewer_key.headers).status_code == 404
    assert api.get(_url(uuid.uuid4()), headers=victim.owner.headers).status_code == 404
    assert api.get(_url(world["campaign"]), headers=victim.viewer.headers).status_code == 200
    assert api.get(_url(world["campaign"])).status_code == 401
