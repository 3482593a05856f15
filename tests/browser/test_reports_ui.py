"""Reports in a real browser against the session's local stack (issue 8): from the client view an analyst
generates last week's report; the preview (the rendered HTML the PDF is made from) names the client and the
period and shows KPI figures equal to the API's report; the PDF link serves the PDF; a weekly schedule saved in
the form is listed with what the API stored; a client viewer gets no generate / schedule / send controls and the
API refuses them too."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.browser.conftest import connect_simulated_account, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.stack]

TODAY = dt.datetime.now(dt.UTC).date()
# the last complete Monday-Sunday week: what period=last_week means for a UTC client
WEEK_END = TODAY - dt.timedelta(days=TODAY.isoweekday())
WEEK_START = WEEK_END - dt.timedelta(days=6)


@pytest.fixture(scope="module")
def world(make_tenant_module: Any, stack: Any, api: Any, drain_sync: Any) -> Any:
    w = make_tenant_module("Browser reports")
    connect_simulated_account(
        stack,
        api,
        drain_sync,
        w,
        [{"id": "9101", "name": "Search generic", "budget": "120"}],
        history_days=30,
    )
    return w


def _number(shown: str) -> tuple[Decimal, int]:
    """'USD 1,234.56' / '2.11 %' / '12.30x' / '81,630' -> (value, decimals shown)."""
    m = re.search(r"-?[\d,]+(?:\.(\d+))?", shown)
    assert m, f"no number in {shown!r}"
    return Decimal(m.group(0).replace(",", "")), len(m.group(1) or "")


def _reports(api: Any, world: Any) -> list[dict[str, Any]]:
    r = api.get("/api/v1/reports", params={"client_id": str(world.clients[0])}, headers=world.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]["items"]


def test_generate_preview_pdf_and_schedule(page: Any, world: Any, api: Any) -> None:
    client = api.get(f"/api/v1/clients/{world.clients[0]}", headers=world.owner.headers).json()["data"]
    sign_in(page, world.analyst.email, world.analyst.password)
    page.get_by_test_id("overview-table").wait_for()
    page.goto(f"/clients/{world.clients[0]}")
    reports = page.get_by_test_id("reports")
    reports.get_by_text("No reports yet for this client.").wait_for()

    # -- generate last week's report ----------------------------------------------------------------------
    reports.get_by_label("Period").select_option("last_week")
    reports.get_by_role("button", name="Generate report").click()
    preview = page.get_by_test_id("report-preview")
    preview.wait_for(timeout=40_000)
    (listed,) = _reports(api, world)
    assert listed["status"] == "ready" and listed["created_by"] == f"user:{world.analyst.user_id}"
    assert (listed["period_start"], listed["period_end"]) == (WEEK_START.isoformat(), WEEK_END.isoformat())
    report = api.get(f"/api/v1/reports/{listed['id']}", headers=world.owner.headers).json()["data"]
    data = report["data"]
    assert data["client"]["name"] == client["name"]

    # The list row: title, version and period.
    row = reports.locator("tbody tr", has_text=report["title"])
    assert f"{report['title']} (v1)" in row.inner_text()
    assert row.locator("td").nth(1).get_attribute("title") == "week"

    # -- the preview: client, period and every KPI figure as the API reports it ---------------------------
    assert preview.locator("span.font-semibold").inner_text() == report["title"]
    frame = page.frame_locator("iframe[title='Report preview']")
    meta = frame.locator("header .meta").first
    meta.wait_for()
    meta_text = meta.inner_text()
    assert client["name"] in meta_text
    assert data["period"]["description"] in meta_text
    assert f"{WEEK_START:%-d %b %Y} - {WEEK_END:%-d %b %Y}" in meta_text
    table = frame.locator("table", has=frame.locator("th", has_text="This period")).first
    shown = {
        cells[0]: cells
        for cells in (r.locator("td").all_inner_texts() for r in table.locator("tr").all())
        if cells
    }
    assert [k["label"] for k in data["kpis"]] == list(shown)
    assert len(shown) >= 6
    for k in data["kpis"]:
        cells = shown[k["label"]]
        for api_value, text in ((k["value"], cells[1]), (k["previous"], cells[2])):
            if api_value is None:
                assert text.strip() in ("-", "n/a", "—"), (k["label"], text)
                continue
            value, places = _number(text)
            # equal to the API's figure at the precision shown
            assert abs(value - Decimal(api_value)) <= Decimal(5) / 10 ** (places + 1), (
                k["label"],
                text,
                api_value,
            )
        if k["change_pct"] is not None:
            value, places = _number(cells[3])
            assert abs(value - Decimal(k["change_pct"])) <= Decimal(5) / 10 ** (places + 1), k["label"]
    spend = next(k for k in data["kpis"] if k["kpi"] == "spend")
    assert Decimal(spend["value"]) > 0  # a real week of synced spend, not an empty report

    # -- the PDF link works -------------------------------------------------------------------------------
    href = preview.get_by_role("link", name="Open PDF").get_attribute("href")
    pdf = httpx.get(href, timeout=20)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) == report["pdf_bytes"]

    # -- schedule a weekly report: listed as the API stored it --------------------------------------------
    reports.get_by_role("button", name="Schedule", exact=True).click()
    form = page.locator("#schedule-form")
    form.get_by_label("Frequency").select_option("weekly")
    form.get_by_label(re.compile("^Recipients")).fill("ops@client.example, ceo@client.example")
    form.get_by_role("button", name="Save schedule").click()
    item = reports.locator("li", has_text="weekly")
    item.wait_for()
    r = api.get(
        "/api/v1/report-schedules", params={"client_id": str(world.clients[0])}, headers=world.owner.headers
    )
    (schedule,) = r.json()["data"]["items"]
    assert schedule["frequency"] == "weekly" and schedule["active"] is True
    assert schedule["recipients"] == ["ops@client.example", "ceo@client.example"]
    assert (
        item.inner_text()
        .strip()
        .startswith(
            f"{schedule['name']}: weekly, day {schedule['day_of_week']} at {schedule['send_hour']}:00 "
            f"{schedule['time_zone']} → ops@client.example, ceo@client.example"
        )
    )
    assert not form.is_visible()  # the form closes once saved


def test_client_viewer_cannot_generate_schedule_or_send(page: Any, world: Any, api: Any) -> None:
    client = str(world.clients[0])
    made = api.post(
        "/api/v1/reports/generate",
        json={"client_id": client, "period": "last_week"},
        headers=world.analyst.headers,
    )
    assert made.status_code == 201, made.text
    report_id = made.json()["data"]["id"]

    sign_in(page, world.viewer.email, world.viewer.password)
    page.wait_for_url("**/portal")
    page.get_by_test_id("kpi-tiles").wait_for()
    reports = page.get_by_test_id("reports")
    reports.locator("tbody tr").first.wait_for()  # the viewer reads its client's reports
    assert reports.get_by_role("button", name="Generate report").count() == 0
    assert reports.get_by_role("button", name="Schedule", exact=True).count() == 0
    assert reports.get_by_role("button", name="Send").count() == 0
    assert page.locator("#schedule-form").is_hidden()

    # The API behind the page refuses the same actions, whatever the page shows.
    headers = world.viewer.headers
    generate = api.post(
        "/api/v1/reports/generate", json={"client_id": client, "period": "last_week"}, headers=headers
    )
    send = api.post(f"/api/v1/reports/{report_id}/send", json={}, headers=headers)
    schedule = api.post(
        "/api/v1/report-schedules", json={"client_id": client, "frequency": "weekly"}, headers=headers
    )
    assert (generate.status_code, send.status_code, schedule.status_code) == (403, 403, 403)
    # Nothing was written by the refused calls.
    assert [r["id"] for r in _reports(api, world) if r["created_by"] == f"user:{world.viewer.user_id}"] == []
    got = api.get(f"/api/v1/reports/{report_id}", headers=world.owner.headers).json()["data"]
    assert got["status"] == "ready" and got["sent_at"] is None
